// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Prometheus exporter: text exposition format 0.0.4
 * (https://prometheus.io/docs/instrumenting/exposition_formats/), rendered here and written as a
 * node_exporter textfile; metrics_http.c serves the same text over HTTP.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "alerttrace.h"
#include "alerts.h"
#include "container.h"
#include "metrics.h"
#include "metrics_local.h"
#include "sources.h"
#include "strutil.h"

/*
 * A comm as a label value, quotes stripped: at most 15 bytes, each at worst "\\xHH" (5 chars).
 */
#define COMM_LABEL_MAX (15 * 5 + 1)

struct series {
	__u64 count;
	__u32 pid;
	__u8 source, direction, level, code, encrypted;
	char comm[COMM_LABEL_MAX];
	/* --metrics-label container: hex digits and dashes only, no escaping needed */
	char ctr[CT_ID_LEN + 1];
	char pod[CT_UID_LEN + 1];
};

void seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* Printable ASCII without '"' and '\\': prom_label would copy it unchanged. */
static int comm_is_plain(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (s[i] < 0x20 || s[i] > 0x7e || s[i] == '"' || s[i] == '\\')
			return 0;
	return 1;
}

/*
 * The comm label text (without quotes) exactly as prom_label writes it. Series are merged on
 * this text, not on the raw bytes: two comms the escaping maps to the same text ("\xff" and
 * "\xfe" both become U+FFFD) must not produce two identical series.
 */
static int comm_label(char *dst, const char comm[AT_TASK_COMM_LEN])
{
	size_t len = strnlen(comm, AT_TASK_COMM_LEN - 1), got;
	char raw[AT_TASK_COMM_LEN], tmp[COMM_LABEL_MAX + 2];
	FILE *f;

	if (comm_is_plain(comm, len)) {
		memcpy(dst, comm, len);
		dst[len] = '\0';
		return 0;
	}
	memcpy(raw, comm, len);
	raw[len] = '\0';
	f = fmemopen(tmp, sizeof(tmp), "w");
	if (!f)
		return -ENOMEM;
	prom_label(f, raw);
	got = ftell(f);
	fclose(f);
	if (got < 2 || got > sizeof(tmp) - 1)
		return -EIO;	/* cannot happen: see COMM_LABEL_MAX */
	memcpy(dst, tmp + 1, got - 2);
	dst[got - 2] = '\0';
	return 0;
}

static int series_cmp(const void *pa, const void *pb)
{
	const struct series *a = pa, *b = pb;
	int c;

	if (a->source != b->source)
		return a->source < b->source ? -1 : 1;
	if (a->direction != b->direction)
		return a->direction < b->direction ? -1 : 1;
	if (a->encrypted != b->encrypted)
		return a->encrypted < b->encrypted ? -1 : 1;
	if (a->level != b->level)
		return a->level < b->level ? -1 : 1;
	if (a->code != b->code)
		return a->code < b->code ? -1 : 1;
	c = strcmp(a->comm, b->comm);
	if (c)
		return c < 0 ? -1 : 1;
	if (a->pid != b->pid)
		return a->pid < b->pid ? -1 : 1;
	c = strcmp(a->ctr, b->ctr);
	if (!c)
		c = strcmp(a->pod, b->pod);
	return c < 0 ? -1 : c > 0;
}

static const char *direction_name(int d, char *buf, size_t n)
{
	if (d == AT_DIR_SENT)
		return "sent";
	if (d == AT_DIR_RECEIVED)
		return "received";
	snprintf(buf, n, "unknown(%d)", d);
	return buf;
}

static void write_series(FILE *f, const struct series *s, const struct metrics_info *info)
{
	char b1[AT_SOURCE_NAME_MAX], b2[24], b3[24], b4[24];

	fputs("alerttrace_alerts_total{source=", f);
	prom_label(f, at_source_name(s->source, b1, sizeof(b1)));
	fputs(",direction=", f);
	prom_label(f, direction_name(s->direction, b2, sizeof(b2)));
	fputs(",level=", f);
	prom_label(f, s->encrypted ? "encrypted" : at_level_name(s->level, b3, sizeof(b3)));
	fputs(",alert=", f);
	prom_label(f, s->encrypted ? "encrypted" : at_alert_name(s->code, b4, sizeof(b4)));
	/* Already escaped by comm_label. */
	fprintf(f, ",comm=\"%s\"", s->comm);
	if (info->with_pid)
		fprintf(f, ",pid=\"%u\"", s->pid);
	/* "" outside containers (Prometheus reads an empty label as no label) */
	if (info->with_container)
		fprintf(f, ",container_id=\"%s\",pod_uid=\"%s\"", s->ctr, s->pod);
	fprintf(f, "} %llu\n", (unsigned long long)s->count);
}

/* Sorted, merged series for t; *out is malloc'ed (NULL when there are none). Count or -errno. */
static long build_series(const struct agg_table *t, const struct metrics_info *info,
			 struct series **out)
{
	struct series *v;
	size_t i, n = 0;
	int err;

	*out = NULL;
	if (!t || !t->n)
		return 0;
	v = calloc(t->n, sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (i = 0; i < t->n; i++) {
		const struct agg_row *r = &t->rows[i];
		struct series *s = &v[i];

		s->count = r->count;
		s->pid = info->with_pid ? r->pid : 0;
		if (info->with_container) {
			const struct ct_entry *e = ct_lookup(r->cgroup_id);

			if (e && e->path) {
				memcpy(s->ctr, e->info.id, sizeof(s->ctr));
				memcpy(s->pod, e->info.pod_uid, sizeof(s->pod));
			}
		}
		s->source = r->source;
		s->direction = r->direction;
		s->encrypted = !!r->encrypted;
		/* An encrypted alert has no readable level or code: one series per process. */
		s->level = s->encrypted ? 0 : r->level;
		s->code = s->encrypted ? 0 : r->code;
		err = comm_label(s->comm, r->comm);
		if (err) {
			free(v);
			return err;
		}
	}
	qsort(v, t->n, sizeof(*v), series_cmp);
	for (i = 0; i < t->n; i++) {
		if (n && series_cmp(&v[n - 1], &v[i]) == 0)
			v[n - 1].count += v[i].count;
		else
			v[n++] = v[i];
	}
	*out = v;
	return n;
}

int metrics_render(FILE *f, const struct agg_table *totals, const struct metrics_info *info)
{
	static const struct metrics_info none;
	struct series *v;
	long n, i;

	if (!info)
		info = &none;
	n = build_series(totals, info, &v);
	if (n < 0)
		return n;
	fputs("# HELP alerttrace_alerts_total TLS alerts seen since start, by source, direction, "
	      "level, alert and process.\n"
	      "# TYPE alerttrace_alerts_total counter\n", f);
	for (i = 0; i < n; i++)
		write_series(f, &v[i], info);
	free(v);
	fprintf(f,
		"# HELP alerttrace_lost_events_total Events dropped: the ring buffer was full.\n"
		"# TYPE alerttrace_lost_events_total counter\n"
		"alerttrace_lost_events_total %llu\n"
		"# HELP alerttrace_hist_lost_total Alerts not counted: histogram map full.\n"
		"# TYPE alerttrace_hist_lost_total counter\n"
		"alerttrace_hist_lost_total %llu\n"
		"# HELP alerttrace_wire_possible_misses_total TCP segments of TLS flows not read "
		"(out of order or after a loss): an alert in them is missed.\n"
		"# TYPE alerttrace_wire_possible_misses_total counter\n"
		"alerttrace_wire_possible_misses_total %llu\n"
		"# HELP alerttrace_quic_unopened_total QUIC Initial packets not opened: over the "
		"rate limit.\n"
		"# TYPE alerttrace_quic_unopened_total counter\n"
		"alerttrace_quic_unopened_total %llu\n"
		"# HELP alerttrace_hooked_libraries TLS libraries with attached probes.\n"
		"# TYPE alerttrace_hooked_libraries gauge\n"
		"alerttrace_hooked_libraries %u\n"
		"# HELP alerttrace_build_info alerttrace version; the value is always 1.\n"
		"# TYPE alerttrace_build_info gauge\n"
		"alerttrace_build_info{version=",
		(unsigned long long)info->lost_events, (unsigned long long)info->hist_lost,
		(unsigned long long)info->possible_misses, (unsigned long long)info->quic_unopened,
		info->hooked_libs);
	prom_label(f, info->version ? info->version : "unknown");
	fputs("} 1\n", f);
	return ferror(f) ? -EIO : 0;
}

/* ---- textfile ------------------------------------------------------------------------------ */

/*
 * The temporary file next to path: ".NAME.XXXXXX" (the collector reads only *.prom, and mkstemp's
 * suffix has no dot), created. Returns its fd with *dirp and *tmpp allocated, or a negative errno
 * with one line in err and nothing allocated.
 */
static int open_tmp(const char *path, char **dirp, char **tmpp, char *err, size_t errlen)
{
	char *dir = NULL, *tmp = NULL, ebuf[64], safe[256], dsafe[256];
	const char *slash, *base;
	int fd;

	*dirp = *tmpp = NULL;
	if (!path || !*path) {
		seterr(err, errlen, "empty metrics file path");
		return -EINVAL;
	}
	text_safe(path, safe, sizeof(safe));
	slash = strrchr(path, '/');
	base = slash ? slash + 1 : path;
	if (!*base || !strcmp(base, ".") || !strcmp(base, "..")) {
		seterr(err, errlen, "metrics file '%s' names a directory: give a file, e.g. "
		       "DIR/alerttrace.prom", safe);
		return -EISDIR;
	}
	if (!slash)
		dir = strdup(".");
	else if (slash == path)
		dir = strdup("/");
	else
		dir = strndup(path, slash - path);
	if (!dir || asprintf(&tmp, "%s/.%s.XXXXXX", dir, base) < 0) {
		free(dir);
		seterr(err, errlen, "cannot write metrics file '%s': out of memory", safe);
		return -ENOMEM;
	}
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		fd = -errno;
		text_safe(dir, dsafe, sizeof(dsafe));
		seterr(err, errlen, "cannot write metrics file '%s': cannot create a file in '%s': "
		       "%s (the directory must exist and be writable)", safe, dsafe,
		       errtext(-fd, ebuf, sizeof(ebuf)));
		free(tmp);
		free(dir);
		return fd;
	}
	*dirp = dir;
	*tmpp = tmp;
	return fd;
}

int metrics_check_textfile(const char *path, char *err, size_t errlen)
{
	char *dir, *tmp;
	int fd = open_tmp(path, &dir, &tmp, err, errlen);

	if (fd < 0)
		return fd;
	close(fd);
	unlink(tmp);
	free(tmp);
	free(dir);
	return 0;
}

int metrics_write_textfile(const char *path, const struct agg_table *totals,
			   const struct metrics_info *info, char *err, size_t errlen)
{
	char *dir, *tmp, ebuf[64], safe[256];
	int fd, dfd, ret = 0;
	FILE *f = NULL;

	fd = open_tmp(path, &dir, &tmp, err, errlen);
	if (fd < 0)
		return fd;
	text_safe(path, safe, sizeof(safe));
	/* mkstemp makes 0600; the collector usually runs as another user. */
	if (fchmod(fd, 0644) < 0 || !(f = fdopen(fd, "w"))) {
		ret = -errno;
		goto write_failed;
	}
	fd = -1;	/* owned by f now */
	ret = metrics_render(f, totals, info);
	if (ret)
		goto write_failed;
	if (fflush(f) || fsync(fileno(f))) {
		ret = -errno;
		goto write_failed;
	}
	ret = fclose(f);
	f = NULL;
	if (ret) {
		ret = -errno;
		goto write_failed;
	}
	if (rename(tmp, path) < 0) {
		ret = -errno;
		seterr(err, errlen, "cannot write metrics file '%s': rename failed: %s", safe,
		       errtext(-ret, ebuf, sizeof(ebuf)));
		goto cleanup;
	}
	free(tmp);
	tmp = NULL;
	/* Make the rename itself durable. */
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		fsync(dfd);
		close(dfd);
	}
	goto cleanup;

write_failed:
	seterr(err, errlen, "cannot write metrics file '%s': %s", safe,
	       errtext(ret < 0 ? -ret : EIO, ebuf, sizeof(ebuf)));
cleanup:
	if (f)
		fclose(f);
	if (fd >= 0)
		close(fd);
	if (tmp) {
		unlink(tmp);
		free(tmp);
	}
	free(dir);
	return ret;
}
