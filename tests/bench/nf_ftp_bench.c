// SPDX-License-Identifier: GPL-2.0
/*
 * The kernel side of `make bench` (scripts/bench): calls help() of two FTP conntrack helpers
 * loaded together under different names -- the in-tree C one ("ftp-2121") and
 * nf_conntrack_ftp_rs ("ftp-2122") -- on the same packets, and prints the cost per packet of
 * each packet kind and the aggregate rate with one thread per CPU.
 *
 * The conntracks are real (nf_conntrack_alloc, help extension, the helper looked up by name
 * and referenced as nft's ct helper objects do), established, never confirmed; the packets
 * are real skbs, linear or not. A kind "at a line start" is primed so that every call parses
 * it; expectations are created for real (each call replaces the previous one, as a repeated
 * command does).
 */
#include <linux/module.h>
#include <linux/kthread.h>
#include <linux/skbuff.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <linux/sort.h>
#include <linux/completion.h>
#include <net/checksum.h>
#include <net/netfilter/nf_conntrack.h>
#include <net/netfilter/nf_conntrack_core.h>
#include <net/netfilter/nf_conntrack_expect.h>
#include <net/netfilter/nf_conntrack_helper.h>
#include <net/netfilter/nf_conntrack_zones.h>

static char *c_helper = "ftp-2121";
module_param(c_helper, charp, 0400);
MODULE_PARM_DESC(c_helper, "Name of the C helper (default ftp-2121)");
static char *rust_helper = "ftp-2122";
module_param(rust_helper, charp, 0400);
MODULE_PARM_DESC(rust_helper, "Name of the Rust helper (default ftp-2122)");
static unsigned int iters = 2000;
module_param(iters, uint, 0400);
MODULE_PARM_DESC(iters, "Calls per kind and round (default 2000)");
static unsigned int rounds = 7;
module_param(rounds, uint, 0400);
MODULE_PARM_DESC(rounds, "Rounds; the median is reported (default 7, at most 31)");
static unsigned int mt_packets = 20000;
module_param(mt_packets, uint, 0400);
MODULE_PARM_DESC(mt_packets, "Packets of the mix per CPU in the multi-CPU run (default 20000)");
static unsigned int other_csums = 1;
module_param(other_csums, uint, 0400);
MODULE_PARM_DESC(other_csums, "Other work per packet in the multi-CPU run with other work: checksums of 1,500 bytes (default 1)");
static char *session = "";
module_param(session, charp, 0400);
MODULE_PARM_DESC(session, "The session mix, from this module's counters after real sessions: FIRST,PLAIN,PORT,EPRT,227,229,NONLINEAR_PERCENT (tests/bench/run-in-vm.sh)");

#define MAX_ROUNDS 31
#define SEQ_LINE 100000u	/* where "line start" kinds sit (primed) */
#define SEQ_MID 900000u		/* never a line start */

enum { ORIG, REPLY };

struct kind {
	const char *name;
	int v6;
	int dir;
	int line_start;
	int nonlinear;
	unsigned int len;	/* payload length; 0: strlen(text) */
	const char *text;	/* payload format, %u: the client's last address byte; repeated
				 * to fill long kinds */
	int cmd;		/* what a call must do (the guards check it): enum cmd */
};

/*
 * What a call of a kind does, the same for both helpers: at a line start, parse and find no
 * command (LINE), a complete command that creates an expectation (PORT..EPSV: this module's
 * counter match_port.. and expect_created), or a partial PORT, dropped. NONE: not at a line
 * start, nothing parsed.
 */
enum cmd { NONE, LINE, PORT, EPRT, PASV, EPSV, PARTIAL, NCMD };
static const char *const cmd_counter[NCMD] = {
	"", "", "match_port", "match_eprt", "match_227", "match_229", "partial_dropped",
};

static int cmd_verdict(int cmd)
{
	return cmd == PARTIAL ? NF_DROP : NF_ACCEPT;
}

static int cmd_expects(int cmd)
{
	return cmd >= PORT && cmd <= EPSV;
}

/*
 * The client is 10.0.1.<client> / fd00:1::<client>, the server 10.0.2.2 / fd00:2::2 (as in
 * tests/vm/net.sh); each thread of the multi-CPU run is another client, so that their
 * expectations do not clash.
 */
