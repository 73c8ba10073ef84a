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

/* The window of one read: a map value, as a read of a chosen size into it is then checked
 * against the value's size, and a field at an offset known only at run time can be taken. */
struct ossl_win {
	__u8 b[OSSL_WIN];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct ossl_win);
} ossl_wins SEC(".maps");

static __always_inline struct ossl_win *ossl_win(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&ossl_wins, &zero);
}

/* Read span bytes at src into w: 0, or -1 (span is 1 to OSSL_WIN). */
static __always_inline int win_read(struct ossl_win *w, __u64 src, __u32 span)
{
	__u64 n = span;

	barrier_var(n); /* tested and passed in one register, as the verifier must see it */
	if (n == 0 || n > OSSL_WIN)
		return -1;
	return bpf_probe_read_user(w->b, n, (void *)src) ? -1 : 0;
}

/* The 8-byte word at byte i of w (0 when i is past the window). */
static __always_inline __u64 win_u64(const struct ossl_win *w, __u32 i)
{
	if (i > OSSL_WIN - 8)
		return 0;
	return *(const __u64 *)&w->b[i];
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
	bool both_bios; /* rbio and wbio were read (wbio 0 means none) */
};

static __always_inline void ssl_head_read(const struct ossl_cfg *cfg, __u64 s, struct ssl_head *h)
{
	__s32 lo = cfg->off_version, hi;
	struct ossl_win *w;

	__builtin_memset(h, 0, sizeof(*h));
	h->s = s;
	if (!s)
		return;
	if (lo >= 0 && cfg->off_method >= 0 && cfg->off_rbio >= 0 && cfg->off_wbio >= 0) {
		lo = min3(lo, cfg->off_method, min3(cfg->off_rbio, cfg->off_wbio, lo));
		hi = max3(cfg->off_version + 4, cfg->off_method + 8,
			  max3(cfg->off_rbio + 8, cfg->off_wbio + 8, 0));
		w = ossl_win();
		if (w && !win_read(w, s + lo, hi - lo)) {
			/* version is an int: the low half of its word (x86-64 is little-endian) */
			h->version = (int)win_u64(w, cfg->off_version - lo);
			h->method = win_u64(w, cfg->off_method - lo);
			h->rbio = win_u64(w, cfg->off_rbio - lo);
			h->wbio = win_u64(w, cfg->off_wbio - lo);
			h->both_bios = true;
			return;
		}
	}
	/* Another layout, or the span too wide: field by field. */
	if (cfg->off_version >= 0)
		bpf_probe_read_user(&h->version, sizeof(h->version), (void *)(s + cfg->off_version));
	if (cfg->off_method >= 0)
		bpf_probe_read_user(&h->method, sizeof(h->method), (void *)(s + cfg->off_method));
	if (cfg->off_rbio >= 0 && cfg->off_wbio == cfg->off_rbio + 8) {
		__u64 bio[2] = {};

		if (!bpf_probe_read_user(bio, sizeof(bio), (void *)(s + cfg->off_rbio))) {
			h->rbio = bio[0];
			h->wbio = bio[1];
			h->both_bios = true;
		}
	} else if (cfg->off_rbio >= 0) {
		bpf_probe_read_user(&h->rbio, sizeof(h->rbio), (void *)(s + cfg->off_rbio));
	}
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
 * Per BIO two reads: its method, num and next_bio in one (3.0: 8, 56 and 72 bytes in), and the
 * method's type.
 */
static __always_inline long bio_fd(const struct ossl_cfg *cfg, __u64 bio, __u64 stop)
{
	__s32 lo = min3(cfg->off_bio_method, cfg->off_bio_num, cfg->off_bio_next);
	__s32 hi = max3(cfg->off_bio_method + 8, cfg->off_bio_num + 4, cfg->off_bio_next + 8);
	struct ossl_win *w = ossl_win();

	if (lo < 0)
		return -1;
	for (int i = 0; i < BIO_CHAIN_MAX && bio && bio != stop; i++) {
		__u64 m = 0, next;
		int type = 0, num = -1;

		if (w && !win_read(w, bio + lo, hi - lo)) {
			m = win_u64(w, cfg->off_bio_method - lo);
			num = (int)win_u64(w, cfg->off_bio_num - lo);
			next = win_u64(w, cfg->off_bio_next - lo);
			if (!m || bpf_probe_read_user(&type, sizeof(type),
						      (void *)(m + cfg->off_bio_type)))
				return -1;
			if (type & BIO_TYPE_DESCRIPTOR)
				return num;
			bio = next;
			continue;
		}
		/* Field by field, each only when needed. */
		if (bpf_probe_read_user(&m, sizeof(m), (void *)(bio + cfg->off_bio_method)) || !m ||
		    bpf_probe_read_user(&type, sizeof(type), (void *)(m + cfg->off_bio_type)))
			return -1;
		if (type & BIO_TYPE_DESCRIPTOR)
			return bpf_probe_read_user(&num, sizeof(num),
						   (void *)(bio + cfg->off_bio_num)) ? -1 : num;
		if (bpf_probe_read_user(&bio, sizeof(bio), (void *)(bio + cfg->off_bio_next)))
			return -1;
	}
	return -1;
}

/* The session's socket, from its read BIO, else its write BIO (bpf/libprobe.bpf.h). */
static __always_inline struct sock *ssl_sock(const struct ossl_cfg *cfg, const struct ssl_head *h)
{
	__u64 wbio = h->wbio;
	long fd = -1;

	if (!h->s || cfg->off_bio_num < 0)
		return NULL;
	if (h->rbio)
		fd = bio_fd(cfg, h->rbio, 0);
	if (fd < 0 && !h->both_bios && cfg->off_wbio >= 0)
		bpf_probe_read_user(&wbio, sizeof(wbio), (void *)(h->s + cfg->off_wbio));
	/* The write BIO when it is another (SSL_set_fd and SSL_set_bio(s, b, b) make one; the
	 * handshake's buffering BIO sits in front of it): its chain as far as the read BIO's. */
	if (fd < 0 && wbio && wbio != h->rbio)
		fd = bio_fd(cfg, wbio, h->rbio);
	return fd < 0 ? NULL : at_lib_sock(fd);
}

#endif /* AT_OSSL_SOCK_BPF_H */
