/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * What the exporter's tests share (test_metrics.c: the table, the exposition text, the textfile;
 * test_metrics_http.c: the HTTP server): rows added to a table, rendered text searched line by
 * line, a table of hostile comms, a scratch directory. Included once per test program, after
 * its system headers.
 */
#ifndef AT_METRICS_T_H
#define AT_METRICS_T_H

#include "testlib.h"
#include "alerttrace.h"
#include "agg.h"
#include "metrics.h"


static __attribute__((unused)) char tmpdir[] = "/tmp/test_metrics.XXXXXX";

static __attribute__((unused)) struct agg_row row(__u32 pid, const char *comm, int src, int dir, int level, int code,
			  int enc, __u64 count)
{
	struct agg_row r;

	memset(&r, 0, sizeof(r));
	r.pid = pid;
	memcpy(r.comm, comm, strnlen(comm, sizeof(r.comm) - 1));
	r.source = src;
	r.direction = dir;
	r.level = level;
	r.code = code;
	r.encrypted = enc;
	r.count = count;
	return r;
}

static __attribute__((unused)) void add(struct agg_table *t, struct agg_row r)
{
	if (agg_add(t, &r))
		FAILF("agg_add", "out of memory");
}

static __attribute__((unused)) double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static __attribute__((unused)) char *render(const struct agg_table *t, const struct metrics_info *mi)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	if (!f)
		return NULL;
	if (metrics_render(f, t, mi)) {
		fclose(f);
		free(out);
		return NULL;
	}
	fclose(f);
	return out;
}

/* Does text hold line as a whole line? */
static __attribute__((unused)) bool has_line(const char *text, const char *line)
{
	size_t n = strlen(line);
	const char *p = text;

	while ((p = strstr(p, line))) {
		if ((p == text || p[-1] == '\n') && p[n] == '\n')
			return true;
		p++;
	}
	return false;
}

static __attribute__((unused)) int count_prefix(const char *text, const char *prefix)
{
	int n = 0;
	const char *p = text;

	for (; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (!strncmp(p, prefix, strlen(prefix)))
			n++;
	return n;
}

static __attribute__((unused)) void check_line(const char *name, const char *text, const char *line)
{
	if (text && has_line(text, line))
		PASS(name);
	else
		FAILF(name, "expected the line '%s' in:\n%s", line, text ? text : "(null)");
}

static __attribute__((unused)) char *read_file(const char *path, size_t *lenp)
{
	FILE *f = fopen(path, "r");
	char *buf;
	long len;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	rewind(f);
	buf = malloc(len + 1);
	if (buf && fread(buf, 1, len, f) != (size_t)len) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	if (buf) {
		buf[len] = '\0';
		if (lenp)
			*lenp = len;
	}
	return buf;
}

static __attribute__((unused)) int write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (!f)
		return -1;
	fputs(text, f);
	return fclose(f);
}


static __attribute__((unused)) void fill_hostile(struct agg_table *t)
{
	/* pid 10 and 11 differ only by pid: summed without --metrics-pid. */
	add(t, row(10, "curl", AT_SRC_OPENSSL, AT_DIR_SENT, 2, 48, 0, 3));
	add(t, row(11, "curl", AT_SRC_OPENSSL, AT_DIR_SENT, 2, 48, 0, 4));
	add(t, row(12, "a\"b\\c\n", AT_SRC_OPENSSL, AT_DIR_RECEIVED, 2, 42, 0, 5));
	add(t, row(13, "\x1b[31mred\x1b]0;x\a", AT_SRC_OPENSSL, AT_DIR_SENT, 1, 0, 0, 6));
	add(t, row(14, "bad\xff\xc3(", AT_SRC_OPENSSL, AT_DIR_SENT, 2, 40, 0, 7));
	/* "x\xfe" and "x\xff" both render as x U+FFFD: one series, not two identical ones. */
	add(t, row(15, "x\xfe", AT_SRC_OPENSSL, AT_DIR_SENT, 2, 40, 0, 1));
	add(t, row(16, "x\xff", AT_SRC_OPENSSL, AT_DIR_SENT, 2, 40, 0, 2));
	/* An ESC byte and the four characters \x1b render alike too. */
	add(t, row(17, "\x1b", AT_SRC_OPENSSL, AT_DIR_SENT, 2, 40, 0, 1));
	add(t, row(18, "\\x1b", AT_SRC_OPENSSL, AT_DIR_SENT, 2, 40, 0, 1));
	add(t, row(19, "caf\xc3\xa9", AT_SRC_OPENSSL, AT_DIR_SENT, 2, 40, 0, 1));
	/* Wire: no process; encrypted records with whatever bytes, all one series. */
	add(t, row(0, "", AT_SRC_WIRE, AT_DIR_RECEIVED, 0, 0, 1, 2));
	add(t, row(0, "", AT_SRC_WIRE, AT_DIR_RECEIVED, 21, 99, 1, 3));
	add(t, row(0, "", AT_SRC_WIRE, AT_DIR_SENT, 3, 200, 0, 1));
	add(t, row(0, "", AT_SRC_WIRE, AT_DIR_SENT, 2, 21, 0, 9));
}

static __attribute__((unused)) const struct metrics_info info = {
	.lost_events = 12,
	.hist_lost = 3,
	.possible_misses = 4,
	.quic_unopened = 5,
	.hooked_libs = 2,
	.version = "v1.2-\"dirty\"",
};

#define OSSL_SENT "alerttrace_alerts_total{source=\"openssl\",direction=\"sent\","

/* The scratch directory made (0), or 1 after a FAIL line. */
static __attribute__((unused)) int mt_setup(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!mkdtemp(tmpdir)) {
		FAILF("setup", "mkdtemp: %s", strerror(errno));
		return 1;
	}
	return 0;
}

/* The scratch directory removed; the test's status. */
static __attribute__((unused)) int mt_done(void)
{
	char cmd[300];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	if (system(cmd) != 0)
		perror("rm");
	return tl_failed;
}

#endif