static const struct kind kinds[] = {
	{ "mid-line 1400 B", 0, ORIG, 0, 0, 1400, "data in the middle of a long line, ", NONE },
	{ "line start, NOOP", 0, ORIG, 1, 0, 0, "NOOP\r\n", LINE },
	{ "line start, 230 reply", 0, REPLY, 1, 0, 0, "230 Login successful.\r\n", LINE },
	{ "PORT", 0, ORIG, 1, 0, 0, "PORT 10,0,1,%u,117,48\r\n", PORT },
	{ "EPRT v4", 0, ORIG, 1, 0, 0, "EPRT |1|10.0.1.%u|30000|\r\n", EPRT },
	{ "EPRT v6", 1, ORIG, 1, 0, 0, "EPRT |2|fd00:1::%x|30000|\r\n", EPRT },
	{ "227", 0, REPLY, 1, 0, 0, "227 Entering Passive Mode (10,0,2,2,117,48).\r\n", PASV },
	{ "229", 0, REPLY, 1, 0, 0, "229 Entering Extended Passive Mode (|||30000|)\r\n", EPSV },
	{ "partial PORT (dropped)", 0, ORIG, 1, 0, 0, "PORT 10,0,1,2,1", PARTIAL },
	{ "multi-line reply 1400 B", 0, REPLY, 1, 0, 1400, "214-The following commands are recognized.\r\n", LINE },
	{ "non-linear 9000 B", 0, ORIG, 1, 1, 9000, "STOR some-file-with-a-long-name.bin\r\n", LINE },
	/* A session's first segment each way: no line start known yet, not parsed. */
	{ "first segment", 0, REPLY, 0, 0, 0, "220 (vsFTPd 3.0.3)\r\n", NONE },
	/* The payload in a page fragment, the headers linear: as a local socket, veth and GSO deliver. */
	{ "non-linear first segment", 0, REPLY, 0, 1, 0, "220 (vsFTPd 3.0.3)\r\n", NONE },
	{ "non-linear NOOP", 0, ORIG, 1, 1, 0, "NOOP\r\n", LINE },
	{ "non-linear 230 reply", 0, REPLY, 1, 1, 0, "230 Login successful.\r\n", LINE },
	{ "non-linear PORT", 0, ORIG, 1, 1, 0, "PORT 10,0,1,%u,117,48\r\n", PORT },
	{ "non-linear EPRT v4", 0, ORIG, 1, 1, 0, "EPRT |1|10.0.1.%u|30000|\r\n", EPRT },
	{ "non-linear 227", 0, REPLY, 1, 1, 0, "227 Entering Passive Mode (10,0,2,2,117,48).\r\n", PASV },
	{ "non-linear 229", 0, REPLY, 1, 1, 0, "229 Entering Extended Passive Mode (|||30000|)\r\n", EPSV },
};

#define NKINDS ARRAY_SIZE(kinds)

/*
 * The hand mix (kept for the multi-CPU runs and to compare with earlier figures): mostly
 * long segments no command is in, a few commands (indexes into kinds[]).
 */
static const u8 mix[] = { 0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 9, 0, 0, 0, 0, 0, 0, 0, 3, 6 };

/*
 * The session mix: the segments of real sessions, as this module counted them (the session
 * parameter): the first segment each way (not parsed), lines without a command (half
 * commands, half replies: every command is answered), and each command, each linear or not
 * in the share counted. Indexes into kinds[], spread evenly.
 */
#define MAX_SMIX 256
static u8 smix[MAX_SMIX];
static unsigned int nsmix;

/* A helper by name, for IPv4 and IPv6 (two helpers up to 7.2), held for the run. */
struct helper_ref {
	const char *name;
	struct nf_conntrack_helper *h4, *h6;
};

static struct helper_ref refs[2];

/*
 * One conntrack and the packet of one kind, for one helper. A non-linear kind has a fresh
 * packet per call (pool), made before the timed calls: a helper may linearize the packet it
 * is given (7.2's C does), as it would each packet once.
 */
struct flow {
	struct nf_conn *ct;
	struct sk_buff *skb;
	unsigned int protoff;
	enum ip_conntrack_info ctinfo;
	const struct kind *kind;
	u8 client;
	struct sk_buff **pool;
	unsigned int npool;
	struct page **pages;	/* the pool's fragment pages, each with a reference of ours */
	unsigned int npages;
	unsigned int who;	/* 0: the C helper, 1: this module */
	u64 calls;		/* help() calls made on this flow */
	u64 wrong;		/* of those, calls whose verdict was not the kind's */
	int shared;		/* another flow's conntrack (not freed here), a copy of its packet */
	unsigned int paylen;	/* the packet's payload bytes */
};

/*
 * The guards: what each helper was asked to do, summed over the flows when they are freed,
 * so that a helper that skipped its work (a wrong verdict, no expectation, fewer lines
 * parsed than the calls made at line starts) fails the run instead of looking fast.
 */
static u64 done_calls[2][NCMD];
/*
 * Of those at a line start, non-linear ones this module copies onto the stack (up to 1,460
 * bytes: STACK_COPY_MAX in nf/skb.rs) or, longer, under its lock.
 */
#define STACK_COPY_MAX 1460
static u64 done_copied[2], done_locked[2];
static u64 wrong_verdicts[2];
static unsigned int missing_expectations[2];
static unsigned int lost_line_starts[2];
static u64 expect_only_failed;

static void fill_tuple(struct nf_conntrack_tuple *t, int v6, int reply, u8 client)
{
	memset(t, 0, sizeof(*t));
	t->src.l3num = v6 ? AF_INET6 : AF_INET;
	t->dst.protonum = IPPROTO_TCP;
	t->dst.dir = reply ? IP_CT_DIR_REPLY : IP_CT_DIR_ORIGINAL;
	if (v6) {
		struct in6_addr cl = { .s6_addr = { 0xfd, 0, 0, 1, [15] = client } };
		struct in6_addr sv = { .s6_addr = { 0xfd, 0, 0, 2, [15] = 2 } };

		t->src.u3.in6 = reply ? sv : cl;
		t->dst.u3.in6 = reply ? cl : sv;
	} else {
		t->src.u3.ip = reply ? htonl(0x0a000202) : htonl(0x0a000100 | client);
		t->dst.u3.ip = reply ? htonl(0x0a000100 | client) : htonl(0x0a000202);
	}
	t->src.u.tcp.port = reply ? htons(2121) : htons(40000);
	t->dst.u.tcp.port = reply ? htons(40000) : htons(2121);
}

static struct nf_conn *ct_new(struct helper_ref *ref, int v6, u8 client)
{
	struct nf_conntrack_helper *h = v6 ? ref->h6 : ref->h4;
	struct nf_conntrack_tuple orig, repl;
	struct nf_conn_help *help;
	struct nf_conn *ct;

