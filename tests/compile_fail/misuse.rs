// SPDX-License-Identifier: GPL-2.0

//! Misuses of the wrapper layer that must not compile (README, "How the kernel calls into
//! Rust"). `scripts/compile-fail` builds the module with this file as one more module of the
//! crate and passes only if rustc reports each `// error: E…` below on the line after it,
//! and no other error.

#![allow(dead_code, unused)]

use crate::nf::conn::{Conn, CtInfo};
use crate::nf::expect::{Expectation, Expected, Registered};
use crate::nf::helper::PacketConn;
use crate::nf::nat::{mangle_tcp, NatArrival, NatRange};
use crate::nf::param::{BoolParam, Static, U16ArrayParam};
use crate::nf::skb::Skb;
use kernel::bindings::{kernel_param, kparam_array};

/// An expectation on a conntrack that is not the packet's (ctnetlink's unconfirmed one).
fn expect_on_any_conntrack(ct: &Conn, what: &Expected) {
    // error: E0308
    let _ = Expectation::new(ct, what);
}

/// The packet path's token made anywhere but in the help entry point.
fn forge_packet_conn(ct: &Conn) {
    // error: E0423
    let _ = PacketConn(ct);
}

/// An expectation is consumed by registering it.
fn use_after_register(exp: Expectation) {
    let _ = exp.register();
    // error: E0382
    let _ = exp.dst_port();
}

/// A registered expectation is consumed by unregistering it.
fn unregister_twice(reg: Registered) {
    reg.unregister();
    // error: E0382
    reg.unregister();
}

/// No slice of the packet outlives a rewrite that may reallocate it.
fn slice_across_rewrite(skb: &mut Skb, ct: &Conn, info: CtInfo) {
    let payload = skb.linear(40, 4);
    // error: E0502
    mangle_tcp(skb, ct, info, 20, 0, 4, b"PORT");
    let _ = payload;
}

/// An arriving connection's NAT is set up at most once.
fn map_twice(arrival: NatArrival<'_>, range: NatRange) {
    arrival.map(range, range);
    // error: E0382
    arrival.map(range, range);
}

/// A parameter descriptor only from the typed constructors, which pair ops and value.
fn forge_descriptor(param: kernel_param) {
    // error: E0423
    let _ = Static(param);
}

static FLAG: BoolParam = BoolParam::new(false);
/// A world-writable parameter.
// error: E0080
static WORLD_WRITABLE: Static<kernel_param> = FLAG.descriptor(c"flag", 0o666);

static PORTS: U16ArrayParam<2> = U16ArrayParam::new();
static PORTS_ARRAY: Static<kparam_array> = PORTS.array();
/// An array parameter writable through sysfs (its value is fixed once loaded).
// error: E0080
static WRITABLE_ARRAY: Static<kernel_param> = PORTS_ARRAY.array_param(c"ports", 0o600);
