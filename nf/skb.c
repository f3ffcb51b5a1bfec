// SPDX-License-Identifier: GPL-2.0
/*
 * A packet's bytes in place in a page fragment (skb.h; nf/skb.rs says where it is used): a
 * local socket, veth, GSO and GRO put a control connection's payload in page fragments,
 * which would otherwise be copied to be parsed.
 */

#include "skb.h"

const u8 *nf_ftp_rs_frag_bytes(const struct sk_buff *skb, unsigned int offset,
			       unsigned int len)
{
	const struct skb_shared_info *shinfo = skb_shinfo(skb);
	unsigned int start = skb_headlen(skb);
	unsigned int i;

	/*
	 * Copied instead: fragments that may change while the packet is handled (spliced,
	 * vmspliced and sendfile()'d pages, MSG_ZEROCOPY's user pages: the kernel flags both),
	 * fragments of device memory (unreadable), and highmem pages, which have no lasting
	 * address (no 64-bit kernel has them).
	 */
	if (IS_ENABLED(CONFIG_HIGHMEM) || !skb_frags_readable(skb) ||
	    (shinfo->flags & (SKBFL_SHARED_FRAG | SKBFL_ZEROCOPY_ENABLE)) || !len ||
	    offset < start)
		return NULL;
	for (i = 0; i < shinfo->nr_frags; i++) {
		const skb_frag_t *frag = &shinfo->frags[i];
		unsigned int size = skb_frag_size(frag);
		const u8 *addr;

		if (offset - start >= size) {
			start += size;
			continue;
		}
		/* All of them in this fragment, or none read in place. */
		if (len > size - (offset - start))
			return NULL;
		addr = skb_frag_address_safe(frag);
		return addr ? addr + (offset - start) : NULL;
	}
	return NULL;
}
