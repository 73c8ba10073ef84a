// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * bin/elfpeek.c, the quick look discovery takes at every new file, against binutils: the build-id
 * is what readelf -n prints, the defined functions are nm's (imports left out), the callback can
 * stop the walk, and bad input is refused with a reason.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "elfpeek.h"
#include "testlib.h"

#define LIBSSL "/usr/lib/x86_64-linux-gnu/libssl.so.3"

struct count {
	int n;
	int stop_at;
	bool saw_ssl_ctx_new, saw_import;
	int sections;
};

static bool count_cb(void *ctx, const char *name, enum bin_peek_kind kind)
{
	struct count *c = ctx;

	if (kind == BIN_PEEK_SECTION) {
		c->sections += !strcmp(name, ".dynsym");
		return false;
	}

	c->n++;
	if (!strcmp(name, "SSL_CTX_new"))
		c->saw_ssl_ctx_new = true;
	if (!strcmp(name, "ERR_new")) /* libcrypto's: libssl imports it */
		c->saw_import = true;
	return c->stop_at && c->n >= c->stop_at;
}

static long sh_num(const char *cmd)
{
	char buf[64] = "";
	FILE *p = popen(cmd, "r");

	if (!p)
		return -1;
	if (!fgets(buf, sizeof(buf), p))
		buf[0] = 0;
	pclose(p);
	return buf[0] ? strtol(buf, NULL, 10) : -1;
}

int main(void)
{
	char bid[41], why[128], want[64] = "";
	struct count c = {0};
	long nm_n;
	FILE *p;

	if (bin_elf_peek(LIBSSL, count_cb, &c, bid, why, sizeof(why))) {
		FAILF("peek_libssl", "expected 0, got -1: %s", why);
		return 1;
	}
	p = popen("readelf -n " LIBSSL " | sed -n 's/.*Build ID: //p'", "r");
	if (p && fgets(want, sizeof(want), p))
		want[strcspn(want, "\n")] = 0;
	if (p)
		pclose(p);
	if (CHECK_STR("peek_build_id_as_readelf", want, bid))
		PASS("peek_build_id_as_readelf");
	/* Every defined function of .dynsym (libssl has no .symtab): what nm -D lists as T/t/W/i. */
	nm_n = sh_num("nm -D --defined-only " LIBSSL " | awk '$2 ~ /^[TtWi]$/' | wc -l");
	if (CHECK_EQ("peek_defined_functions_as_nm", nm_n, c.n))
		PASS("peek_defined_functions_as_nm");
	if (CHECK_EQ("peek_sees_section_names", 1, c.sections))
		PASS("peek_sees_section_names");
	if (c.saw_ssl_ctx_new && !c.saw_import)
		PASS("peek_exports_yes_imports_no");
	else
		FAILF("peek_exports_yes_imports_no", "SSL_CTX_new seen %d (want 1), ERR_new seen %d "
		      "(want 0)", c.saw_ssl_ctx_new, c.saw_import);
	c = (struct count){.stop_at = 3};
	bin_elf_peek(LIBSSL, count_cb, &c, bid, why, sizeof(why));
	if (CHECK_EQ("peek_stops_when_asked", 3, c.n))
		PASS("peek_stops_when_asked");
	if (bin_elf_peek("/nonexistent/x.so", count_cb, &c, bid, why, sizeof(why)) == -1 &&
	    strstr(why, "cannot open"))
		PASS("peek_refuses_missing_file");
	else
		FAILF("peek_refuses_missing_file", "expected -1 with 'cannot open', got '%s'", why);
	if (bin_elf_peek("/etc/passwd", count_cb, &c, bid, why, sizeof(why)) == -1 &&
	    strstr(why, "not an ELF"))
		PASS("peek_refuses_text_file");
	else
		FAILF("peek_refuses_text_file", "expected -1 with 'not an ELF', got '%s'", why);
	return tl_failed;
}
