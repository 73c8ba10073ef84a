// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * QUIC Initial packets: keys, header protection, AEAD, frames. See quic.h.
 * RFC 9000 17.2 (long header), 17.2.2 (Initial), 16 (variable-length integers), 19 (frames);
 * RFC 9001 5.2 (Initial secrets), 5.3 (AEAD), 5.4 (header protection); RFC 9369 (QUIC v2).
 */
#include <stdlib.h>
#include <string.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include "quic.h"

/* RFC 9001 5.2 and RFC 9369 3.3.1 */
static const uint8_t salt_v1[20] = {
	0x38, 0x76, 0x2c, 0xf7, 0xf5, 0x59, 0x34, 0xb3, 0x4d, 0x17,
	0x9a, 0xe6, 0xa4, 0xc8, 0x0c, 0xad, 0xcc, 0xbb, 0x7f, 0x0a,
};
static const uint8_t salt_v2[20] = {
	0x0d, 0xed, 0xe3, 0xde, 0xf7, 0x00, 0xa6, 0xdb, 0x81, 0x93,
	0x81, 0xbe, 0x6e, 0x26, 0x9d, 0xcb, 0xf9, 0xbd, 0x2e, 0xd9,
};

/* A flow whose client Initial was seen: the connection ID its keys come from. */
struct quic_flow {
	struct quic_flow_key k;
	uint32_t version;
	uint8_t odcid[QUIC_CID_MAX], odcid_len;
	struct quic_keys client, server;
	uint64_t last_use;
	bool used;
};

struct quic_flows {
	struct quic_flow *v;
	unsigned cap;
	uint64_t clock;
	struct quic_stats st;
};

struct quic_flows *quic_flows_new(unsigned cap)
{
	struct quic_flows *fl = calloc(1, sizeof(*fl));

	if (!fl)
		return NULL;
	fl->cap = cap ? cap : 1;
	fl->v = calloc(fl->cap, sizeof(*fl->v));
	if (!fl->v) {
		free(fl);
		return NULL;
	}
	return fl;
}

void quic_flows_free(struct quic_flows *fl)
{
	if (!fl)
		return;
	free(fl->v);
	free(fl);
}

const struct quic_stats *quic_stats(const struct quic_flows *fl)
{
	return &fl->st;
}

/* HKDF-Expand-Label (RFC 8446 7.1) with an empty context, for outputs of at most 32 bytes: one
 * HMAC block of HKDF-Expand (RFC 5869 2.3). */
static int expand_label(const uint8_t prk[32], const char *label, uint8_t *out, size_t len)
{
	uint8_t info[2 + 1 + 255 + 1 + 1], md[EVP_MAX_MD_SIZE];
	size_t ll = strlen(label), n = 0;
	unsigned mdlen = 0;

	if (len > 32 || 6 + ll > 255)
		return -1;
	info[n++] = len >> 8;
	info[n++] = len & 0xff;
	info[n++] = 6 + ll;
	memcpy(info + n, "tls13 ", 6);
	n += 6;
	memcpy(info + n, label, ll);
	n += ll;
	info[n++] = 0;	/* context length */
	info[n++] = 1;	/* HKDF-Expand's counter */
	if (!HMAC(EVP_sha256(), prk, 32, info, n, md, &mdlen) || mdlen < len)
		return -1;
	memcpy(out, md, len);
	return 0;
}

int quic_initial_keys(uint32_t version, const uint8_t *dcid, size_t dcid_len, bool client,
		      struct quic_keys *k)
{
	bool v2 = version == QUIC_V2;
	uint8_t initial[32], secret[32];
	unsigned len = 0;

