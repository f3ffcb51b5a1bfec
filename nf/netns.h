/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Per-network-namespace state of nf/netns.rs: its pernet_operations (whose callbacks are in
 * nf/adapter.rs), and what the kernel has only as macros or inline functions: the per-CPU
 * counter operations (this_cpu_inc(), per_cpu_ptr()) and net_generic().
 */
#ifndef NF_FTP_RS_NETNS_H
#define NF_FTP_RS_NETNS_H

#include <linux/types.h>
#include <linux/percpu.h>
#include <linux/seq_file.h>
#include <net/net_namespace.h>
#include <net/netfilter/nf_conntrack.h>
#include <net/netns/generic.h>

/* What each namespace holds (net_generic()): set up and torn down by the Rust ends. */
struct nf_ftp_rs_net {
	/*
	 * `count` counters per CPU; NULL outside init..exit. One native word each, so that a
	 * read on another CPU never sees half an update (a u64 would tear on 32-bit); there a
	 * CPU's count wraps at 2^32, as the kernel's own unsigned long net counters do.
	 */
	unsigned long __percpu *counters;
	unsigned int count;
};

/* Its callbacks and the /proc/net file's show: entry points in nf/adapter.rs. */
int nf_ftp_rs_net_init(struct net *net);
void nf_ftp_rs_net_exit(struct net *net);
int nf_ftp_rs_net_show(struct seq_file *seq, void *v);

/* Registered by nf/netns.rs with register_pernet_subsys(). */
extern struct pernet_operations nf_ftp_rs_net_ops;

/* The state of `net`, and of the namespace of a /proc/net file being shown. */
struct nf_ftp_rs_net *nf_ftp_rs_net_generic(struct net *net);
struct nf_ftp_rs_net *nf_ftp_rs_net_of_seq(struct seq_file *seq);

/* Creates /proc/net/<name> in `net`, shown by nf_ftp_rs_net_show (nf/adapter.rs); NULL on
 * failure. */
struct proc_dir_entry *nf_ftp_rs_net_proc_create(struct net *net, const char *name);
void nf_ftp_rs_net_proc_remove(struct net *net, const char *name);

/* `count` zeroed counters per CPU (__alloc_percpu() is a macro); NULL on failure. */
unsigned long __percpu *nf_ftp_rs_net_alloc(unsigned int count);

/*
 * The state of the namespace `ct` lives in, for the help trampoline: net_generic() without
 * its rcu_read_lock()/rcu_read_unlock(), which on a preemptible-RCU kernel (Debian's) are two
 * calls on every packet. The conntrack core calls helpers inside an RCU read-side section of
 * some flavour (nf_hook(); tc act_ct and Open vSwitch under rcu_read_lock_bh()), which is
 * what keeps net->gen alive; lockdep checks it here.
 */
extern unsigned int nf_ftp_rs_net_id;
static inline struct nf_ftp_rs_net *nf_ftp_rs_net_of(const struct nf_conn *ct)
{
	struct net_generic *ng = rcu_dereference_check(nf_ct_net(ct)->gen,
						       rcu_read_lock_any_held());

	return ng->ptr[nf_ftp_rs_net_id];
}
/* Adds one to counter `i` on this CPU, if the namespace has it (nf/netns.rs does it inline on
 * x86-64 SMP kernels). */
void nf_ftp_rs_net_count(struct nf_ftp_rs_net *n, unsigned int i);
/* The sum over all CPUs of counter `i` (0 if the namespace has no such counter). */
u64 nf_ftp_rs_net_sum(const struct nf_ftp_rs_net *n, unsigned int i);

#endif
