// SPDX-License-Identifier: GPL-2.0
/*
 * Copying a packet's bytes (skb.h). A local socket, veth, GSO and GRO put a control
 * connection's payload in page fragments, usually in one: those bytes are copied with one
 * memcpy() from the fragment's address, without skb_copy_bits()'s general walk (a call, and
 * a map and unmap per page), which costs more than the copy of a control line.
 */

#include "skb.h"

int nf_ftp_rs_copy_bits(const struct sk_buff *skb, unsigned int offset, void *to,
			unsigned int len)
{
	const struct skb_shared_info *shinfo = skb_shinfo(skb);
	unsigned int start = skb_headlen(skb);
	unsigned int i;

	/*
	 * Highmem pages have no lasting address (no 64-bit kernel has them); device memory
	 * (unreadable fragments) none at all: skb_copy_bits() handles both.
	 */
	if (IS_ENABLED(CONFIG_HIGHMEM) || !skb_frags_readable(skb) || offset < start || !len)
		goto general;
	for (i = 0; i < shinfo->nr_frags; i++) {
		const skb_frag_t *frag = &shinfo->frags[i];
		unsigned int size = skb_frag_size(frag);
		const u8 *addr;

		if (offset - start >= size) {
			start += size;
			continue;
		}
		/* All of them in this fragment, or the general walk. */
		if (len > size - (offset - start))
			break;
		addr = skb_frag_address_safe(frag);
		if (!addr)
			break;
		memcpy(to, addr + (offset - start), len);
		return 0;
	}
general:
	if (offset > INT_MAX || len > INT_MAX)
		return -EFAULT;
	return skb_copy_bits(skb, offset, to, len);
}
