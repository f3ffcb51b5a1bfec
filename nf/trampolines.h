/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The helper callbacks as the conntrack core calls them: C functions with the exact
 * prototypes of `struct nf_conntrack_helper`'s function pointers.
 *
 * Why C: with kCFI (CONFIG_CFI) every indirect call checks a hash of the callee's C type.
 * `help` takes an `enum ip_conntrack_info`; Rust can only say `c_uint`, whose hash differs
 * (enums are not normalized like integers), so a Rust `help` panics the kernel at the first
 * packet. The other callbacks (expectfn, parameter ops) go the same way, so that no function
 * the kernel calls indirectly depends on how Rust encodes its type. These functions carry the
 * right hashes and call the Rust ends directly; a direct call is not checked.
 */
#ifndef NF_FTP_RS_TRAMPOLINES_H
#define NF_FTP_RS_TRAMPOLINES_H

#include <linux/skbuff.h>
#include <net/netfilter/nf_conntrack.h>
#include <net/netlink.h>
#include <linux/moduleparam.h>

struct nf_conntrack_expect;

int nf_ftp_rs_help(struct sk_buff *skb, unsigned int protoff, struct nf_conn *ct,
		   enum ip_conntrack_info ctinfo);
int nf_ftp_rs_from_nlattr(struct nlattr *attr, struct nf_conn *ct);
/* An expectation's expectfn (nf/nat.rs). */
void nf_ftp_rs_nat_expected(struct nf_conn *ct, struct nf_conntrack_expect *exp);
/* The ops of the nat_ports parameter (nf/param.rs). */
int nf_ftp_rs_nat_ports_set(const char *val, const struct kernel_param *kp);
int nf_ftp_rs_nat_ports_get(char *buffer, const struct kernel_param *kp);
/* The set op of bool parameters (nf/param.rs): logs a change at run time. */
int nf_ftp_rs_bool_set(const char *val, const struct kernel_param *kp);

/* The Rust ends, defined in nf/helper.rs. */
struct nf_ftp_rs_net;
/* help_data: the help extension's data (nf_ftp_rs_help_data), NULL without one; net: nf_ftp_rs_net_of(ct). */
int nf_ftp_rs_help_rust(struct sk_buff *skb, unsigned int protoff, struct nf_conn *ct,
			unsigned int ctinfo, void *help_data, struct nf_ftp_rs_net *net);
int nf_ftp_rs_from_nlattr_rust(struct nlattr *attr, struct nf_conn *ct, void *help_data);
/* Defined in nf/nat.rs and nf/param.rs. */
void nf_ftp_rs_nat_expected_rust(struct nf_conn *ct, struct nf_conntrack_expect *exp);
int nf_ftp_rs_nat_ports_set_rust(const char *val, const struct kernel_param *kp);
int nf_ftp_rs_nat_ports_get_rust(char *buffer, const struct kernel_param *kp);
int nf_ftp_rs_bool_set_rust(const char *val, const struct kernel_param *kp);

#endif
