/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The module's parameters (nf/param.c): the storage of `ports`, read by nf/param.rs; the
 * ops of `loose` and `nat_ports`, in nf/adapter.rs.
 */
#ifndef NF_FTP_RS_PARAM_H
#define NF_FTP_RS_PARAM_H

#include <linux/moduleparam.h>

/* At most this many ports, as the C helper of 7.2 (MAX_PORTS). */
#define NF_FTP_RS_MAX_PORTS 8

/* ports=: written by the kernel only while the module loads (its mode is read-only). */
extern unsigned short nf_ftp_rs_ports[NF_FTP_RS_MAX_PORTS];
extern unsigned int nf_ftp_rs_ports_count;

/* loose=: a Rust AtomicBool (nf/param.rs), which has bool's layout. */
extern bool nf_ftp_rs_loose;

/* The ops of loose and nat_ports: entry points in nf/adapter.rs. */
int nf_ftp_rs_loose_set(const char *val, const struct kernel_param *kp);
int nf_ftp_rs_nat_ports_set(const char *val, const struct kernel_param *kp);
int nf_ftp_rs_nat_ports_get(char *buffer, const struct kernel_param *kp);

#endif