	if (version != QUIC_V1 && !v2)
		return -1;
	/* HKDF-Extract(salt, IKM) = HMAC(salt, IKM) */
	if (!HMAC(EVP_sha256(), v2 ? salt_v2 : salt_v1, 20, dcid, dcid_len, initial, &len) ||
	    len != 32)
		return -1;
	if (expand_label(initial, client ? "client in" : "server in", secret, 32) ||
	    expand_label(secret, v2 ? "quicv2 key" : "quic key", k->key, 16) ||
	    expand_label(secret, v2 ? "quicv2 iv" : "quic iv", k->iv, 12) ||
	    expand_label(secret, v2 ? "quicv2 hp" : "quic hp", k->hp, 16))
		return -1;
	return 0;
}

/* RFC 9000 16: the two high bits give the length. Returns bytes used, 0 when short. */
static size_t varint(const uint8_t *p, size_t n, uint64_t *v)
{
	size_t len, i;

	if (!n)
		return 0;
	len = (size_t)1 << (p[0] >> 6);
	if (len > n)
		return 0;
	*v = p[0] & 0x3f;
	for (i = 1; i < len; i++)
		*v = *v << 8 | p[i];
	return len;
}

static int aes_ecb_block(const uint8_t key[16], const uint8_t in[16], uint8_t out[16])
{
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	int len = 0, ok;

	if (!c)
		return -1;
	ok = EVP_EncryptInit_ex(c, EVP_aes_128_ecb(), NULL, key, NULL) &&
	     EVP_CIPHER_CTX_set_padding(c, 0) && EVP_EncryptUpdate(c, out, &len, in, 16) &&
	     len == 16;
	EVP_CIPHER_CTX_free(c);
	return ok ? 0 : -1;
}

static int aes_gcm_open(const struct quic_keys *k, uint64_t pn, const uint8_t *aad, size_t aadlen,
			const uint8_t *ct, size_t ctlen, uint8_t *pt)
{
	EVP_CIPHER_CTX *c;
	uint8_t nonce[12];
	int len = 0, ok, i;

	if (ctlen < 16)
		return -1;
	memcpy(nonce, k->iv, 12);
	for (i = 0; i < 8; i++)
		nonce[11 - i] ^= (uint8_t)(pn >> (8 * i));
	c = EVP_CIPHER_CTX_new();
	if (!c)
		return -1;
	ok = EVP_DecryptInit_ex(c, EVP_aes_128_gcm(), NULL, NULL, NULL) &&
	     EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_IVLEN, 12, NULL) &&
	     EVP_DecryptInit_ex(c, NULL, NULL, k->key, nonce) &&
	     EVP_DecryptUpdate(c, NULL, &len, aad, (int)aadlen) &&
	     EVP_DecryptUpdate(c, pt, &len, ct, (int)(ctlen - 16)) &&
	     EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, 16, (void *)(ct + ctlen - 16)) &&
	     EVP_DecryptFinal_ex(c, pt + len, &len) > 0;
	EVP_CIPHER_CTX_free(c);
	return ok ? (int)(ctlen - 16) : -1;
}

/*
 * Remove header protection and the AEAD of one Initial packet at P (N bytes from its first byte
 * to the end of its Length), PN_OFF the packet number's offset. Returns the plaintext length.
 */
static int open_packet(const struct quic_keys *k, const uint8_t *p, size_t n, size_t pn_off,
		       uint8_t *pt)
{
	uint8_t hdr[1 + 4 + 1 + QUIC_CID_MAX + 1 + QUIC_CID_MAX + 8 + 8 + 4 + 1024], mask[16];
	size_t pn_len, i;
	uint64_t pn = 0;

	/* RFC 9001 5.4.2: the sample starts 4 bytes after the packet number's start. */
	if (pn_off + 4 + 16 > n || pn_off + 4 > sizeof(hdr))
		return -1;
	if (aes_ecb_block(k->hp, p + pn_off + 4, mask))
		return -1;
	memcpy(hdr, p, pn_off + 4);
	hdr[0] ^= mask[0] & 0x0f;	/* long header: the low 4 bits */
	pn_len = (hdr[0] & 3) + 1;
	for (i = 0; i < pn_len; i++) {
		hdr[pn_off + i] ^= mask[1 + i];
		pn = pn << 8 | hdr[pn_off + i];
	}
	/* The packet number is not expanded against the largest seen (RFC 9000 A.3): the first
	 * packets of a connection are the ones that carry Initial closes, and their numbers are
	 * small. */
	return aes_gcm_open(k, pn, hdr, pn_off + pn_len, p + pn_off + pn_len, n - pn_off - pn_len,
			    pt);
}

