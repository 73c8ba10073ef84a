// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Grouping by container and by server name (-H --by container,sni; --metrics-label container):
 * the aggregation keeps rows apart by cgroup and server name; the printout groups cgroups by the
 * container their path names (the exact text written out by hand here, JSON through python3's
 * json module) and sums over what it does not group by; the SNI column is escaped, cut and keeps
 * every line within 80 columns; the metrics get container_id and pod_uid labels. The cgroups are
 * directories of a temporary tree read by container.c's walk (the id of each is its inode), named
 * as the runtimes name theirs.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/types.h>

#include "testlib.h"
#include "alerttrace.h"
#include "agg.h"
#include "container.h"
#include "histprint.h"
#include "metrics.h"

#define TS_NS 1700000000123456789ULL /* 22:13:20 UTC */
#define ID1 "4a1c9e0d2f3b8a7c6d5e4f30291817161514131211100f0e0d0c0b0a09080706"
#define ID2 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define UID "8f3e2d1c-0b9a-4c8d-9e7f-6a5b4c3d2e1f"
#define GONE 0x7fffffffffffULL /* no directory has this inode */

static char root[] = "/tmp/at_hist_by.XXXXXX";
/* cgroups: docker ID1, a cgroup inside it, a pod's container ID2, a session, the pod itself */
static const char *dirs[] = {
	"/system.slice",
	"/system.slice/docker-" ID1 ".scope",
	"/system.slice/docker-" ID1 ".scope/init.scope",
	"/kubepods",
	"/kubepods/burstable",
	"/kubepods/burstable/pod" UID,
	"/kubepods/burstable/pod" UID "/" ID2,
	"/user.slice",
};
static __u64 cg_docker, cg_docker_init, cg_pod_ctr, cg_session, cg_pod;

static __u64 mk(const char *rel)
{
	char p[512];
	struct stat st;

	snprintf(p, sizeof(p), "%s%s", root, rel);
	if (mkdir(p, 0755) || stat(p, &st)) {
		FAILF("setup", "cannot make %s", p);
		return 0;
	}
	return st.st_ino;
}

static void setup(void)
{
	__u64 ids[sizeof(dirs) / sizeof(dirs[0])];
	size_t i;

	if (!mkdtemp(root)) {
		FAILF("setup", "mkdtemp failed");
		exit(1);
	}
	for (i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
		ids[i] = mk(dirs[i]);
	cg_docker = ids[1];
	cg_docker_init = ids[2];
	cg_pod = ids[5];
	cg_pod_ctr = ids[6];
	cg_session = ids[7];
	ct_set_root(root, true);
}

static void teardown(void)
{
	size_t i = sizeof(dirs) / sizeof(dirs[0]);
	char p[512];

	while (i--) {
		snprintf(p, sizeof(p), "%s%s", root, dirs[i]);
		rmdir(p);
	}
	rmdir(root);
	ct_set_root(NULL, false);
}

static void add(struct agg_table *t, const char *comm, int code, __u64 cg, const char *sni,
		__u64 count)
{
	struct agg_row r;

	memset(&r, 0, sizeof(r));
	snprintf(r.comm, sizeof(r.comm), "%s", comm);
	r.source = AT_SRC_OPENSSL;
	r.direction = AT_DIR_SENT;
	r.level = 2;
	r.code = code;
	r.cgroup_id = cg;
	snprintf(r.sni, sizeof(r.sni), "%s", sni);
	r.count = count;
	if (agg_add(t, &r))
		FAILF("agg_add", "out of memory");
}

static char *render(const struct agg_table *t, const struct hist_print_opts *o)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	if (!f)
		return NULL;
	hist_print(f, t, TS_NS, o);
	fclose(f);
	return out;
}

static void test_agg_keeps_apart(void)
{
	struct agg_table t = {};
	struct agg_row r = {};

	add(&t, "nginx", 48, cg_docker, "", 1);
	add(&t, "nginx", 48, cg_session, "", 2);
	add(&t, "nginx", 48, cg_docker, "a.example", 4);
	add(&t, "nginx", 48, cg_docker, "", 8);
	CHECK_EQ("agg_rows_by_cgroup_and_sni", 3, t.n) && (PASS("agg_rows_by_cgroup_and_sni"), 1);
	snprintf(r.comm, sizeof(r.comm), "nginx");
	r.source = AT_SRC_OPENSSL;
	r.direction = AT_DIR_SENT;
	r.level = 2;
	r.code = 48;
	r.cgroup_id = cg_docker;
	CHECK_EQ("agg_count_by_cgroup", 9, agg_count(&t, &r)) && (PASS("agg_count_by_cgroup"), 1);
	snprintf(r.sni, sizeof(r.sni), "a.example");
	CHECK_EQ("agg_count_by_sni", 4, agg_count(&t, &r)) && (PASS("agg_count_by_sni"), 1);
	agg_free(&t);
}

