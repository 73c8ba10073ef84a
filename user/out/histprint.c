// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Histogram printout (-H): layout and order are described in histprint.h. The table is copied,
 * merged (without -P, over pid), given its process totals and sorted; then both formats walk the
 * same sorted array, so they always agree on order.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <linux/types.h>

#include "alerttrace.h"
#include "alerts.h"
#include "container.h"
#include "jsonw.h"
#include "log.h"
#include "sources.h"
#include "strutil.h"
#include "histprint.h"

#define UNKNOWN_OWNER "[unknown owner]"
#define INDENT "  "
#define COUNT_EXACT_MAX 9999999ULL /* 7 digits; larger counts get a unit suffix */

struct item {
	struct agg_row r; /* pid 0 without -P; level and code 0 when encrypted; merged count */
	__u64 total;	  /* of the row's process, the first sort key */
	/* --by container: the container and pod of r.cgroup_id; "" none, "?" not resolved */
	char ctr[CT_ID_LEN + 1];
	char pod[CT_UID_LEN + 1];
};

/* Text of one row, in the order of the columns. */
struct labels {
	char source[16];
	char dir[16];
	char level[16];
	char alert[64];
	char ctr[16];
	char sni[HP_SNI_MAX + 1];
	char count[16];
};

static __u64 sat_add(__u64 a, __u64 b)
{
	return a + b < a ? ~0ULL : a + b;
}

static bool unknown_owner(const struct agg_row *r)
{
	return r->pid == 0 && r->comm[0] == '\0';
}

static int cmp_u64(__u64 a, __u64 b)
{
	return a < b ? -1 : a > b;
}

/* The process a row belongs to: the unknown owner last, then comm, then pid. */
static int group_cmp(const struct agg_row *a, const struct agg_row *b)
{
	int c = unknown_owner(a) - unknown_owner(b);

	if (c)
		return c;
	c = strncmp(a->comm, b->comm, sizeof(a->comm));
	if (c)
		return c < 0 ? -1 : 1;
	return cmp_u64(a->pid, b->pid);
}

/* The alert within a process: source, direction, code (encrypted after every code), level. */
static int alert_cmp(const struct agg_row *a, const struct agg_row *b)
{
	int ca = a->encrypted ? 256 : a->code, cb = b->encrypted ? 256 : b->code;

	if (a->source != b->source)
		return a->source < b->source ? -1 : 1;
	if (a->direction != b->direction)
		return a->direction < b->direction ? -1 : 1;
	if (ca != cb)
		return ca < cb ? -1 : 1;
	return cmp_u64(a->level, b->level);
}

/* Then the container and the server name (empty unless grouped by them). */
static int where_cmp(const struct item *a, const struct item *b)
{
	int c = strcmp(a->ctr, b->ctr);

	if (!c)
		c = strcmp(a->pod, b->pod);
	if (!c)
		c = strncmp(a->r.sni, b->r.sni, sizeof(a->r.sni));
	return c < 0 ? -1 : c > 0;
}

static int key_cmp(const void *pa, const void *pb)
{
	const struct item *a = pa, *b = pb;
	int c = group_cmp(&a->r, &b->r);

	if (!c)
		c = alert_cmp(&a->r, &b->r);
	return c ? c : where_cmp(a, b);
}

static int print_cmp(const void *pa, const void *pb)
{
	const struct item *a = pa, *b = pb;
	int c = -cmp_u64(a->total, b->total);

	if (c)
		return c;
	c = group_cmp(&a->r, &b->r);
	if (c)
		return c;
	c = -cmp_u64(a->r.count, b->r.count);
	if (!c)
		c = alert_cmp(&a->r, &b->r);
	return c ? c : where_cmp(a, b);
}

/* The container of a row, as the printout groups it. */
static void resolve(struct item *it)
{
	const struct ct_entry *e;

	if (!it->r.cgroup_id)
		return; /* a wire alert without owner */
	e = ct_lookup(it->r.cgroup_id);
	if (!e || !e->path) {
		snprintf(it->ctr, sizeof(it->ctr), "?");
		return;
	}
	memcpy(it->ctr, e->info.id, sizeof(it->ctr));
	memcpy(it->pod, e->info.pod_uid, sizeof(it->pod));
}