/* The next variable-length integer at *off into *v, *off past it; false at the end. */
static bool take(const uint8_t *p, size_t n, size_t *off, uint64_t *v)
{
	size_t u = varint(p + *off, n - *off, v);

	*off += u;
	return u != 0;
}

/* RFC 9000 19: the frames an Initial packet may carry (12.4: PADDING, PING, ACK, CRYPTO,
 * CONNECTION_CLOSE of type 0x1c). Stores the crypto-error closes; -1 on a malformed frame. */
static int frames(const uint8_t *p, size_t n, uint32_t version, bool by_client,
		  struct quic_close *out, int max, int *nout)
{
	size_t off = 0;
	uint64_t t, a, b, c, i;

	while (off < n) {
		t = p[off];
		if (t == 0x00 || t == 0x01) {	/* PADDING, PING */
			off++;
			continue;
		}
		if (!take(p, n, &off, &t))
			return -1;
		switch (t) {
		case 0x02:
		case 0x03:	/* ACK: largest, delay, range count, first range, ranges, ECN */
			if (!take(p, n, &off, &a) || !take(p, n, &off, &a) ||
			    !take(p, n, &off, &c) || !take(p, n, &off, &a) || c > n)
				return -1;
			for (i = 0; i < 2 * c + (t == 0x03 ? 3 : 0); i++)
				if (!take(p, n, &off, &a))
					return -1;
			break;
		case 0x06:	/* CRYPTO: offset, length, data */
			if (!take(p, n, &off, &a) || !take(p, n, &off, &b) || b > n - off)
				return -1;
			off += b;
			break;
		case 0x1c:	/* CONNECTION_CLOSE: error, frame type, reason length, reason */
			if (!take(p, n, &off, &a) || !take(p, n, &off, &b) ||
			    !take(p, n, &off, &c) || c > n - off)
				return -1;
			if (a >= 0x100 && a <= 0x1ff && *nout < max) {
				struct quic_close *q = &out[(*nout)++];
				size_t rl = c < sizeof(q->reason) - 1 ? c : sizeof(q->reason) - 1;

				memset(q, 0, sizeof(*q));
				q->version = version;
				q->by_client = by_client;
				q->alert = (uint8_t)(a - 0x100);
				q->frame_type = b;
				memcpy(q->reason, p + off, rl);
			}
			off += c;
			break;
		default:	/* not allowed in an Initial packet */
			return -1;
		}
	}
	return 0;
}

static bool key_eq(const struct quic_flow_key *x, const struct quic_flow_key *y)
{
	return x->family == y->family && x->pa == y->pa && x->pb == y->pb &&
	       !memcmp(x->a, y->a, 16) && !memcmp(x->b, y->b, 16);
}

static struct quic_flow *flow_find(struct quic_flows *fl, const struct quic_flow_key *k)
{
	unsigned i;

	for (i = 0; i < fl->cap; i++)
		if (fl->v[i].used && key_eq(&fl->v[i].k, k))
			return &fl->v[i];
	return NULL;
}

/* A new flow takes a free slot or the least recently used one. */
static struct quic_flow *flow_add(struct quic_flows *fl, const struct quic_flow_key *k)
{
	struct quic_flow *f = &fl->v[0];
	unsigned i;

	for (i = 0; i < fl->cap; i++) {
		if (!fl->v[i].used) {
			f = &fl->v[i];
			break;
		}
		if (fl->v[i].last_use < f->last_use)
			f = &fl->v[i];
	}
	memset(f, 0, sizeof(*f));
	f->k = *k;
	f->used = true;
	return f;
}

