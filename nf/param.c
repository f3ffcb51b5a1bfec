// SPDX-License-Identifier: GPL-2.0
/*
 * The module's parameters, declared with the kernel's own macros: Rust's module! cannot
 * declare an array, a bool writable at run time or custom ops. The kernel parses the values
 * (and checks the modes, VERIFY_OCTAL_PERMISSIONS) before init() runs; nf/param.rs reads
 * them, nf/adapter.rs has the ops of the two that Rust owns.
 */
#include "param.h"

unsigned short nf_ftp_rs_ports[NF_FTP_RS_MAX_PORTS];
unsigned int nf_ftp_rs_ports_count;
/* Read-only: nf/param.rs reads the array without a lock once the module runs. */
#define NF_FTP_RS_PORTS_MODE 0400
static_assert(!(NF_FTP_RS_PORTS_MODE & 0222), "ports= must not be writable through sysfs");
module_param_array_named(ports, nf_ftp_rs_ports, ushort, &nf_ftp_rs_ports_count,
			 NF_FTP_RS_PORTS_MODE);
MODULE_PARM_DESC(ports, "Port numbers of FTP servers to track (up to 8; default 21)");

static const struct kernel_param_ops nf_ftp_rs_loose_ops = {
	/* As param_ops_bool: a bare `loose` means loose=1. */
	.flags = KERNEL_PARAM_OPS_FL_NOARG,
	.set = nf_ftp_rs_loose_set,
	.get = param_get_bool,
};
module_param_cb(loose, &nf_ftp_rs_loose_ops, &nf_ftp_rs_loose, 0600);
__MODULE_PARM_TYPE(loose, "bool");
MODULE_PARM_DESC(loose, "Accept PORT/EPRT/PASV addresses that differ from the peer's (default N)");

static const struct kernel_param_ops nf_ftp_rs_nat_ports_ops = {
	.set = nf_ftp_rs_nat_ports_set,
	.get = nf_ftp_rs_nat_ports_get,
};
module_param_cb(nat_ports, &nf_ftp_rs_nat_ports_ops, NULL, 0644);
__MODULE_PARM_TYPE(nat_ports, "string");
MODULE_PARM_DESC(nat_ports, "Under NAT, announce and source-map FTP data connections on ports FIRST-LAST only (default: none, as nf_nat_ftp)");
