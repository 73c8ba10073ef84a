/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * What ossl.bpf.c's probes read of an SSL at an alert before the event: its head (version,
 * method, read and write BIO), the protocol version from it, and the session's socket from the
 * BIO chains. A user-memory read costs about 90 ns here whatever its size up to a few dozen
 * bytes (bench/bench_probecost.sh's bpf_stats; 432 bytes cost 160 ns): fields that lie near each
 * other are read in one go. Included by ossl.bpf.c after struct ossl_cfg, is_dtls_version() and
 * libprobe.bpf.h.
 */
#ifndef AT_OSSL_SOCK_BPF_H
#define AT_OSSL_SOCK_BPF_H

#define OSSL_WIN 128 /* the widest span read in one go */

/* The window of one read, on the stack of the program that reads: a per-CPU map would be
 * shared with the same program in another task that preempts this one on a preemptible kernel
 * (uprobe programs run with migration disabled, not preemption). OSSL_WIN + 8 bytes: a word is
 * taken at its offset masked into the first OSSL_WIN, with no branch (a branch per field gave the
 * verifier two states per field and BIO to walk). Zeroed before use: the verifier lets a program
 * read the stack at an offset known only at run time where every byte it may read is set. */
struct ossl_win {
	__u8 b[OSSL_WIN + 8];
};

/* Read span bytes at src into w: 0, or -1 (span is 1 to OSSL_WIN). */
static __always_inline int win_read(struct ossl_win *w, __u64 src, __u32 span)
{
	__u64 n = span;

	barrier_var(n); /* tested and passed in one register, as the verifier must see it */
	if (n == 0 || n > OSSL_WIN)
		return -1;
	return bpf_probe_read_user(w->b, n, (void *)src) ? -1 : 0;
}

/* The 8-byte word at byte i of w; i is below OSSL_WIN - 8 for every field of a span read. */
static __always_inline __u64 win_u64(const struct ossl_win *w, __u32 i)
{
	return *(const __u64 *)&w->b[i & (OSSL_WIN - 1)];
}

static __always_inline __s32 min3(__s32 a, __s32 b, __s32 c)
{
	__s32 m = a < b ? a : b;

	return m < c ? m : c;
}

static __always_inline __s32 max3(__s32 a, __s32 b, __s32 c)
{
	__s32 m = a > b ? a : b;

	return m > c ? m : c;
}

/* The head of an SSL: int version; const SSL_METHOD *method; BIO *rbio; BIO *wbio (1.1.1 to 3.5
 * keep them within 32 bytes, ssl/ssl_local.h). */
struct ssl_head {
	__u64 s;
	__u64 method;
	__u64 rbio, wbio;
	int version;
};

/* s's head into *h: one read when the four fields are within OSSL_WIN bytes, else one each (a
 * field the layout lacks, or a failed read, stays 0). */
static __always_inline void ssl_head_read(const struct ossl_cfg *cfg, __u64 s, struct ssl_head *h)
{
	__s32 lo = min3(cfg->off_version, cfg->off_method, min3(cfg->off_rbio, cfg->off_wbio, 0x7fff));
	__s32 hi = max3(cfg->off_version + 4, cfg->off_method + 8,
			max3(cfg->off_rbio + 8, cfg->off_wbio + 8, 0));
	struct ossl_win wb, *w = &wb;

	__builtin_memset(h, 0, sizeof(*h));
	h->s = s;
	/* Its fields give the version and the socket: neither wanted, no read. */
	if (!s || (!at_lib_reads(AT_SKIP_SOCK) && !at_lib_reads(AT_SKIP_DETAIL)))
		return;
	__builtin_memset(&wb, 0, sizeof(wb));
	if (lo >= 0 && !win_read(w, s + lo, hi - lo)) {
		/* version is an int: the low half of its word (x86-64 is little-endian) */
		h->version = (int)win_u64(w, cfg->off_version - lo);
		h->method = win_u64(w, cfg->off_method - lo);
		h->rbio = win_u64(w, cfg->off_rbio - lo);
		h->wbio = win_u64(w, cfg->off_wbio - lo);
		return;
	}
	/* Another layout, or the span too wide: field by field. */
	if (cfg->off_version >= 0)
		bpf_probe_read_user(&h->version, sizeof(h->version), (void *)(s + cfg->off_version));
	if (cfg->off_method >= 0)
		bpf_probe_read_user(&h->method, sizeof(h->method), (void *)(s + cfg->off_method));
	if (cfg->off_rbio >= 0)
		bpf_probe_read_user(&h->rbio, sizeof(h->rbio), (void *)(s + cfg->off_rbio));
	if (cfg->off_wbio >= 0)
		bpf_probe_read_user(&h->wbio, sizeof(h->wbio), (void *)(s + cfg->off_wbio));
}

/*
 * Protocol version of s, as OpenSSL itself decides it (ssl/ssl_local.h SSL_IS_TLS13 /
 * SSL_IS_DTLS): the method's version is 0x304 once TLS 1.3 is negotiated, while s->version alone
 * misleads on a client before the ServerHello. Sets *dtls for a DTLS method.
 */
static __always_inline __u16 ssl_version(const struct ossl_cfg *cfg, const struct ssl_head *h,
					 bool *dtls)
{
	int ver = h->version, mver = 0;

	if (!h->s)
		return 0;
	if (h->method && cfg->off_method_version >= 0)
		bpf_probe_read_user(&mver, sizeof(mver), (void *)(h->method + cfg->off_method_version));
	if (is_dtls_version(mver) || is_dtls_version(ver))
		*dtls = true;
	if (*dtls)
		return ver;
	if (mver == TLS1_3_VERSION)
		return TLS1_3_VERSION;
	return ver;
}

#define BIO_TYPE_DESCRIPTOR 0x0100 /* include/openssl/bio.h: socket, fd, connect, accept */
#define BIO_CHAIN_MAX 3		    /* filter BIOs stepped over in front of the socket's */

/*
 * The fd of a descriptor BIO in the chain from bio up to stop (a chain already walked), or -1.
 * With one (a constant: each caller gets a copy of its own, and the verifier no branch on it per
 * BIO), two reads per BIO: its method, num and next_bio in one (3.0: 8, 56 and 72 bytes in, lo
 * to hi), and the method's type; else field by field.
 */
static __always_inline long bio_fd(const struct ossl_cfg *cfg, __u64 bio, __u64 stop,
				   struct ossl_win *w, __s32 lo, __s32 hi, const bool one)
{
	for (int i = 0; i < BIO_CHAIN_MAX && bio && bio != stop; i++) {
		__u64 m = 0, next = 0;
		int type = 0, num = -1;

		if (one) {
			if (win_read(w, bio + lo, hi - lo))
				return -1;
			m = win_u64(w, cfg->off_bio_method - lo);
			num = (int)win_u64(w, cfg->off_bio_num - lo);
			next = win_u64(w, cfg->off_bio_next - lo);
		} else if (bpf_probe_read_user(&m, sizeof(m), (void *)(bio + cfg->off_bio_method))) {
			return -1;
		}
		if (!m || bpf_probe_read_user(&type, sizeof(type), (void *)(m + cfg->off_bio_type)))
			return -1;
		if (type & BIO_TYPE_DESCRIPTOR) {
			if (!one && bpf_probe_read_user(&num, sizeof(num),
							(void *)(bio + cfg->off_bio_num)))
				return -1;
			return num;
		}
		if (!one && bpf_probe_read_user(&next, sizeof(next), (void *)(bio + cfg->off_bio_next)))
			return -1;
		bio = next;
	}
	return -1;
}

/*
 * The fd of the session's socket: the first descriptor BIO in the chain from the read BIO, else
 * in the chain from the write BIO when it is another (SSL_set_fd and SSL_set_bio(s, b, b) make
 * one; the handshake's buffering BIO sits in front of it), that one only as far as the read BIO.
 */
static __always_inline long ssl_fd(const struct ossl_cfg *cfg, const struct ssl_head *h)
{
	__s32 lo = min3(cfg->off_bio_method, cfg->off_bio_num, cfg->off_bio_next);
	__s32 hi = max3(cfg->off_bio_method + 8, cfg->off_bio_num + 4, cfg->off_bio_next + 8);
	__u64 wbio = h->wbio;
	struct ossl_win wb, *w = &wb;
	long fd;

	if (lo < 0)
		return -1;
	__builtin_memset(&wb, 0, sizeof(wb));
	if (hi - lo <= OSSL_WIN) {
		fd = bio_fd(cfg, h->rbio, 0, w, lo, hi, true);
		if (fd < 0 && wbio && wbio != h->rbio)
			fd = bio_fd(cfg, wbio, h->rbio, w, lo, hi, true);
	} else {
		fd = bio_fd(cfg, h->rbio, 0, w, lo, hi, false);
		if (fd < 0 && wbio && wbio != h->rbio)
			fd = bio_fd(cfg, wbio, h->rbio, w, lo, hi, false);
	}
	return fd;
}

/* The session's socket (bpf/libprobe.bpf.h), from its BIOs' fd. */
static __always_inline struct sock *ssl_sock(const struct ossl_cfg *cfg, const struct ssl_head *h)
{
	long fd;

	if (!h->s || cfg->off_bio_num < 0 || !at_lib_reads(AT_SKIP_SOCK))
		return NULL;
	fd = ssl_fd(cfg, h);
	return fd < 0 ? NULL : at_lib_sock(fd);
}

#endif /* AT_OSSL_SOCK_BPF_H */
