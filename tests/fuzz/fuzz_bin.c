// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * libFuzzer target: the generic binary readers of user/bin on one (mutated) ELF file: the ELF
 * reader and its lookups, the quick peek, .eh_frame, Go's pclntab and build info. Seeds: the
 * host's libssl, libcrypto, libgnutls and a Go program (tests/t_fuzz.sh builds the corpus).
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include "elf.h"
#include "elfpeek.h"
#include "ehframe.h"
#include "gopclntab.h"
#include "fuzz_memfile.h"

static bool peek_cb(void *ctx, const char *name, enum bin_peek_kind kind)
{
	(*(size_t *)ctx) += strlen(name);
	return false;
}

/* Touch what the providers touch: symbols and the bytes they point to. */
static void walk_elf(const struct bin_elf *f)
{
	static const char *const names[] = {"SSL_read",
					    "ssl3_read_bytes",
					    "gnutls_alert_get",
					    "OPENSSL_version",
					    "crypto/tls.(*Conn).sendAlertLocked",
					    "runtime.text",
					    NULL};
	const struct bin_sym *many[6];
	struct bin_fdes fdes = {};
	size_t i;

	for (i = 0; names[i]; i++) {
		const struct bin_sym *s = bin_elf_sym(f, names[i], 0);
		uint64_t v;
		uint32_t u;

		if (!s)
			continue;
		bin_elf_va_ptr(f, s->value, s->size, 1);
		bin_elf_read_ptr(f, s->value, &v);
		bin_elf_read_u32(f, s->value, &u);
		bin_elf_rel_at(f, s->value);
	}
	bin_elf_syms(f, names, 6, 0, many);
	for (i = 0; i < f->nsym && i < 4096; i++) {
		uint64_t off;

		bin_elf_va2off(f, f->sym[i].value, f->sym[i].size, &off, 0);
	}
	for (i = 0; i < f->nsec; i++)
		bin_elf_section(f, f->sec[i].name);
	bin_fdes_load(&fdes, f);
	if (fdes.n) {
		bin_fde_containing(&fdes, fdes.v[fdes.n / 2].start + 1);
		bin_fde_at(&fdes, fdes.v[0].start);
	}
	bin_fdes_free(&fdes);
}

static void walk_go(const struct bin_elf *f)
{
	struct bin_go g = {};
	char ver[64], mod[256];
	uint64_t i, entry, end;
	const char *name;

	bin_go_buildinfo(f, ver, sizeof(ver), mod, sizeof(mod));
	if (bin_go_open(&g, f))
		return;
	for (i = 0; i < g.nfunc && i < 20000; i++)
		if (!bin_go_func_at(&g, i, &name, &entry, &end))
			(void)strlen(name);
	bin_go_func(&g, "crypto/tls.(*Conn).sendAlertLocked", &entry, &end);
	bin_go_func(&g, "crypto/tls.(*Conn).readRecordOrCCS", &entry, &end);
	bin_go_close(&g);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *path = fuzz_memfile(data, size);
	struct bin_elf f;
	char bid[41], why[200];
	size_t seen = 0;

	bin_elf_peek(path, peek_cb, &seen, bid, why, sizeof(why));
	memset(&f, 0, sizeof(f));
	if (bin_elf_open(&f, path) == 0) {
		walk_elf(&f);
		walk_go(&f);
	}
	bin_elf_close(&f);
	return 0;
}
