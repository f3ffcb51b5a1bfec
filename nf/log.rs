// SPDX-License-Identifier: GPL-2.0

//! `nf_ct_helper_log`: the conntrack helper's own log line, through the netfilter logger
//! ("nf_ct_<helper>: dropping packet: <message>"), as `nf_conntrack_log_invalid` and
//! `nf_log` settings decide.

use super::bindings;
use super::conn::Conn;
use super::skb::Skb;
use kernel::str::{CStr, CStrExt};

/// Logs `msg` for the packet `skb` of connection `ct`.
pub(crate) fn helper_log(skb: &Skb, ct: &Conn, msg: &CStr) {
    // SAFETY: `skb` and `ct` are valid; the format takes exactly one string argument and
    // `msg` is NUL-terminated.
    unsafe {
        bindings::nf_ct_helper_log(
            skb.as_ptr(),
            ct.as_ptr(),
            c"%s".as_char_ptr(),
            msg.as_char_ptr(),
        )
    };
}
