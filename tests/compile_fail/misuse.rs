// SPDX-License-Identifier: GPL-2.0

//! Misuses of the wrapper layer that must not compile (README, "How the kernel calls into
//! Rust"). `scripts/compile-fail` builds the module with this file as one more module of the
//! crate and passes only if rustc reports each `// error: E…` below on the line after it,
//! and no other error.

#![allow(dead_code, unused)]

use crate::nf::conn::{Conn, CtInfo, Direction};
use crate::nf::expect::{Expectation, Expected, NatMapping, Registered};
use crate::nf::helper::{BindHelper, ModuleHelper, PacketConn};
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

/// A NAT expectation's mapping is set before it is registered, not after.
fn nat_after_register(mut exp: Expectation) {
    let _ = exp.register();
    // error: E0382
    exp.expect_nat(Direction::Reply, NatMapping::FollowMaster);
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

/// A second helper type for the module's callbacks (the help data of every conntrack they
/// serve is the one bound type's).
struct OtherHelper;
// error: E0119
impl BindHelper for ModuleHelper {
    type Helper = OtherHelper;
}

static FLAG: BoolParam = BoolParam::new(false);
// Each of VERIFY_OCTAL_PERMISSIONS' rules.
// error: E0080 parameter mode is not a permission
static NOT_A_MODE: Static<kernel_param> = FLAG.descriptor(c"a", 0o1644);
// error: E0080 group may not read what the owner cannot
static GROUP_READS_MORE: Static<kernel_param> = FLAG.descriptor(c"b", 0o040);
// error: E0080 others may not read what the group cannot
static OTHERS_READ_MORE: Static<kernel_param> = FLAG.descriptor(c"c", 0o404);
// error: E0080 group may not write what the owner cannot
static GROUP_WRITES_MORE: Static<kernel_param> = FLAG.descriptor(c"d", 0o460);
// error: E0080 parameter must not be world-writable
static WORLD_WRITABLE: Static<kernel_param> = FLAG.descriptor(c"e", 0o666);

static PORTS: U16ArrayParam<2> = U16ArrayParam::new();
static PORTS_ARRAY: Static<kparam_array> = PORTS.array();
/// An array parameter writable through sysfs (its value is fixed once loaded).
// error: E0080 an array parameter must not be writable through sysfs
static WRITABLE_ARRAY: Static<kernel_param> = PORTS_ARRAY.array_param(c"ports", 0o600);