	fill_tuple(&orig, v6, 0, client);
	fill_tuple(&repl, v6, 1, client);
	ct = nf_conntrack_alloc(&init_net, &nf_ct_zone_dflt, &orig, &repl, GFP_KERNEL);
	if (IS_ERR(ct))
		return ct;
	help = nf_ct_helper_ext_add(ct, GFP_KERNEL);
	/*
	 * As nft's ct helper assignment: the conntrack counts on the helper (put when it is
	 * freed), the module reference is the holder's (ours, for the run).
	 */
	if (!help || !refcount_inc_not_zero(&h->ct_refcnt)) {
		nf_conntrack_free(ct);
		return ERR_PTR(-ENOENT);
	}
	rcu_assign_pointer(help->helper, h);
	set_bit(IPS_SEEN_REPLY_BIT, &ct->status);
	return ct;
}

static void ct_free(struct nf_conn *ct)
{
	nf_ct_remove_expectations(ct);
	nf_conntrack_free(ct);
}

/* The packet of kind k, with sequence number seq: network header at skb->data. */
static struct sk_buff *skb_new(const struct kind *k, u32 seq, u8 client)
{
	unsigned int l3 = k->v6 ? sizeof(struct ipv6hdr) : sizeof(struct iphdr);
	unsigned int len, linear, tlen, i;
	struct nf_conntrack_tuple t;
	struct sk_buff *skb;
	struct tcphdr *th;
	char text[64];
	u8 *p;

	tlen = snprintf(text, sizeof(text), k->text, client);
	if (tlen >= sizeof(text))
		return NULL;
	len = k->len ? k->len : tlen;
	linear = k->nonlinear ? 0 : len;
	fill_tuple(&t, k->v6, k->dir == REPLY, client);
	skb = alloc_skb(MAX_HEADER + l3 + sizeof(*th) + linear, GFP_KERNEL);
	if (!skb)
		return NULL;
	skb_reserve(skb, MAX_HEADER);
	skb_reset_network_header(skb);
	if (k->v6) {
		struct ipv6hdr *ip6 = skb_put_zero(skb, sizeof(*ip6));

		ip6->version = 6;
		ip6->payload_len = htons(sizeof(*th) + len);
		ip6->nexthdr = IPPROTO_TCP;
		ip6->hop_limit = 64;
		ip6->saddr = t.src.u3.in6;
		ip6->daddr = t.dst.u3.in6;
	} else {
		struct iphdr *ip = skb_put_zero(skb, sizeof(*ip));

		ip->version = 4;
		ip->ihl = 5;
		ip->tot_len = htons(sizeof(*ip) + sizeof(*th) + len);
		ip->ttl = 64;
		ip->protocol = IPPROTO_TCP;
		ip->saddr = t.src.u3.ip;
		ip->daddr = t.dst.u3.ip;
	}
	skb_set_transport_header(skb, l3);
	th = skb_put_zero(skb, sizeof(*th));
	th->source = t.src.u.tcp.port;
	th->dest = t.dst.u.tcp.port;
	th->seq = htonl(seq);
	th->doff = sizeof(*th) / 4;
	th->ack = 1;
	/* The payload: the text, then filler lines up to len (a long line for mid-line). */
	if (linear) {
		p = skb_put(skb, len);
		for (i = 0; i < len; i++)
			p[i] = text[i % tlen];
	} else {
		unsigned int off = 0, frag = 0;

		while (off < len) {
			unsigned int n = min_t(unsigned int, PAGE_SIZE, len - off);
			struct page *page = alloc_page(GFP_KERNEL);

			if (!page) {
				kfree_skb(skb);
				return NULL;
			}
			p = page_address(page);
			for (i = 0; i < n; i++)
				p[i] = text[(off + i) % tlen];
			skb_fill_page_desc(skb, frag++, page, 0, n);
			skb->len += n;
			skb->data_len += n;
			skb->truesize += PAGE_SIZE;
			off += n;
		}
	}
	/* Long payloads end a line, so that the next segment would start one. */
	if (k->len)
		skb_store_bits(skb, skb->len - 2, "\r\n", 2);
	return skb;
}

static int call(struct flow *f)
{
	const struct nf_conn_help *help = nfct_help(f->ct);
	const struct nf_conntrack_helper *h = rcu_dereference(help->helper);
	int (*fn)(struct sk_buff *, unsigned int, struct nf_conn *, enum ip_conntrack_info);

	int verdict;

	fn = rcu_dereference(h->help);
	verdict = fn(f->skb, f->protoff, f->ct, f->ctinfo);
	f->calls++;
	if (verdict != cmd_verdict(f->kind->cmd))
		f->wrong++;
	return verdict;
}

/* Guard: after its calls, a flow's conntrack holds the one expectation its kind creates. */
/*
 * Whether the table holds the expectation of the data connection a command of f's direction
 * announces (from the other side to the sender, on port; any source port), with f's
 * conntrack as its master.
 */
static bool holds_expectation(const struct flow *f, u16 port)
{
	int dir = f->kind->dir == REPLY ? IP_CT_DIR_REPLY : IP_CT_DIR_ORIGINAL;
	struct nf_conntrack_expect *exp;
	struct nf_conntrack_tuple t;
	bool ok;

	memset(&t, 0, sizeof(t));
	t.src.l3num = nf_ct_l3num(f->ct);
	t.src.u3 = f->ct->tuplehash[!dir].tuple.src.u3;
	t.src.u.tcp.port = htons(40001);
	t.dst.u3 = f->ct->tuplehash[dir].tuple.src.u3;
	t.dst.u.tcp.port = htons(port);
	t.dst.protonum = IPPROTO_TCP;
	exp = nf_ct_expect_find_get(nf_ct_net(f->ct), nf_ct_zone(f->ct), &t);
	if (!exp)
		return false;
	ok = exp->master == f->ct;
	nf_ct_expect_put(exp);
	return ok;
}

