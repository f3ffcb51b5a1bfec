// SPDX-License-Identifier: GPL-2.0

//! Misuses of the wrapper layer that must not compile (README, "How the kernel calls into
//! Rust"). `scripts/compile-fail` builds the module with this file as one more module of the
//! crate and passes only if rustc reports each `// error: E…` below on the line after it,
//! and no other error.

#![allow(dead_code, unused)]

use crate::nf::adapter::{BindHelper, ModuleHelper, PacketConn};
use crate::nf::conn::{Conn, CtInfo, Direction};
use crate::nf::expect::{Expectation, ExpectedConn, NatMapping, RegisteredExpectation};
use crate::nf::nat::{mangle_tcp, NatArrival, NatRange};
use crate::nf::skb::Skb;

/// An expectation on a conntrack that is not the packet's (ctnetlink's unconfirmed one).
fn expect_on_any_conntrack(ct: &Conn, what: &ExpectedConn) {
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
fn unregister_twice(reg: RegisteredExpectation) {
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

/// A second helper type for the module's callbacks (the help data of every conntrack they
/// serve is the one bound type's).
struct OtherHelper;
// error: E0119
impl BindHelper for ModuleHelper {
    type Helper = OtherHelper;
}
