// SPDX-License-Identifier: GPL-2.0
/*
 * The helper callbacks with their C types, for kCFI: see trampolines.h. The help data and the
 * namespace's state are looked up here, where nfct_help() and net_generic() are inline,
 * rather than through calls: none on every packet.
 */

#include "trampolines.h"
#include "netns.h"
#include <net/netfilter/nf_conntrack_helper.h>

/*
 * The help data of ct, or NULL if it has no help extension. Spelled out rather than
 * nfct_help_data(): before its 2026 fix, that dereferenced a missing extension.
 */
static void *nf_ftp_rs_help_data(const struct nf_conn *ct)
{
	struct nf_conn_help *help = nfct_help(ct);

	return help ? (void *)help->data : NULL;
}

int nf_ftp_rs_help(struct sk_buff *skb, unsigned int protoff, struct nf_conn *ct,
		   enum ip_conntrack_info ctinfo)
{
	return nf_ftp_rs_help_rust(skb, protoff, ct, ctinfo, nf_ftp_rs_help_data(ct),
				   nf_ftp_rs_net_of(ct));
}

int nf_ftp_rs_from_nlattr(struct nlattr *attr, struct nf_conn *ct)
{
	return nf_ftp_rs_from_nlattr_rust(attr, ct, nf_ftp_rs_help_data(ct));
}

void nf_ftp_rs_nat_expected(struct nf_conn *ct, struct nf_conntrack_expect *exp)
{
	nf_ftp_rs_nat_expected_rust(ct, exp);
}

int nf_ftp_rs_nat_ports_set(const char *val, const struct kernel_param *kp)
{
	return nf_ftp_rs_nat_ports_set_rust(val, kp);
}

int nf_ftp_rs_nat_ports_get(char *buffer, const struct kernel_param *kp)
{
	return nf_ftp_rs_nat_ports_get_rust(buffer, kp);
}

int nf_ftp_rs_bool_set(const char *val, const struct kernel_param *kp)
{
	return nf_ftp_rs_bool_set_rust(val, kp);
}
