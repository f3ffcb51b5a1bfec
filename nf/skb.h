/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Copying a packet's bytes, for nf/skb.rs: what skb_copy_bits() does, with a short path for
 * bytes that lie in one page fragment, through what the kernel has only as inline functions
 * (skb_frag_address_safe(), skb_frags_readable()).
 */
#ifndef NF_FTP_RS_SKB_H
#define NF_FTP_RS_SKB_H

#include <linux/skbuff.h>

/*
 * Copies the len bytes at offset of skb to to, as skb_copy_bits() does: 0, or -EFAULT if the
 * packet is shorter.
 */
int nf_ftp_rs_copy_bits(const struct sk_buff *skb, unsigned int offset, void *to,
			unsigned int len);

#endif
