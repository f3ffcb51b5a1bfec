// SPDX-License-Identifier: GPL-2.0
/* Per-namespace state: the C side of nf/netns.rs (see netns.h). */

#include <linux/proc_fs.h>
#include <linux/seq_file_net.h>
#include "netns.h"

unsigned int nf_ftp_rs_net_id __read_mostly;

struct pernet_operations nf_ftp_rs_net_ops = {
	.init = nf_ftp_rs_net_init,
	.exit = nf_ftp_rs_net_exit,
	.id = &nf_ftp_rs_net_id,
	.size = sizeof(struct nf_ftp_rs_net),
};

struct nf_ftp_rs_net *nf_ftp_rs_net_generic(struct net *net)
{
	return net_generic(net, nf_ftp_rs_net_id);
}

struct nf_ftp_rs_net *nf_ftp_rs_net_of_seq(struct seq_file *seq)
{
	return nf_ftp_rs_net_generic(seq_file_single_net(seq));
}

struct proc_dir_entry *nf_ftp_rs_net_proc_create(struct net *net, const char *name)
{
	return proc_create_net_single(name, 0444, net->proc_net, nf_ftp_rs_net_show, NULL);
}

void nf_ftp_rs_net_proc_remove(struct net *net, const char *name)
{
	remove_proc_entry(name, net->proc_net);
}

unsigned long __percpu *nf_ftp_rs_net_alloc(unsigned int count)
{
	return __alloc_percpu(count * sizeof(unsigned long), sizeof(unsigned long));
}

void nf_ftp_rs_net_count(struct nf_ftp_rs_net *n, unsigned int i)
{
	/* A native word (netns.h): its reads never tear, so no u64_stats_sync is needed. */
	if (likely(n->counters && i < n->count))
		this_cpu_inc(n->counters[i]);
}

u64 nf_ftp_rs_net_sum(const struct nf_ftp_rs_net *n, unsigned int i)
{
	u64 sum = 0;
	int cpu;

	if (!n->counters || i >= n->count)
		return 0;
	for_each_possible_cpu(cpu)
		sum += READ_ONCE(per_cpu_ptr(n->counters, cpu)[i]);
	return sum;
}