/*
 * Guard: after its calls, a flow's conntrack holds the one expectation its kind creates (the
 * data connection to the sender's port 30000), or none.
 */
static void check_expectation(const struct flow *f)
{
	const struct nf_conn_help *help = nfct_help(f->ct);
	unsigned int n = help->expecting[NF_CT_EXPECT_CLASS_DEFAULT];

	if (cmd_expects(f->kind->cmd) ? n != 1 || !holds_expectation(f, 30000) : n != 0)
		missing_expectations[f->who]++;
}

/*
 * One call, outside any timing, on f's conntrack with a packet of kind k at seq (in f's
 * direction and family), accounted as the guards count calls; -ENOMEM if the packet cannot
 * be made.
 */
static int call_once(struct flow *f, const struct kind *k, u32 seq)
{
	struct flow pf = { .ct = f->ct, .protoff = f->protoff, .ctinfo = f->ctinfo, .kind = k };

	pf.skb = skb_new(k, seq, f->client);
	if (!pf.skb)
		return -ENOMEM;
	rcu_read_lock();
	local_bh_disable();
	call(&pf);
	local_bh_enable();
	rcu_read_unlock();
	kfree_skb(pf.skb);
	done_calls[f->who][k->cmd]++;
	wrong_verdicts[f->who] += pf.wrong;
	return 0;
}

/*
 * Guard: the helper remembered where the next line starts (after the kind's packet, which
 * ends a line, except the partial PORT's): a command sent there, in the same direction, is
 * parsed and expected (port 30001). Once per kind, after its rounds: the command takes a
 * remembered line start's place.
 */
static void check_next_line(struct flow *f)
{
	static const struct kind probes[] = {
		{ "", 0, ORIG, 1, 0, 0, "PORT 10,0,1,%u,117,49\r\n", PORT },
		{ "", 0, REPLY, 1, 0, 0, "227 Entering Passive Mode (10,0,2,2,117,49).\r\n", PASV },
		{ "", 1, ORIG, 1, 0, 0, "EPRT |2|fd00:1::%x|30001|\r\n", EPRT },
	};
	const struct kind *k = &probes[f->kind->v6 ? 2 : f->kind->dir == REPLY];

	if (!f->kind->line_start || f->kind->cmd == PARTIAL)
		return;
	if (call_once(f, k, SEQ_LINE + f->paylen) || !holds_expectation(f, 30001))
		lost_line_starts[f->who]++;
}

static void pool_free(struct flow *f)
{
	unsigned int i;

	for (i = 0; i < f->npool; i++)
		kfree_skb(f->pool[i]);
	for (i = 0; i < f->npages; i++)
		put_page(f->pages[i]);
	kvfree(f->pool);
	kvfree(f->pages);
	f->pool = NULL;
	f->pages = NULL;
	f->npool = f->npages = 0;
}

/* n fresh packets of the flow's (non-linear) kind. */
static int pool_fill(struct flow *f, unsigned int n)
{
	pool_free(f);
	f->pool = kvcalloc(n, sizeof(*f->pool), GFP_KERNEL);
	f->pages = kvcalloc(n * DIV_ROUND_UP(f->kind->len ?: 1, PAGE_SIZE), sizeof(*f->pages),
			    GFP_KERNEL);
	if (!f->pool || !f->pages)
		return -ENOMEM;
	for (f->npool = 0; f->npool < n; f->npool++) {
		struct sk_buff *skb = skb_new(f->kind, f->kind->line_start ? SEQ_LINE : SEQ_MID,
					      f->client);
		unsigned int i;

		if (!skb)
			return -ENOMEM;
		f->pool[f->npool] = skb;
		/*
		 * A reference of ours on each fragment page, dropped after the timing: the C frees
		 * a packet's fragments when it linearizes it, which would time a page free for it
		 * and none for this module; so neither frees a page while timed.
		 */
		for (i = 0; i < skb_shinfo(skb)->nr_frags; i++) {
			f->pages[f->npages] = skb_frag_page(&skb_shinfo(skb)->frags[i]);
			get_page(f->pages[f->npages++]);
		}
	}
	return 0;
}

static void flow_free(struct flow *f)
{
	if (f->kind) {
		done_calls[f->who][f->kind->cmd] += f->calls;
		if (f->kind->nonlinear && f->kind->cmd != NONE) {
			if (f->paylen <= STACK_COPY_MAX)
				done_copied[f->who] += f->calls;
			else
				done_locked[f->who] += f->calls;
		}
		wrong_verdicts[f->who] += f->wrong;
		f->calls = f->wrong = 0;
	}
	if (f->shared) {
		/* Another flow's conntrack; the packet is this flow's own copy. */
		kfree_skb(f->skb);
		f->ct = NULL;
		f->skb = NULL;
		return;
	}
	if (!IS_ERR_OR_NULL(f->ct))
		ct_free(f->ct);
	kfree_skb(f->skb);
	pool_free(f);
	f->ct = NULL;
	f->skb = NULL;
}

