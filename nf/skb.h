/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A packet's bytes in place in one of its page fragments, for nf/skb.rs: what the kernel has
 * only as inline functions (skb_frag_address_safe(), skb_frags_readable()).
 */
#ifndef NF_FTP_RS_SKB_H
#define NF_FTP_RS_SKB_H

#include <linux/skbuff.h>

/*
 * The len bytes at offset of skb where they lie within one page fragment that no one else
 * writes: in the kernel's direct map, readable for as long as the packet holds the fragment
 * (until it is changed or freed). NULL otherwise: then they are to be copied.
 */
const u8 *nf_ftp_rs_frag_bytes(const struct sk_buff *skb, unsigned int offset,
			       unsigned int len);

#endif
