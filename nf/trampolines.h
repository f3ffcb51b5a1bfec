/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The helper's `help` as the conntrack core calls it: a C function of the exact prototype of
 * `struct nf_conntrack_helper`'s `help`, for kCFI (its `enum ip_conntrack_info` has no Rust
 * equivalent that hashes alike; see nf/adapter.rs). It calls the Rust end directly.
 */
#ifndef NF_FTP_RS_TRAMPOLINES_H
#define NF_FTP_RS_TRAMPOLINES_H

#include <linux/skbuff.h>
#include <net/netfilter/nf_conntrack.h>

int nf_ftp_rs_help(struct sk_buff *skb, unsigned int protoff, struct nf_conn *ct,
		   enum ip_conntrack_info ctinfo);

/* The help extension's data of ct (NULL without one), for from_nlattr (nf/adapter.rs). */
void *nf_ftp_rs_help_data(const struct nf_conn *ct);

/* The Rust end, in nf/adapter.rs. help_data: the help extension's data, NULL without one;
 * net: nf_ftp_rs_net_of(ct). */
struct nf_ftp_rs_net;
int nf_ftp_rs_help_rust(struct sk_buff *skb, unsigned int protoff, struct nf_conn *ct,
			unsigned int ctinfo, void *help_data, struct nf_ftp_rs_net *net);

#endif