/* A conntrack of kind k with its packet; primed so that a line-start kind starts a line. */
static int flow_new(struct flow *f, struct helper_ref *ref, const struct kind *k, u8 client)
{
	static const struct kind prime4 = { "", 0, ORIG, 0, 0, 0, "NOOP\r\n", NONE };
	struct kind prime = prime4;

	memset(f, 0, sizeof(*f));
	f->who = ref - refs;
	f->kind = k;
	f->client = client;
	f->ct = ct_new(ref, k->v6, client);
	if (IS_ERR(f->ct))
		return PTR_ERR(f->ct);
	f->skb = skb_new(k, k->line_start ? SEQ_LINE : SEQ_MID, client);
	if (!f->skb) {
		flow_free(f);
		return -ENOMEM;
	}
	f->protoff = k->v6 ? sizeof(struct ipv6hdr) : sizeof(struct iphdr);
	f->paylen = f->skb->len - f->protoff - sizeof(struct tcphdr);
	f->ctinfo = k->dir == REPLY ? IP_CT_ESTABLISHED_REPLY : IP_CT_ESTABLISHED;
	if (k->line_start) {
		/*
		 * A 6-byte line just before: the helper remembers that a line starts at SEQ_LINE
		 * (itself not at a line start, none being known yet: a segment, not parsed).
		 */
		prime.v6 = k->v6;
		prime.dir = k->dir;
		if (call_once(f, &prime, SEQ_LINE - 6)) {
			flow_free(f);
			return -ENOMEM;
		}
	}
	return 0;
}

/* ns per call of n calls on f (0 if the packets for them cannot be made). */
static u64 time_calls(struct flow *f, unsigned int n)
{
	unsigned int i, batch;
	u64 start, total = 0;

	if (f->kind->nonlinear) {
		struct sk_buff *keep = f->skb;

		if (pool_fill(f, n))
			return 0;
		rcu_read_lock();
		local_bh_disable();
		start = ktime_get_ns();
		for (i = 0; i < n; i++) {
			f->skb = f->pool[i];
			call(f);
		}
		total = ktime_get_ns() - start;
		local_bh_enable();
		rcu_read_unlock();
		f->skb = keep;
		pool_free(f);
		return div_u64(total, n);
	}
	for (i = 0; i < n; i += batch) {
		batch = min(n - i, 500u);
		rcu_read_lock();
		local_bh_disable();
		start = ktime_get_ns();
		for (unsigned int j = 0; j < batch; j++)
			call(f);
		total += ktime_get_ns() - start;
		local_bh_enable();
		rcu_read_unlock();
		cond_resched();
	}
	return div_u64(total, n);
}

static int cmp_u64(const void *a, const void *b)
{
	u64 x = *(const u64 *)a, y = *(const u64 *)b;

	return x < y ? -1 : x > y;
}

/* Median, min and max of v[0..n), sorted in place. */
static void stats(u64 *v, unsigned int n, u64 *med, u64 *lo, u64 *hi)
{
	sort(v, n, sizeof(*v), cmp_u64, NULL);
	*med = v[n / 2];
	*lo = v[0];
	*hi = v[n - 1];
}

/* Ratio b/a with three decimals, as "r.ddd". */
static void ratio(char *buf, size_t len, u64 b, u64 a)
{
	u64 r = a ? div64_u64(b * 1000 + a / 2, a) : 0;

	snprintf(buf, len, "%llu.%03llu", div_u64(r, 1000), r % 1000);
}

/*
 * A row's figures: the rounds' ns per packet (or packets/s) of C (v[0]) and Rust (v[1]),
 * sorted here, with their medians and spans; and the ratio of each round's pair (C and Rust
 * run one after the other in a round): its median and span, and a note where the span
 * contains 1.0 (the rounds disagree on which is larger).
 */
struct row {
	u64 med[2], lo[2], hi[2];
	char q[16], qlo[16], qhi[16];
	const char *note;
};

static void summarize(u64 v[2][MAX_ROUNDS], struct row *row)
{
	u64 q[MAX_ROUNDS], qmed, qlo, qhi;
	unsigned int i, r;

	for (r = 0; r < rounds; r++)
		q[r] = v[0][r] ? div64_u64(v[1][r] * 1000 + v[0][r] / 2, v[0][r]) : 0;
	stats(q, rounds, &qmed, &qlo, &qhi);
	for (i = 0; i < 2; i++)
		stats(v[i], rounds, &row->med[i], &row->lo[i], &row->hi[i]);
	ratio(row->q, sizeof(row->q), qmed, 1000);
	ratio(row->qlo, sizeof(row->qlo), qlo, 1000);
	ratio(row->qhi, sizeof(row->qhi), qhi, 1000);
	row->note = qlo <= 1000 && qhi >= 1000 ? " spread contains 1.0" : "";
}

/* One row of the per-kind table. */
static void report_row(const char *name, u64 v[2][MAX_ROUNDS])
{
	struct row row;

	summarize(v, &row);
	pr_info("nf_ftp_bench: %-26s %6llu (%4llu..%4llu) %6llu (%4llu..%4llu) %s (%s..%s)%s\n",
		name, row.med[0], row.lo[0], row.hi[0], row.med[1], row.lo[1], row.hi[1], row.q,
		row.qlo, row.qhi, row.note);
}

/* Kinds of the session mix's classes: { linear, non-linear }. */
static const u8 session_kinds[][2] = {
	{ 11, 12 },	/* first segment */
	{ 1, 13 },	/* a line without a command: NOOP */
	{ 2, 14 },	/* ... or a reply (every other one) */
	{ 3, 15 },	/* PORT */
	{ 4, 16 },	/* EPRT */
	{ 6, 17 },	/* 227 */
	{ 7, 18 },	/* 229 */
};

struct smix_entry {
	u32 pos;
	u8 kind;
};

static int cmp_smix(const void *a, const void *b)
{
	const struct smix_entry *x = a, *y = b;

	return x->pos < y->pos ? -1 : x->pos > y->pos;
}