/* Copy, merge and sort t. Returns the number of items (*out malloc'ed) or -ENOMEM. */
static long build(const struct agg_table *t, const struct hist_print_opts *o, struct item **out)
{
	struct item *v;
	size_t i, j, n = 0;

	*out = NULL;
	if (!t || !t->n)
		return 0;
	v = calloc(t->n, sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (i = 0; i < t->n; i++) {
		struct agg_row *r = &v[n].r;

		if (!t->rows[i].count)
			continue;
		*r = t->rows[i];
		r->comm[sizeof(r->comm) - 1] = '\0';
		r->sni[sizeof(r->sni) - 1] = '\0';
		r->encrypted = !!r->encrypted;
		if (!o->per_pid)
			r->pid = 0;
		if (o->by_container)
			resolve(&v[n]);
		r->cgroup_id = 0; /* grouped by ctr and pod, not by cgroup */
		if (!o->by_sni)
			memset(r->sni, 0, sizeof(r->sni));
		if (r->encrypted)
			r->level = r->code = 0;
		n++;
	}
	qsort(v, n, sizeof(*v), key_cmp);
	/* Merge equal keys: rows that differ only in pid (no -P), in cgroup, or after a NUL. */
	for (i = 0, j = 0; i < n; i++) {
		if (j && key_cmp(&v[j - 1], &v[i]) == 0)
			v[j - 1].r.count = sat_add(v[j - 1].r.count, v[i].r.count);
		else
			v[j++] = v[i];
	}
	n = j;
	/* Process totals: each process is one run of the key order. */
	for (i = 0; i < n; i = j) {
		__u64 total = 0;

		for (j = i; j < n && group_cmp(&v[i].r, &v[j].r) == 0; j++)
			total = sat_add(total, v[j].r.count);
		while (i < j)
			v[i++].total = total;
	}
	qsort(v, n, sizeof(*v), print_cmp);
	*out = v;
	return n;
}

/* Exact up to 7 digits, else scaled by 1000s to at most 6 digits and a unit: "12345k". */
static const char *count_str(__u64 v, char *buf, size_t n)
{
	static const char units[] = "kMGTPE";
	int u = -1;

	if (v <= COUNT_EXACT_MAX) {
		snprintf(buf, n, "%llu", (unsigned long long)v);
		return buf;
	}
	while (v > 999999ULL) {
		v /= 1000;
		u++;
	}
	snprintf(buf, n, "%llu%c", (unsigned long long)v, units[u]);
	return buf;
}

/* Names for values our BPF programs never write are short in text, so the line budget holds. */
static const char *dir_name(int d, bool json, char *buf, size_t n)
{
	if (d == AT_DIR_SENT)
		snprintf(buf, n, "sent");
	else if (d == AT_DIR_RECEIVED)
		snprintf(buf, n, json ? "received" : "recv");
	else
		snprintf(buf, n, json ? "unknown(%d)" : "dir(%d)", d);
	return buf;
}

/* The server name escaped, cut with "..." to at most width bytes (>= 3). */
static void sni_label(const char *s, int width, char *out, size_t n)
{
	char buf[4 * AT_SNI_LEN + 1];

	/* Escape first, then cut on a unit boundary, as for comm. */
	text_safe(s[0] ? s : "-", buf, sizeof(buf));
	if (width > (int)n - 1)
		width = n - 1;
	if ((int)strlen(buf) > width) {
		text_safe(s, out, width - 3 + 1);
		strcat(out, "...");
	} else {
		memcpy(out, buf, strlen(buf) + 1);
	}
}

/* sni_width: the SNI column's, HP_SNI_MAX when measuring. */
static void text_labels(const struct item *it, int sni_width, struct labels *l)
{
	const struct agg_row *r = &it->r;
	char name[40];

	at_source_name(r->source, l->source, sizeof(l->source));
	dir_name(r->direction, false, l->dir, sizeof(l->dir));
	if (r->encrypted) {
		snprintf(l->level, sizeof(l->level), "-");
		snprintf(l->alert, sizeof(l->alert), "encrypted");
	} else {
		at_level_name(r->level, l->level, sizeof(l->level));
		at_alert_name(r->code, name, sizeof(name));
		if (at_alert_by_code(r->code))
			snprintf(l->alert, sizeof(l->alert), "%s(%u)", name, r->code);
		else
			snprintf(l->alert, sizeof(l->alert), "%s", name); /* "unknown(N)" */
	}
	count_str(r->count, l->count, sizeof(l->count));
	if (it->ctr[0])
		snprintf(l->ctr, sizeof(l->ctr), "%.12s", it->ctr);
	else if (it->pod[0])
		snprintf(l->ctr, sizeof(l->ctr), "pod-%.8s", it->pod);
	else
		snprintf(l->ctr, sizeof(l->ctr), "-");
	sni_label(r->sni, sni_width, l->sni, sizeof(l->sni));
}

static int max_int(int a, int b)
{
	return a > b ? a : b;
}

struct widths {
	int source, dir, level, alert, ctr, sni, count, bar; /* ctr, sni: 0 when not shown */
};

static void measure(const struct item *v, long n, const struct hist_print_opts *o,
		    struct widths *w)
{
	struct labels l;
	int used;
	long i;

	/* At least as wide as the column names. */
	w->source = 6;
	w->dir = 3;
	w->level = 5;
	w->alert = 5;
	w->ctr = o->by_container ? 9 : 0;
	w->sni = o->by_sni ? 3 : 0;
	w->count = 5;
	for (i = 0; i < n; i++) {
		text_labels(&v[i], HP_SNI_MAX, &l);
		w->source = max_int(w->source, strlen(l.source));
		w->dir = max_int(w->dir, strlen(l.dir));
		w->level = max_int(w->level, strlen(l.level));
		w->alert = max_int(w->alert, strlen(l.alert));
		w->count = max_int(w->count, strlen(l.count));
		if (w->ctr)
			w->ctr = max_int(w->ctr, strlen(l.ctr));
		if (w->sni)
			w->sni = max_int(w->sni, strlen(l.sni));
	}
	/* indent, five to seven columns with a space after each, then "|" bar "|" */
	used = strlen(INDENT) + w->source + 1 + w->dir + 1 + w->level + 1 + w->alert + 1 +
	       (w->ctr ? w->ctr + 1 : 0) + (w->sni ? w->sni + 1 : 0) + w->count + 1 + 2;
	/* The SNI column gives way to a bar of at least one star (names are cut with "..."). */
	if (w->sni && used + 1 > HP_COLS) {
		int cut = used + 1 - HP_COLS;

		cut = cut > w->sni - 3 ? w->sni - 3 : cut;
		w->sni -= cut;
		used -= cut;
	}
	w->bar = HP_COLS - used;
	if (w->bar > HP_BAR_MAX)
		w->bar = HP_BAR_MAX;
	if (w->bar < 1)
		w->bar = 1; /* only with values no BPF program writes */
}

/* Stars for count: rounded share of the largest count, at least one for a non-zero count. */
static int stars(__u64 count, __u64 max, int width)
{
	unsigned __int128 s;

	if (!count || !max)
		return 0;
	s = ((unsigned __int128)count * width * 2 + max) / ((unsigned __int128)max * 2);
	if (s < 1)
		s = 1;
	return s > (unsigned)width ? width : (int)s;
}

/* The process header: who, and its totals per direction. */
static void print_process(FILE *f, const struct item *v, long from, long to, bool per_pid)
{
	char comm[4 * sizeof(v->r.comm) + 1], sent[16], recv[16];
	const struct agg_row *r = &v[from].r;
	__u64 s = 0, rc = 0;
	long i;

	for (i = from; i < to; i++) {
		if (v[i].r.direction == AT_DIR_SENT)
			s = sat_add(s, v[i].r.count);
		else if (v[i].r.direction == AT_DIR_RECEIVED)
			rc = sat_add(rc, v[i].r.count);
	}
	count_str(s, sent, sizeof(sent));
	count_str(rc, recv, sizeof(recv));
	if (unknown_owner(r)) {
		fprintf(f, "%s: sent %s, received %s\n", UNKNOWN_OWNER, sent, recv);
		return;
	}
	/* Escape first, then cut on a unit boundary: a comm of 15 ESCs is 60 bytes of \xHH. */
	text_safe(r->comm, comm, sizeof(comm));
	if (strlen(comm) > HP_COMM_MAX) {
		text_safe(r->comm, comm, HP_COMM_MAX - 3 + 1);
		strcat(comm, "...");
	}
	/*
	 * A prefix before every comm, so a process that names itself "[unknown owner]" cannot pass
	 * for the wire's unattributed alerts.
	 */
	if (per_pid)
		fprintf(f, "pid %u %s: sent %s, received %s\n", r->pid, comm, sent, recv);
	else
		fprintf(f, "comm %s: sent %s, received %s\n", comm, sent, recv);
}

/* The optional columns, each followed by a space. */
static void print_where(FILE *f, const struct widths *w, const char *ctr, const char *sni)
{
	if (w->ctr)
		fprintf(f, "%-*s ", w->ctr, ctr);
	if (w->sni)
		fprintf(f, "%-*s ", w->sni, sni);
}

static void print_text(FILE *f, const struct item *v, long n, __u64 ts_ns,
		       const struct hist_print_opts *o)
{
	time_t secs = ts_ns / 1000000000ULL;
	char ts[16], bar[HP_BAR_MAX + 1];
	struct widths w;
	struct labels l;
	__u64 max = 0;
	long i, end;
	struct tm tm;
	int k;

	if (!localtime_r(&secs, &tm) || !strftime(ts, sizeof(ts), "%H:%M:%S", &tm))
		snprintf(ts, sizeof(ts), "??:??:??");
	fprintf(f, "\n%s\n", ts);
	if (!n) {
		fprintf(f, "no alerts in this interval\n");
		return;
	}
	measure(v, n, o, &w);
	for (i = 0; i < n; i++)
		if (v[i].r.count > max)
			max = v[i].r.count;
	fprintf(f, "%s%-*s %-*s %-*s %-*s ", INDENT, w.source, "SOURCE", w.dir, "DIR", w.level,
		"LEVEL", w.alert, "ALERT");
	print_where(f, &w, "CONTAINER", "SNI");
	fprintf(f, "%*s", w.count, "COUNT");
	/* The label sits over the bar's frame, and only when it fits there. */
	if (w.bar + 2 >= (int)strlen("DISTRIBUTION"))
		fprintf(f, " DISTRIBUTION");
	fputc('\n', f);
	for (i = 0; i < n; i = end) {
		for (end = i; end < n && group_cmp(&v[i].r, &v[end].r) == 0; end++)
			;
		print_process(f, v, i, end, o->per_pid);
		for (; i < end; i++) {
			text_labels(&v[i], w.sni ? w.sni : HP_SNI_MAX, &l);
			k = stars(v[i].r.count, max, w.bar);
			memset(bar, '*', k);
			memset(bar + k, ' ', w.bar - k);
			bar[w.bar] = '\0';
			fprintf(f, "%s%-*s %-*s %-*s %-*s ", INDENT, w.source, l.source, w.dir, l.dir,
				w.level, l.level, w.alert, l.alert);
			print_where(f, &w, l.ctr, l.sni);
			fprintf(f, "%*s |%s|\n", w.count, l.count, bar);
		}
	}
}

static void print_json(FILE *f, const struct item *v, long n, __u64 ts_ns,
		       const struct hist_print_opts *o)
{
	char b1[AT_SOURCE_NAME_MAX], b2[24], name[48];
	struct jsonw w;
	long i;

	jsonw_init(&w, f);
	for (i = 0; i < n; i++) {
		const struct agg_row *r = &v[i].r;
		bool unknown = unknown_owner(r);

		jsonw_start_object(&w);
		jsonw_uint_field(&w, "ts", ts_ns);
		if (o->per_pid && !unknown)
			jsonw_uint_field(&w, "pid", r->pid);
		else
			jsonw_null_field(&w, "pid");
		jsonw_string_field(&w, "comm", unknown ? NULL : r->comm);
		jsonw_string_field(&w, "source", at_source_name(r->source, b1, sizeof(b1)));
		jsonw_string_field(&w, "direction", dir_name(r->direction, true, b2, sizeof(b2)));
		if (r->encrypted) {
			jsonw_null_field(&w, "level");
			jsonw_null_field(&w, "code");
			jsonw_string_field(&w, "alert", "encrypted");
		} else {
			jsonw_uint_field(&w, "level", r->level);
			jsonw_uint_field(&w, "code", r->code);
			jsonw_string_field(&w, "alert", at_alert_name(r->code, name, sizeof(name)));
		}
		if (o->by_container) {
			/* null outside containers and for a cgroup not resolved ("?") */
			jsonw_string_field(&w, "container_id",
					   strlen(v[i].ctr) == CT_ID_LEN ? v[i].ctr : NULL);
			jsonw_string_field(&w, "pod_uid", v[i].pod[0] ? v[i].pod : NULL);
		}
		if (o->by_sni)
			jsonw_string_field(&w, "sni", r->sni[0] ? r->sni : NULL);
		jsonw_uint_field(&w, "count", r->count);
		jsonw_end_object(&w);
	}
}

void hist_print(FILE *f, const struct agg_table *t, __u64 ts_ns, const struct hist_print_opts *o)
{
	static const struct hist_print_opts none;
	struct item *v;
	long n;

	if (!o)
		o = &none;
	n = build(t, o, &v);
	if (n < 0) {
		p_err("cannot print the histogram: out of memory");
		return;
	}
	if (o->json)
		print_json(f, v, n, ts_ns, o);
	else
		print_text(f, v, n, ts_ns, o);
	free(v);
	fflush(f);
}