/* One container's two cgroups sum; the pod's container, a session (no container), a cgroup
 * that is gone ("?") and the pod's own cgroup each a row of their own. */
static void test_by_container_text(void)
{
	struct hist_print_opts o = {.by_container = true};
	struct agg_table t = {};
	char *out;

	add(&t, "nginx", 48, cg_docker, "", 5);
	add(&t, "nginx", 48, cg_docker_init, "", 2);
	add(&t, "nginx", 48, GONE, "", 4);
	add(&t, "nginx", 48, cg_pod_ctr, "", 3);
	add(&t, "nginx", 48, cg_session, "", 1);
	add(&t, "nginx", 48, cg_pod, "", 1);
	out = render(&t, &o);
	tl_check_text("by_container_text", out,
		   "\n22:13:20\n"
		   "  SOURCE  DIR  LEVEL ALERT          CONTAINER    COUNT DISTRIBUTION\n"
		   "comm nginx: sent 16, received 0\n"
		   "  openssl sent fatal unknown_ca(48) 4a1c9e0d2f3b     7 |***********************|\n"
		   "  openssl sent fatal unknown_ca(48) ?                4 |*************          |\n"
		   "  openssl sent fatal unknown_ca(48) 0123456789ab     3 |**********             |\n"
		   "  openssl sent fatal unknown_ca(48) -                1 |***                    |\n"
		   "  openssl sent fatal unknown_ca(48) pod-8f3e2d1c     1 |***                    |\n");
	free(out);
	/* Without --by container the same table is one row, and the header is the usual one. */
	o.by_container = false;
	out = render(&t, &o);
	tl_check_text("by_nothing_sums_over_cgroups", out,
		   "\n22:13:20\n"
		   "  SOURCE  DIR  LEVEL ALERT          COUNT DISTRIBUTION\n"
		   "comm nginx: sent 16, received 0\n"
		   "  openssl sent fatal unknown_ca(48)    16 |************************************|\n");
	free(out);
	agg_free(&t);
}

static const char *py_rows =
	"import json, sys\n"
	"for l in sys.stdin:\n"
	"    r = json.loads(l)\n"
	"    print(r.get('container_id', 'absent'), r.get('pod_uid', 'absent'),\n"
	"          repr(r.get('sni', 'absent')), r['count'])\n";

static char *via_python(const struct agg_table *t, const struct hist_print_opts *o)
{
	char in[] = "/tmp/at_hist_by_json.XXXXXX", cmd[256], *out = NULL;
	size_t len = 0, n;
	char buf[4096];
	FILE *f, *p, *m;
	int fd = mkstemp(in);

	if (fd < 0 || !(f = fdopen(fd, "w")))
		return NULL;
	hist_print(f, t, TS_NS, o);
	fclose(f);
	snprintf(cmd, sizeof(cmd), "python3 -c \"$PYPROG\" < %s", in);
	setenv("PYPROG", py_rows, 1);
	p = popen(cmd, "r");
	m = open_memstream(&out, &len);
	while (p && m && (n = fread(buf, 1, sizeof(buf), p)) > 0)
		fwrite(buf, 1, n, m);
	if (p)
		pclose(p);
	if (m)
		fclose(m);
	unlink(in);
	return out;
}

static void test_json(void)
{
	struct hist_print_opts o = {.json = true, .by_container = true};
	struct agg_table t = {};
	char *out;

	add(&t, "nginx", 48, cg_docker, "a.example", 5);
	add(&t, "nginx", 48, cg_pod_ctr, "b\x1b\"x", 3);
	add(&t, "nginx", 48, cg_session, "", 2);
	add(&t, "nginx", 48, GONE, "", 1);
	out = via_python(&t, &o);
	tl_check_text("json_by_container", out,
		   ID1 " None 'absent' 5\n" ID2 " " UID " 'absent' 3\n"
		   "None None 'absent' 2\nNone None 'absent' 1\n");
	free(out);
	o.by_container = false;
	o.by_sni = true;
	out = via_python(&t, &o);
	tl_check_text("json_by_sni", out,
		   "absent absent 'a.example' 5\nabsent absent None 3\n"
		   "absent absent 'b\\x1b\"x' 3\n");
	free(out);
	agg_free(&t);
}