int quic_flow_learn(struct quic_flows *fl, const struct quic_flow_key *k, uint32_t version,
		    const uint8_t *odcid, size_t len)
{
	struct quic_flow *f = flow_find(fl, k);

	if (len > QUIC_CID_MAX)
		return -1;
	if (!f)
		f = flow_add(fl, k);
	f->version = version;
	f->odcid_len = len;
	memcpy(f->odcid, odcid, len);
	f->last_use = ++fl->clock;
	if (quic_initial_keys(version, odcid, len, true, &f->client) ||
	    quic_initial_keys(version, odcid, len, false, &f->server))
		return -1;
	return 0;
}

/* Initial packet type bits: v1 0b00, v2 0b01 (RFC 9369 3.2). */
static bool is_initial(uint8_t b0, uint32_t v)
{
	unsigned type = (b0 >> 4) & 3;

	return v == QUIC_V2 ? type == 1 : type == 0;
}

int quic_datagram(struct quic_flows *fl, const struct quic_flow_key *k, const uint8_t *d,
		  size_t n, struct quic_close *out, int max)
{
	static uint8_t pt[65536];
	size_t off = 0;
	int nout = 0, initials = 0;

	fl->st.datagrams++;
	while (off + 7 <= n) {
		const uint8_t *p = d + off;
		size_t rem = n - off, q = 5, dl, sl, pn_off, end;
		uint64_t tok, len;
		uint32_t v;
		struct quic_flow *f;
		struct quic_keys ck;
		int ptlen = -1;
		bool by_client = false;
		size_t u;

		if (!(p[0] & 0x80))	/* a short header runs to the datagram's end */
			break;
		v = (uint32_t)p[1] << 24 | p[2] << 16 | p[3] << 8 | p[4];
		if (v == 0)		/* Version Negotiation */
			break;
		dl = p[q++];
		if (dl > QUIC_CID_MAX || q + dl + 1 > rem)
			break;
		q += dl;
		sl = p[q++];
		if (sl > QUIC_CID_MAX || q + sl > rem)
			break;
		q += sl;
		if ((v != QUIC_V1 && v != QUIC_V2) || (((p[0] >> 4) & 3) == (v == QUIC_V2 ? 0 : 3)))
			break;		/* another version, or Retry (no Length): stop */
		if (is_initial(p[0], v)) {
			if (!(u = varint(p + q, rem - q, &tok)) || tok > rem - q - u)
				break;
			q += u + tok;
		}
		if (!(u = varint(p + q, rem - q, &len)) || len > rem - q - u)
			break;
		pn_off = q + u;
		end = pn_off + len;
		off += end;
		if (!is_initial(p[0], v))
			continue;	/* 0-RTT or Handshake: not ours to open */
		initials++;
		fl->st.initials++;
		f = flow_find(fl, k);
		if (f && f->version == v) {
			ptlen = open_packet(&f->client, p, end, pn_off, pt);
			by_client = ptlen >= 0;
			if (ptlen < 0)
				ptlen = open_packet(&f->server, p, end, pn_off, pt);
		}
		if (ptlen < 0 && !quic_initial_keys(v, p + 6, dl, true, &ck)) {
			/* A client's first flight: its DCID is the one every Initial key comes
			 * from. */
			ptlen = open_packet(&ck, p, end, pn_off, pt);
			if (ptlen >= 0) {
				by_client = true;
				fl->st.flows++;
				quic_flow_learn(fl, k, v, p + 6, dl);
				f = flow_find(fl, k);
			}
		}
		if (ptlen < 0) {
			if (f)
				fl->st.bad++;
			else
				fl->st.unknown_flow++;
			continue;
		}
		fl->st.opened++;
		f->last_use = ++fl->clock;
		if (frames(pt, ptlen, v, by_client, out, max, &nout))
			fl->st.bad++;
	}
	return initials ? nout : -1;
}
