/* What the kernel's FTP parsing functions need, for a host build (see build.rs). */
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

typedef uint8_t u8;
typedef uint16_t u16;
typedef uint32_t u32;
typedef uint32_t __u32;
typedef uint16_t __be16;
typedef uint32_t __be32;

#define pr_debug(...) ((void)0)
#define EXPORT_SYMBOL(sym)
#define min_t(type, x, y) ((type)(x) < (type)(y) ? (type)(x) : (type)(y))
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* The kernel's <linux/ctype.h>: ISO-8859-1 upper case counts too. */
static inline int k_isdigit(int c)
{
	return (unsigned char)c >= '0' && (unsigned char)c <= '9';
}
static inline int k_isupper(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 0xc0 && c <= 0xde && c != 0xd7);
}
static inline unsigned char k_tolower(unsigned char c)
{
	return k_isupper(c) ? c - 'A' + 'a' : c;
}
/* lib/string.c */
static inline int k_strncasecmp(const char *s1, const char *s2, size_t len)
{
	unsigned char c1 = 0, c2 = 0;

	if (!len)
		return 0;
	do {
		c1 = *s1++;
		c2 = *s2++;
		if (!c1 || !c2)
			break;
		if (c1 == c2)
			continue;
		c1 = k_tolower(c1);
		c2 = k_tolower(c2);
		if (c1 != c2)
			break;
	} while (--len);
	return (int)c1 - (int)c2;
}
#define isdigit k_isdigit
#define strncasecmp k_strncasecmp

/* <uapi/linux/netfilter.h>, <net/netfilter/nf_conntrack_tuple.h> */
union nf_inet_addr {
	__u32 all[4];
	__be32 ip;
	__be32 ip6[4];
	struct in_addr in;
	struct in6_addr in6;
};

union nf_conntrack_man_proto {
	__be16 all;
	struct { __be16 port; } tcp;
	struct { __be16 port; } udp;
	struct { __be16 id; } icmp;
};

struct nf_conntrack_man {
	union nf_inet_addr u3;
	union nf_conntrack_man_proto u;
	u_int16_t l3num;
};

enum ip_conntrack_dir { IP_CT_DIR_ORIGINAL, IP_CT_DIR_REPLY, IP_CT_DIR_MAX };

/* <linux/netfilter/nf_conntrack_ftp.h> */
enum nf_ct_ftp_type { NF_CT_FTP_PORT, NF_CT_FTP_PASV, NF_CT_FTP_EPRT, NF_CT_FTP_EPSV };