/*
 * smix[] from the session parameter: FIRST,PLAIN,PORT,EPRT,227,229,NONLINEAR_PERCENT. The
 * j-th of a class's count sits at (j + 1/2) / count of the sequence; the first
 * NONLINEAR_PERCENT of each class's members are the non-linear kind.
 */
static int build_session_mix(void)
{
	static struct smix_entry e[MAX_SMIX];
	unsigned int count[7], pct, c, j, cls, n = 0;

	if (!*session)
		return 0;
	if (sscanf(session, "%u,%u,%u,%u,%u,%u,%u", &count[0], &count[1], &count[3], &count[4],
		   &count[5], &count[6], &pct) != 7 || pct > 100) {
		pr_err("nf_ftp_bench: session='%s': expected FIRST,PLAIN,PORT,EPRT,227,229,NONLINEAR_PERCENT\n",
		       session);
		return -EINVAL;
	}
	/* Lines without a command: half commands (NOOP), half replies (230). */
	count[2] = count[1] / 2;
	count[1] -= count[2];
	for (c = 0; c < 7; c++)
		for (j = 0; j < count[c]; j++) {
			if (n == MAX_SMIX) {
				pr_err("nf_ftp_bench: session='%s': over %u segments\n", session, MAX_SMIX);
				return -EINVAL;
			}
			cls = j * 100 < pct * count[c];
			e[n].pos = div_u64((u64)(2 * j + 1) << 20, 2 * count[c]);
			e[n++].kind = session_kinds[c][cls];
		}
	sort(e, n, sizeof(*e), cmp_smix, NULL);
	for (j = 0; j < n; j++)
		smix[j] = e[j].kind;
	nsmix = n;
	pr_info("nf_ftp_bench: session mix: %u segments (%s: first, plain lines, PORT, EPRT, 227, 229, %% non-linear)\n",
		n, session);
	return 0;
}

/*
 * A mix on one CPU: the mean cost of its packets (seq: n indexes into kinds[]), each kind
 * with its own conntrack and client, so that no two kinds announce the same data connection.
 */
static int time_mix(const char *name, const u8 *seq, unsigned int n)
{
	static struct flow mf[2][NKINDS];
	static u64 v[2][MAX_ROUNDS];
	unsigned int i, k, r;
	int err = 0;

	memset(mf, 0, sizeof(mf));
	for (i = 0; i < 2 && !err; i++)
		for (k = 0; k < NKINDS && !err; k++)
			err = flow_new(&mf[i][k], &refs[i], &kinds[k], 20 + k);
	if (err) {
		pr_err("nf_ftp_bench: %s: cannot set up its flows (%d)\n", name, err);
		goto out;
	}
	for (r = 0; r < rounds; r++)
		for (i = 0; i < 2; i++) {
			u64 total = 0;

			for (k = 0; k < NKINDS; k++)
				nf_ct_remove_expectations(mf[!i][k].ct);
			for (k = 0; k < n; k++)
				total += time_calls(&mf[i][seq[k]], max(iters / 10, 1u));
			v[i][r] = div_u64(total, n);
			for (k = 0; k < n; k++)
				check_expectation(&mf[i][seq[k]]);
		}
	report_row(name, v);
out:
	for (i = 0; i < 2; i++)
		for (k = 0; k < NKINDS; k++)
			if (mf[i][k].ct || mf[i][k].skb)
				flow_free(&mf[i][k]);
	return err;
}

/*
 * ns per call of what a helper asks of the kernel for the flow's command, alone: allocate,
 * initialise and register the expectation it registers (the data connection to the sender's
 * address, port 30000; each replaces the one before), and put it. A command's cost less this
 * is the helper's own part.
 */
static u64 time_expect_only(struct flow *f, unsigned int n)
{
	int dir = f->kind->dir == REPLY ? IP_CT_DIR_REPLY : IP_CT_DIR_ORIGINAL;
	__be16 port = htons(30000);
	struct nf_conntrack_expect *exp;
	unsigned int i, batch;
	u64 start, total = 0;

	for (i = 0; i < n; i += batch) {
		batch = min(n - i, 500u);
		rcu_read_lock();
		local_bh_disable();
		start = ktime_get_ns();
		for (unsigned int j = 0; j < batch; j++) {
			exp = nf_ct_expect_alloc(f->ct);
			if (!exp) {
				expect_only_failed++;
				continue;
			}
			nf_ct_expect_init(exp, NF_CT_EXPECT_CLASS_DEFAULT, nf_ct_l3num(f->ct),
					  &f->ct->tuplehash[!dir].tuple.src.u3,
					  &f->ct->tuplehash[dir].tuple.src.u3, IPPROTO_TCP, NULL,
					  &port);
			if (nf_ct_expect_related(exp, 0))
				expect_only_failed++;
			nf_ct_expect_put(exp);
		}
		total += ktime_get_ns() - start;
		local_bh_enable();
		rcu_read_unlock();
		cond_resched();
	}
	return div_u64(total, n);
}

