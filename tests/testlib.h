/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Minimal test helpers: each check prints PASS/FAIL lines that tests/run.sh counts. */
#ifndef AT_TESTLIB_H
#define AT_TESTLIB_H
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int tl_failed;

#define PASS(name) printf("PASS %s\n", name)
#define FAILF(name, fmt, ...) (tl_failed = 1, printf("FAIL %s: " fmt "\n", name, ##__VA_ARGS__))
#define SKIP(name, reason) printf("SKIP %s: %s\n", name, reason)

/* Integer equality: prints expected vs actual on failure. Returns 1 on success. */
#define CHECK_EQ(name, exp, act)                                                                  \
	({                                                                                         \
		long long _e = (long long)(exp), _a = (long long)(act);                           \
		int _ok = _e == _a;                                                                \
		if (!_ok)                                                                          \
			FAILF(name, "%s: expected %lld, got %lld", #act, _e, _a);                  \
		_ok;                                                                               \
	})

#define CHECK_STR(name, exp, act)                                                                 \
	({                                                                                         \
		const char *_e = (exp), *_a = (act);                                               \
		int _ok = _a && strcmp(_e, _a) == 0;                                               \
		if (!_ok)                                                                          \
			FAILF(name, "%s: expected \"%s\", got \"%s\"", #act, _e, _a ? _a : "(null)"); \
		_ok;                                                                               \
	})

/* Root is needed for BPF; outside CI a non-root run skips with this reason. */
static inline int tl_need_root(const char *name)
{
	if (geteuid() == 0)
		return 1;
	SKIP(name, "needs root (CAP_BPF): run as root");
	return 0;
}

#endif
