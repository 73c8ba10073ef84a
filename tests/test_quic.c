// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * QUIC Initial packets (user/wire/quic.c): the keys against RFC 9001 A.1 and RFC 9369 A.1, the
 * RFC's server Initial (A.3) opened, and, with a file argument (tests/t_quic.sh writes it with
 * python's cryptography package, an implementation of its own), datagrams of several flows:
 * each line "FLOW HEX EXPECT", EXPECT "-" (nothing), "none" (opened, no close) or
 * "ALERT:client|server".
 */
#include <stdint.h>
#include "quic.h"
#include "testlib.h"

static int unhex(const char *s, uint8_t *out, size_t cap)
{
	size_t n = 0;

	while (s[0] && s[1] && n < cap) {
		unsigned v;

		if (sscanf(s, "%2x", &v) != 1)
			return -1;
		out[n++] = v;
		s += 2;
	}
	return (int)n;
}

static int check_keys(const char *name, uint32_t v, const char *dcid, bool client,
		      const char *key, const char *iv, const char *hp)
{
	uint8_t d[20], ek[16], ei[12], eh[16];
	struct quic_keys k;
	int n = unhex(dcid, d, sizeof(d));

	unhex(key, ek, 16);
	unhex(iv, ei, 12);
	unhex(hp, eh, 16);
	if (quic_initial_keys(v, d, n, client, &k)) {
		FAILF(name, "no keys");
		return 0;
	}
	if (memcmp(k.key, ek, 16) || memcmp(k.iv, ei, 12) || memcmp(k.hp, eh, 16)) {
		FAILF(name, "keys differ from the RFC's");
		return 0;
	}
	PASS(name);
	return 1;
}

/* RFC 9001 A.3: the server's Initial (ACK and CRYPTO with the ServerHello). */
static const char *a3 =
	"cf000000010008f067a5502a4262b5004075c0d95a482cd0991cd25b0aac406a"
	"5816b6394100f37a1c69797554780bb38cc5a99f5ede4cf73c3ec2493a1839b3"
	"dbcba3f6ea46c5b7684df3548e7ddeb9c3bf9c73cc3f3bded74b562bfb19fb84"
	"022f8ef4cdd93795d77d06edbb7aaf2f58891850abbdca3d20398c276456cbc4"
	"2158407dd074ee";

static void rfc_server_initial(void)
{
	struct quic_flows *fl = quic_flows_new(4);
	struct quic_flow_key k = { .family = 4, .pa = 1, .pb = 2 };
	uint8_t pkt[256], odcid[8];
	struct quic_close c[2];
	int n = unhex(a3, pkt, sizeof(pkt)), r;

	unhex("8394c8f03e515708", odcid, 8);
	r = quic_flow_learn(fl, &k, QUIC_V1, odcid, 8);
	r = r ? r : quic_datagram(fl, &k, pkt, n, c, 2);
	if (CHECK_EQ("rfc9001_a3_server_initial_no_close", 0, r) &&
	    CHECK_EQ("rfc9001_a3_server_initial_opened", 1, quic_stats(fl)->opened))
		PASS("rfc9001_a3_server_initial");
	/* One bit flipped in the ciphertext: the tag refuses it. */
	pkt[40] ^= 1;
	r = quic_datagram(fl, &k, pkt, n, c, 2);
	if (CHECK_EQ("rfc9001_a3_tampered_no_close", 0, r) &&
	    CHECK_EQ("rfc9001_a3_tampered_counted_bad", 1, quic_stats(fl)->bad))
		PASS("rfc9001_a3_tampered_refused");
	quic_flows_free(fl);
}

static void vectors(const char *path)
{
	struct quic_flows *fl = quic_flows_new(64);
	static char line[70000];
	static uint8_t d[32768];
	FILE *f = fopen(path, "r");
	int lineno = 0, bad = 0, good = 0;

	if (!f || !fl) {
		FAILF("vectors_open", "%s", path);
		return;
	}
	while (fgets(line, sizeof(line), f)) {
		char hex[sizeof(line)], expect[64], got[64], name[64];
		struct quic_flow_key k = { .family = 4, .pb = 443 };
		struct quic_close c[4];
		unsigned flow;
		int n, r;

		lineno++;
		if (sscanf(line, "%u %s %63s", &flow, hex, expect) != 3)
			continue;
		k.pa = flow;
		n = unhex(hex, d, sizeof(d));
		r = quic_datagram(fl, &k, d, n, c, 4);
		if (r < 0)
			snprintf(got, sizeof(got), "-");
		else if (r == 0)
			snprintf(got, sizeof(got), "none");
		else
			snprintf(got, sizeof(got), "%u:%s", c[0].alert,
				 c[0].by_client ? "client" : "server");
		snprintf(name, sizeof(name), "vector_line_%d", lineno);
		if (strcmp(got, expect)) {
			FAILF(name, "expected %s, got %s", expect, got);
			bad++;
		} else {
			good++;
		}
	}
	fclose(f);
	if (!bad && good)
		printf("PASS vectors: %d datagrams as expected\n", good);
	else if (!good)
		FAILF("vectors", "no vector in %s", path);
	quic_flows_free(fl);
}

int main(int argc, char **argv)
{
	const char *dcid = "8394c8f03e515708";

	check_keys("rfc9001_a1_client_keys", QUIC_V1, dcid, true, "1f369613dd76d5467730efcbe3b1a22d",
		   "fa044b2f42a3fd3b46fb255c", "9f50449e04a0e810283a1e9933adedd2");
	check_keys("rfc9001_a1_server_keys", QUIC_V1, dcid, false, "cf3a5331653c364c88f0f379b6067e37",
		   "0ac1493ca1905853b0bba03e", "c206b8d9b9f0f37644430b490eeaa314");
	check_keys("rfc9369_a1_client_keys", QUIC_V2, dcid, true, "8b1a0bc121284290a29e0971b5cd045d",
		   "91f73e2351d8fa91660e909f", "45b95e15235d6f45a6b19cbcb0294ba9");
	check_keys("rfc9369_a1_server_keys", QUIC_V2, dcid, false, "82db637861d55e1d011f19ea71d5d2a7",
		   "dd13c276499c0249d3310652", "edf6d05c83121201b436e16877593c3a");
	rfc_server_initial();
	if (argc > 1)
		vectors(argv[1]);
	return tl_failed;
}
