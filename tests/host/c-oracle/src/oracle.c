/* Entry points into the kernel's FTP parsing code (extracted.c, made by build.rs). */
#include "shim.h"
#include "extracted.c"

struct ftp_c_result {
	int found;		/* find_pattern(): 1 match, 0 none, -1 partial */
	int kind;		/* enum nf_ct_ftp_type of the row that decided, or -1 */
	unsigned int off;
	unsigned int len;
	unsigned char addr[16];	/* cmd.u3 after parsing (starts as the sender's address) */
	unsigned short port;	/* host order */
};

/* The search loop of help(): rows of search[dir] in order, the first non-zero decides. */
void ftp_c_parse(const unsigned char *data, size_t dlen, int dir, int l3num,
		 const unsigned char sender[16], struct ftp_c_result *r)
{
	struct nf_conntrack_man cmd;
	unsigned int matchoff = 0, matchlen = 0, i;
	int found = 0;

	memset(&cmd, 0, sizeof(cmd));
	cmd.l3num = l3num;
	memcpy(cmd.u3.all, sender, sizeof(cmd.u3.all));
	for (i = 0; i < ARRAY_SIZE(search[dir]); i++) {
		found = find_pattern((const char *)data, dlen, search[dir][i].pattern,
				     search[dir][i].plen, search[dir][i].skip,
				     search[dir][i].term, &matchoff, &matchlen, &cmd,
				     search[dir][i].getnum);
		if (found)
			break;
	}
	r->found = found;
	r->kind = found ? (int)search[dir][i].ftptype : -1;
	r->off = matchoff;
	r->len = matchlen;
	memcpy(r->addr, cmd.u3.all, sizeof(r->addr));
	r->port = ntohs(cmd.u.tcp.port);
}

/* in6_pton() with the length get_ipv6_addr() gives it; returns 1 and the end offset. */
int ftp_c_in6_pton(const unsigned char *src, size_t len, unsigned char dst[16], int delim,
		   size_t *endoff)
{
	const char *end = (const char *)src;
	int ret = in6_pton((const char *)src, min_t(size_t, len, 0xffff), dst, delim, &end);

	*endoff = (size_t)(end - (const char *)src);
	return ret;
}
