// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * libFuzzer target: every TLS provider's analysis entry point (what the tracer runs on each
 * library and program it finds) on one (mutated) ELF file: OpenSSL's SSL_METHOD/.rela.dyn/
 * .eh_frame/disassembly search, GnuTLS's data flow, Go's pclntab path. "Never crashes on bad
 * input" is the providers' contract (user/tls/provider.h).
 */
#include <stdint.h>
#include <string.h>
#include "provider.h"
#include "fuzz_memfile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *path = fuzz_memfile(data, size);
	static struct tp_plan plan;
	int i;

	for (i = 0; tls_providers[i]; i++) {
		tp_plan_init(&plan);
		tls_providers[i]->analyse(path, "", &plan);
	}
	return 0;
}