static int per_kind(void)
{
	static u64 v[2][MAX_ROUNDS], kx[2][MAX_ROUNDS], own[2][MAX_ROUNDS];
	struct flow f[2];
	unsigned int k, r, i;
	int err;

	pr_info("nf_ftp_bench: %u calls per kind and round, median of %u rounds (min..max); under TCG only the ratio means anything\n",
		iters, rounds);
	pr_info("nf_ftp_bench: %-26s %18s %18s %s\n", "kind", "C ns/pkt", "Rust ns/pkt",
		"Rust/C per round: median (min..max)");
	for (k = 0; k < NKINDS; k++) {
		for (i = 0; i < 2; i++) {
			err = flow_new(&f[i], &refs[i], &kinds[k], 2);
			if (err) {
				if (i)
					flow_free(&f[0]);
				pr_err("nf_ftp_bench: %s: cannot set up a flow for %s (%d)\n",
				       kinds[k].name, refs[i].name, err);
				return err;
			}
		}
		/*
		 * Alternate C and Rust round by round, so that drift hits both alike. The two
		 * announce the same data connection: the other's expectation goes first (within
		 * a round, each call replaces its own, as a repeated command does).
		 */
		for (r = 0; r < rounds; r++)
			for (i = 0; i < 2; i++) {
				nf_ct_remove_expectations(f[!i].ct);
				v[i][r] = time_calls(&f[i], iters);
				check_expectation(&f[i]);
				if (cmd_expects(kinds[k].cmd))
					kx[i][r] = time_expect_only(&f[i], iters);
			}
		for (i = 0; i < 2; i++) {
			nf_ct_remove_expectations(f[!i].ct);
			check_next_line(&f[i]);
		}
		for (i = 0; i < 2; i++)
			flow_free(&f[i]);
		if (cmd_expects(kinds[k].cmd))
			for (i = 0; i < 2; i++)
				for (r = 0; r < rounds; r++)
					own[i][r] = v[i][r] > kx[i][r] ? v[i][r] - kx[i][r] : 0;
		report_row(kinds[k].name, v);
		if (cmd_expects(kinds[k].cmd)) {
			report_row("  kernel's expect calls", kx);
			report_row("  helper's own part", own);
		}
	}

	err = time_mix("hand mix (one CPU)", mix, ARRAY_SIZE(mix));
	if (!err && nsmix)
		err = time_mix("session mix (one CPU)", smix, nsmix);
	return err;
}

/*
 * Multi-CPU: the hand mix on every online CPU at once, one thread per CPU, in three ways:
 * CONTENDED, help() back to back (the C's lock is always wanted); OTHER_WORK, with a fixed
 * amount of other work per packet outside help() (as in a gateway, where the helper is a
 * small part of a packet's cost); ONE_CONN, every CPU on the same conntracks and packets (one
 * connection's segments handled on several CPUs at once).
 */
enum mt_mode { CONTENDED, OTHER_WORK, ONE_CONN, NMODES };
static const char *const mt_name[NMODES] = {
	"contended", "with other work per packet", "one connection's conntracks on every CPU",
};

struct worker {
	struct task_struct *task;
	struct flow f[NKINDS];
	enum mt_mode mode;
	u8 other[1500];
	int err;
};

static atomic_t mt_ready;
static DECLARE_COMPLETION(mt_go);
static atomic_t mt_left;
static DECLARE_COMPLETION(mt_done);

static int worker_fn(void *data)
{
	struct worker *w = data;
	unsigned int n, k, c;
	__wsum sum = 0;

	atomic_inc(&mt_ready);
	wait_for_completion(&mt_go);
	for (n = 0; n < mt_packets; ) {
		rcu_read_lock();
		local_bh_disable();
		for (k = 0; k < ARRAY_SIZE(mix) && n < mt_packets; k++, n++) {
			call(&w->f[mix[k]]);
			if (w->mode == OTHER_WORK)
				for (c = 0; c < other_csums; c++)
					sum = csum_partial(w->other, sizeof(w->other), sum);
		}
		local_bh_enable();
		rcu_read_unlock();
		cond_resched();
	}
	/* The other work's result is used, so that it is done. */
	w->other[0] ^= (u8)csum_fold(sum);
	if (atomic_dec_and_test(&mt_left))
		complete(&mt_done);
	while (!kthread_should_stop())
		schedule_timeout_interruptible(HZ / 100);
	return 0;
}

/* Packets per second of all CPUs together, with helper ref, in mode. */
static int multi_cpu(struct helper_ref *ref, enum mt_mode mode, u64 *pps)
{
	unsigned int ncpu = num_online_cpus(), cpu, i = 0, k;
	struct worker *w;
	u64 start, ns;
	int err = 0;

	w = kvcalloc(ncpu, sizeof(*w), GFP_KERNEL);
	if (!w)
		return -ENOMEM;
	atomic_set(&mt_ready, 0);
	atomic_set(&mt_left, ncpu);
	reinit_completion(&mt_go);
	reinit_completion(&mt_done);
	for_each_online_cpu(cpu) {
		w[i].mode = mode;
		for (k = 0; k < NKINDS && !err; k++) {
			if (mode == ONE_CONN && i) {
				/* The first worker's conntrack and packet; calls counted apart. */
				w[i].f[k] = w[0].f[k];
				w[i].f[k].shared = 1;
				w[i].f[k].calls = w[i].f[k].wrong = 0;
				/* Its own packet: each CPU handles a segment of its own. */
				w[i].f[k].skb = skb_copy(w[0].f[k].skb, GFP_KERNEL);
				if (!w[i].f[k].skb)
					err = -ENOMEM;
			} else {
				err = flow_new(&w[i].f[k], ref, &kinds[k], 10 + i);
			}
		}
		if (err)
			break;
		w[i].task = kthread_create_on_cpu(worker_fn, &w[i], cpu, "nf_ftp_bench/%u");
		if (IS_ERR(w[i].task)) {
			err = PTR_ERR(w[i].task);
			w[i].task = NULL;
			break;
		}
		wake_up_process(w[i].task);
		i++;
	}
	if (!err) {
		while (atomic_read(&mt_ready) < ncpu)
			schedule_timeout_uninterruptible(1);
		start = ktime_get_ns();
		complete_all(&mt_go);
		wait_for_completion(&mt_done);
		ns = ktime_get_ns() - start;
		*pps = div64_u64((u64)ncpu * mt_packets * NSEC_PER_SEC, max(ns, 1ull));
	} else {
		/* Let started workers run to the end. */
		complete_all(&mt_go);
	}
	for (i = 0; i < ncpu; i++)
		if (w[i].task)
			kthread_stop(w[i].task);
	/* Shared copies first: their calls are counted, their conntracks are the first's. */
	for (i = ncpu; i-- > 0; ) {
		for (k = 0; k < ARRAY_SIZE(mix) && !err; k++)
			check_expectation(&w[i].f[mix[k]]);
		for (k = 0; k < NKINDS; k++)
			if (w[i].f[k].ct || w[i].f[k].skb)
				flow_free(&w[i].f[k]);
	}
	kvfree(w);
	return err;
}

