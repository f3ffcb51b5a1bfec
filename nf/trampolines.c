// SPDX-License-Identifier: GPL-2.0
/*
 * The one C trampoline (trampolines.h; nf/adapter.rs says why only `help` needs one). The
 * help data and the namespace's state are looked up here, where nfct_help() and
 * net_generic() are inline, rather than through calls: none on every packet.
 */

#include "trampolines.h"
#include "netns.h"
#include <net/netfilter/nf_conntrack_helper.h>

/*
 * The help data of ct, or NULL if it has no help extension. Spelled out rather than
 * nfct_help_data(): before its 2026 fix, that dereferenced a missing extension.
 */
static __always_inline void *help_data(const struct nf_conn *ct)
{
	struct nf_conn_help *help = nfct_help(ct);

	return help ? (void *)help->data : NULL;
}

int nf_ftp_rs_help(struct sk_buff *skb, unsigned int protoff, struct nf_conn *ct,
		   enum ip_conntrack_info ctinfo)
{
	return nf_ftp_rs_help_rust(skb, protoff, ct, ctinfo, help_data(ct), nf_ftp_rs_net_of(ct));
}

void *nf_ftp_rs_help_data(const struct nf_conn *ct)
{
	return help_data(ct);
}