static void test_sni_column(void)
{
	struct hist_print_opts o = {.by_container = true, .by_sni = true};
	struct agg_table t = {};
	char *out, *p, *e;
	size_t max = 0;

	/* 63 bytes, the most a key holds, cut to what 80 columns leave; an escape */
	add(&t, "nginx", 48, cg_docker,
	    "a-very-long-server-name.in-a-subdomain.example.com.example.org.x", 1);
	add(&t, "nginx", 48, cg_pod_ctr, "evil\x1b[2Jname", 2);
	out = render(&t, &o);
	if (out && strstr(out, "4a1c9e0d2f3b a-very-long-server...     1 |*|\n") &&
	    strstr(out, "0123456789ab evil\\x1b[2Jname           2 |*|\n"))
		PASS("sni_column_cut_and_escaped");
	else
		FAILF("sni_column_cut_and_escaped", "got:\n%s", out ? out : "(null)");
	free(out);
	/* certificate_unobtainable(111) and a 7-digit count: the SNI column gives way */
	add(&t, "nginx", 111, cg_session, "", 9999999);
	out = render(&t, &o);
	if (out && strstr(out, " 4a1c9e0d2f3b a...       1 |*|\n") &&
	    strstr(out, "certificate_unobtainable(111) -            -    9999999 |*|\n"))
		PASS("sni_column_gives_way_to_the_bar");
	else
		FAILF("sni_column_gives_way_to_the_bar", "got:\n%s", out ? out : "(null)");
	for (p = out; p && *p; p = e ? e + 1 : NULL) {
		e = strchr(p, '\n');
		size_t l = e ? (size_t)(e - p) : strlen(p);

		if (l > max)
			max = l;
	}
	if (max <= HP_COLS)
		PASS("sni_container_within_80_columns");
	else
		FAILF("sni_container_within_80_columns", "a line of %zu bytes:\n%s", max, out);
	free(out);
	agg_free(&t);
}

/* The exception histprint.h names: the longest alert, warning and 7 digits with a container. */
static void test_widest_container_row(void)
{
	struct hist_print_opts o = {.by_container = true};
	struct agg_table t = {};
	struct agg_row r = {};
	char *out, *p, *e;
	size_t max = 0, l;

	snprintf(r.comm, sizeof(r.comm), "x");
	r.source = AT_SRC_OPENSSL;
	r.direction = AT_DIR_RECEIVED;
	r.level = 1;
	r.code = 113; /* bad_certificate_status_response */
	r.cgroup_id = cg_docker;
	r.count = 9999999;
	agg_add(&t, &r);
	out = render(&t, &o);
	for (p = out; p && *p; p = e ? e + 1 : NULL) {
		e = strchr(p, '\n');
		l = e ? (size_t)(e - p) : strlen(p);
		max = l > max ? l : max;
	}
	CHECK_EQ("widest_container_row_is_84", HP_COLS + 4, max) &&
		(PASS("widest_container_row_is_84"), 1);
	free(out);
	agg_free(&t);
}

static void test_metrics_labels(void)
{
	struct metrics_info mi = {.with_container = true};
	struct agg_table t = {};
	char *out = NULL;
	size_t len = 0;
	FILE *f;

	add(&t, "nginx", 48, cg_docker, "", 5);
	add(&t, "nginx", 48, cg_docker_init, "", 2);
	add(&t, "nginx", 48, cg_pod_ctr, "", 3);
	add(&t, "nginx", 48, cg_session, "", 1);
	f = open_memstream(&out, &len);
	metrics_render(f, &t, &mi);
	fclose(f);
	if (out && strstr(out, "comm=\"nginx\",container_id=\"" ID1 "\",pod_uid=\"\"} 7\n") &&
	    strstr(out, "comm=\"nginx\",container_id=\"" ID2 "\",pod_uid=\"" UID "\"} 3\n") &&
	    strstr(out, "comm=\"nginx\",container_id=\"\",pod_uid=\"\"} 1\n"))
		PASS("metrics_container_labels");
	else
		FAILF("metrics_container_labels", "got:\n%s", out ? out : "(null)");
	free(out);
	out = NULL;
	mi.with_container = false;
	f = open_memstream(&out, &len);
	metrics_render(f, &t, &mi);
	fclose(f);
	if (out && strstr(out, "alert=\"unknown_ca\",comm=\"nginx\"} 11\n") &&
	    !strstr(out, "container_id"))
		PASS("metrics_without_label_sums_containers");
	else
		FAILF("metrics_without_label_sums_containers", "got:\n%s", out ? out : "(null)");
	free(out);
	agg_free(&t);
}

int main(void)
{
	setenv("TZ", "UTC", 1);
	setup();
	test_agg_keeps_apart();
	test_by_container_text();
	test_json();
	test_sni_column();
	test_metrics_labels();
	test_widest_container_row();
	teardown();
	return tl_failed;
}