/* The three multi-CPU runs, C and Rust alternating round by round. */
static int multi_cpu_all(void)
{
	static u64 pps[2][MAX_ROUNDS];
	struct row row;
	unsigned int i, r, m;
	int err = 0;

	for (m = 0; m < NMODES && !err; m++) {
		for (r = 0; r < rounds && !err; r++)
			for (i = 0; i < 2 && !err; i++)
				err = multi_cpu(&refs[i], m, &pps[i][r]);
		if (err)
			break;
		summarize(pps, &row);
		pr_info("nf_ftp_bench: hand mix on %u CPUs, %s, %u packets each: C %llu pkt/s (%llu..%llu), Rust %llu pkt/s (%llu..%llu), Rust/C per round %s (%s..%s)%s\n",
			num_online_cpus(), mt_name[m], mt_packets, row.med[0], row.lo[0],
			row.hi[0], row.med[1], row.lo[1], row.hi[1], row.q, row.qlo, row.qhi,
			row.note);
	}
	return err;
}

/*
 * The guards' verdict: every call's verdict was its kind's and every master held its
 * expectation, for both helpers; and the calls made to this module, as its counters must have
 * counted them (tests/bench/run-in-vm.sh compares them with /proc/net/nf_conntrack_ftp_rs).
 */
static int guards(void)
{
	u64 all = 0, lines = 0, expected = 0;
	unsigned int i, c;
	int err = 0;

	if (expect_only_failed) {
		pr_err("nf_ftp_bench: guard: %llu expectations not made or registered when timing the kernel's calls alone\n",
		       expect_only_failed);
		err = -EPROTO;
	}
	for (i = 0; i < 2; i++)
		if (wrong_verdicts[i] || missing_expectations[i] || lost_line_starts[i]) {
			pr_err("nf_ftp_bench: guard: %s returned %llu wrong verdicts, left %u masters without their expectation and lost %u next line starts\n",
			       refs[i].name, wrong_verdicts[i], missing_expectations[i],
			       lost_line_starts[i]);
			err = -EPROTO;
		}
	for (c = 0; c < NCMD; c++) {
		all += done_calls[1][c];
		lines += c != NONE ? done_calls[1][c] : 0;
		expected += cmd_expects(c) ? done_calls[1][c] : 0;
	}
	pr_info("nf_ftp_bench: counted: segments %llu lines_parsed %llu %s %llu %s %llu %s %llu %s %llu %s %llu expect_created %llu lines_copied %llu lines_copied_locked %llu\n",
		all, lines, cmd_counter[PORT], done_calls[1][PORT], cmd_counter[EPRT],
		done_calls[1][EPRT], cmd_counter[PASV], done_calls[1][PASV], cmd_counter[EPSV],
		done_calls[1][EPSV], cmd_counter[PARTIAL], done_calls[1][PARTIAL], expected,
		done_copied[1], done_locked[1]);
	return err;
}

static int __init nf_ftp_bench_init(void)
{
	unsigned int i;
	int err = 0;

	if (rounds < 1 || rounds > MAX_ROUNDS || !iters || !mt_packets)
		return -EINVAL;
	refs[0].name = c_helper;
	refs[1].name = rust_helper;
	for (i = 0; i < 2; i++) {
		/* Held for the run: the helper modules cannot go away under it. */
		refs[i].h4 = nf_conntrack_helper_try_module_get(refs[i].name, NFPROTO_IPV4, IPPROTO_TCP);
		refs[i].h6 = nf_conntrack_helper_try_module_get(refs[i].name, NFPROTO_IPV6, IPPROTO_TCP);
		if (!refs[i].h4 || !refs[i].h6) {
			pr_err("nf_ftp_bench: no helper named %s (load the C helper with ports=2121 and nf_conntrack_ftp_rs with ports=2122)\n",
			       refs[i].name);
			err = -ENOENT;
			goto out;
		}
	}
	pr_info("nf_ftp_bench: C helper %s, Rust helper %s, %u online CPUs\n",
		c_helper, rust_helper, num_online_cpus());
	err = build_session_mix();
	if (!err)
		err = per_kind();
	if (err)
		goto out;
	err = multi_cpu_all();
	if (err)
		goto out;
	err = guards();
	if (!err)
		pr_info("nf_ftp_bench: done\n");
out:
	for (i = 0; i < 2; i++) {
		if (refs[i].h4)
			nf_conntrack_helper_put(refs[i].h4);
		if (refs[i].h6)
			nf_conntrack_helper_put(refs[i].h6);
	}
	return err;
}

static void __exit nf_ftp_bench_exit(void)
{
}

module_init(nf_ftp_bench_init);
module_exit(nf_ftp_bench_exit);
MODULE_DESCRIPTION("make bench: the C and the Rust FTP helper on the same packets");
MODULE_LICENSE("GPL");
