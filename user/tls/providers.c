// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The table of TLS library providers (provider.h), and the helpers their analysers share. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "provider.h"

extern const struct tls_provider openssl_provider;
extern const struct tls_provider gnutls_provider;
extern const struct tls_provider go_provider;

const struct tls_provider *const tls_providers[] = {
	&openssl_provider,
	&gnutls_provider,
	&go_provider,
	NULL,
};

void tp_plan_init(struct tp_plan *p)
{
	memset(p, 0, sizeof(*p));
}

void tp_plan_set(struct tp_plan *p, int rc, const char *why, const char *version,
		 const char *build_id)
{
	p->rc = rc;
	snprintf(p->why, sizeof(p->why), "%s", why ? why : "");
	snprintf(p->version, sizeof(p->version), "%s", version ? version : "");
	snprintf(p->build_id, sizeof(p->build_id), "%s", build_id ? build_id : "");
}

struct tp_hook *tp_hook_add(struct tp_plan *p, const char *key, const char *name)
{
	/* Analysers add a fixed number of hooks: running out is a programming error, and the
	 * last slot is reused rather than written past. */
	struct tp_hook *h = &p->hooks[p->nhooks < TP_MAX_HOOKS ? p->nhooks++ : TP_MAX_HOOKS - 1];

	memset(h, 0, sizeof(*h));
	h->key = key;
	h->name = name;
	h->unless = -1;
	return h;
}

void tp_hook_probe(struct tp_hook *h, const char *prog, uint64_t file_off, uint64_t cookie,
		   bool ret)
{
	if (h->nprobes >= TP_MAX_PROBES)
		return;
	h->probes[h->nprobes++] = (struct tp_probe){prog, file_off, cookie, ret};
	h->placed = true;
	h->why[0] = 0;
}

bool tp_addrs_off(void)
{
	const char *v = getenv("ALERTTRACE_NO_ADDRS");

	return v && !strcmp(v, "1");
}
