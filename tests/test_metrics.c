// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Aggregation table and Prometheus exporter: agg_add merging at scale; exposition text with
 * hostile comms judged by promtool and by sample lines written out by hand here; the textfile's
 * atomic replace watched with inotify; the HTTP server scraped with curl while snapshots change.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/socket.h>
#include <grp.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "testlib.h"
#include "alerttrace.h"
#include "agg.h"
#include "metrics.h"

static char tmpdir[] = "/tmp/test_metrics.XXXXXX";

static struct agg_row row(__u32 pid, const char *comm, int src, int dir, int level, int code,
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

static void add(struct agg_table *t, struct agg_row r)
{
	if (agg_add(t, &r))
		FAILF("agg_add", "out of memory");
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static char *render(const struct agg_table *t, const struct metrics_info *mi)
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
static bool has_line(const char *text, const char *line)
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

static int count_prefix(const char *text, const char *prefix)
{
	int n = 0;
	const char *p = text;

	for (; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (!strncmp(p, prefix, strlen(prefix)))
			n++;
	return n;
}

static void check_line(const char *name, const char *text, const char *line)
{
	if (text && has_line(text, line))
		PASS(name);
	else
		FAILF(name, "expected the line '%s' in:\n%s", line, text ? text : "(null)");
}

static char *read_file(const char *path, size_t *lenp)
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

static int write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (!f)
		return -1;
	fputs(text, f);
	return fclose(f);
}

/* ---- agg -------------------------------------------------------------------------------- */

static void test_agg(void)
{
	struct agg_table t = { 0 };
	struct agg_row r;
	size_t i, dup = 0;
	double t0;
	__u64 sum = 0;
	int ok = 1;

	add(&t, row(1, "curl", AT_SRC_OPENSSL, AT_DIR_SENT, 2, 48, 0, 3));
	add(&t, row(1, "curl", AT_SRC_OPENSSL, AT_DIR_SENT, 2, 48, 0, 4));
	add(&t, row(2, "curl", AT_SRC_OPENSSL, AT_DIR_SENT, 2, 48, 0, 1));
	add(&t, row(1, "curl", AT_SRC_OPENSSL, AT_DIR_RECEIVED, 2, 48, 0, 1));
	add(&t, row(1, "curl", AT_SRC_OPENSSL, AT_DIR_SENT, 1, 48, 0, 1));
	add(&t, row(1, "curl", AT_SRC_OPENSSL, AT_DIR_SENT, 2, 48, 1, 1));
	add(&t, row(1, "curlx", AT_SRC_OPENSSL, AT_DIR_SENT, 2, 48, 0, 1));
	add(&t, row(1, "curl", AT_SRC_WIRE, AT_DIR_SENT, 2, 48, 0, 1));
	/* Bytes after the NUL are not part of the key. */
	r = row(1, "curl", AT_SRC_OPENSSL, AT_DIR_SENT, 2, 48, 0, 10);
	r.comm[10] = 'z';
	add(&t, r);
	if (CHECK_EQ("agg_merges_by_full_key", 7, t.n) &&
	    CHECK_EQ("agg_merges_by_full_key", 17, t.rows[0].count))
		PASS("agg_merges_by_full_key");

	/* 50000 distinct keys, each added twice, within a second (a linear scan takes minutes). */
	agg_reset(&t);
	if (CHECK_EQ("agg_reset_empties", 0, t.n))
		PASS("agg_reset_empties");
	t0 = now_s();
	for (int pass = 0; pass < 2; pass++)
		for (i = 0; i < 50000; i++) {
			char comm[16];

			snprintf(comm, sizeof(comm), "p%zu", i % 997);
			add(&t, row(i, comm, 1 + i % 2, 1 + i / 2 % 2, 2, i % 256, 0, 1));
		}
	for (i = 0; i < t.n; i++) {
		sum += t.rows[i].count;
		ok &= t.rows[i].count == 2;
	}
	if (CHECK_EQ("agg_50k_rows", 50000, t.n) && CHECK_EQ("agg_50k_rows", 100000, sum) &&
	    CHECK_EQ("agg_50k_rows", 1, ok)) {
		if (now_s() - t0 < 1.0)
			PASS("agg_50k_rows");
		else
			FAILF("agg_50k_rows", "expected < 1 s, took %.2f s", now_s() - t0);
	}

	/* A caller reversing the rows in place must not get duplicate rows on the next add. */
	for (i = 0; i < t.n / 2; i++) {
		r = t.rows[i];
		t.rows[i] = t.rows[t.n - 1 - i];
		t.rows[t.n - 1 - i] = r;
	}
	for (i = 0; i < 50000; i += 7) {
		char comm[16];

		snprintf(comm, sizeof(comm), "p%zu", i % 997);
		add(&t, row(i, comm, 1 + i % 2, 1 + i / 2 % 2, 2, i % 256, 0, 1));
	}
	for (i = 0; i < t.n; i++)
		dup += t.rows[i].count == 3;
	if (CHECK_EQ("agg_survives_reordered_rows", 50000, t.n) &&
	    CHECK_EQ("agg_survives_reordered_rows", (50000 + 6) / 7, dup))
		PASS("agg_survives_reordered_rows");
	agg_free(&t);
	agg_free(&t);	/* twice, and on a freed table: harmless */
	if (CHECK_EQ("agg_free_resets", 0, t.n + t.cap + (t.rows != NULL)))
		PASS("agg_free_resets");
}

/* ---- render ----------------------------------------------------------------------------- */

static void fill_hostile(struct agg_table *t)
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

static const struct metrics_info info = {
	.lost_events = 12,
	.hist_lost = 3,
	.possible_misses = 4,
	.quic_unopened = 5,
	.hooked_libs = 2,
	.version = "v1.2-\"dirty\"",
};

#define OSSL_SENT "alerttrace_alerts_total{source=\"openssl\",direction=\"sent\","

static void test_render(void)
{
	struct agg_table t = { 0 }, rev = { 0 };
	struct metrics_info mi = info;
	char *txt, *txt_pid, *txt_rev;
	size_t i;

	fill_hostile(&t);
	txt = render(&t, &mi);
	mi.with_pid = true;
	txt_pid = render(&t, &mi);
	mi.with_pid = false;

	check_line("render_sums_pids", txt,
		   OSSL_SENT "level=\"fatal\",alert=\"unknown_ca\",comm=\"curl\"} 7");
	check_line("render_with_pid_keeps_pids", txt_pid,
		   OSSL_SENT "level=\"fatal\",alert=\"unknown_ca\",comm=\"curl\",pid=\"10\"} 3");
	check_line("render_with_pid_keeps_pids", txt_pid,
		   OSSL_SENT "level=\"fatal\",alert=\"unknown_ca\",comm=\"curl\",pid=\"11\"} 4");
	check_line("render_escapes_quote_backslash_newline", txt,
		   "alerttrace_alerts_total{source=\"openssl\",direction=\"received\","
		   "level=\"fatal\",alert=\"bad_certificate\",comm=\"a\\\"b\\\\c\\n\"} 5");
	check_line("render_escapes_terminal_sequences", txt,
		   OSSL_SENT "level=\"warning\",alert=\"close_notify\","
		   "comm=\"\\\\x1b[31mred\\\\x1b]0;x\\\\x07\"} 6");
	check_line("render_replaces_invalid_utf8", txt,
		   OSSL_SENT "level=\"fatal\",alert=\"handshake_failure\","
		   "comm=\"bad\xef\xbf\xbd\xef\xbf\xbd(\"} 7");
	check_line("render_merges_comms_that_render_alike", txt,
		   OSSL_SENT "level=\"fatal\",alert=\"handshake_failure\","
		   "comm=\"x\xef\xbf\xbd\"} 3");
	check_line("render_merges_comms_that_render_alike", txt,
		   OSSL_SENT "level=\"fatal\",alert=\"handshake_failure\",comm=\"\\\\x1b\"} 2");
	check_line("render_keeps_utf8", txt,
		   OSSL_SENT "level=\"fatal\",alert=\"handshake_failure\",comm=\"caf\xc3\xa9\"} 1");
	check_line("render_encrypted_is_one_series", txt,
		   "alerttrace_alerts_total{source=\"wire\",direction=\"received\","
		   "level=\"encrypted\",alert=\"encrypted\",comm=\"\"} 5");
	check_line("render_unknown_level_and_code", txt,
		   "alerttrace_alerts_total{source=\"wire\",direction=\"sent\","
		   "level=\"level(3)\",alert=\"unknown(200)\",comm=\"\"} 1");
	check_line("render_info_lost_events", txt, "alerttrace_lost_events_total 12");
	check_line("render_info_hist_lost", txt, "alerttrace_hist_lost_total 3");
	check_line("render_info_possible_misses", txt, "alerttrace_wire_possible_misses_total 4");
	check_line("render_info_quic_unopened", txt, "alerttrace_quic_unopened_total 5");
	check_line("render_info_hooked_libraries", txt, "alerttrace_hooked_libraries 2");
	check_line("render_info_build_info", txt,
		   "alerttrace_build_info{version=\"v1.2-\\\"dirty\\\"\"} 1");
	check_line("render_type_lines", txt, "# TYPE alerttrace_alerts_total counter");
	check_line("render_type_lines", txt, "# TYPE alerttrace_hooked_libraries gauge");
	if (txt &&
	    CHECK_EQ("render_series_count", 10, count_prefix(txt, "alerttrace_alerts_total{")))
		PASS("render_series_count");
	if (txt_pid &&
	    CHECK_EQ("render_series_count_with_pid", 13,
		     count_prefix(txt_pid, "alerttrace_alerts_total{")))
		PASS("render_series_count_with_pid");

	/* The same totals added in the opposite order render byte for byte the same. */
	for (i = t.n; i-- > 0;)
		add(&rev, t.rows[i]);
	txt_rev = render(&rev, &mi);
	if (txt && txt_rev && !strcmp(txt, txt_rev))
		PASS("render_is_deterministic");
	else
		FAILF("render_is_deterministic", "expected:\n%s\ngot:\n%s", txt, txt_rev);

	/* promtool is the independent judge of the format. */
	if (access("/usr/bin/promtool", X_OK) != 0) {
		SKIP("promtool_accepts", "no /usr/bin/promtool: apt-get install prometheus");
	} else {
		const char *names[] = { "promtool_accepts_hostile", "promtool_accepts_with_pid" };
		char *texts[] = { txt, txt_pid };

		for (i = 0; i < 2; i++) {
			char path[256], cmd[600], *out;
			int rc;

			snprintf(path, sizeof(path), "%s/check%zu.prom", tmpdir, i);
			write_file(path, texts[i] ? texts[i] : "");
			snprintf(cmd, sizeof(cmd), "promtool check metrics < %s > %s.out 2>&1",
				 path, path);
			rc = system(cmd);
			strcat(path, ".out");
			out = read_file(path, NULL);
			if (rc == 0 && out && !*out)
				PASS(names[i]);
			else
				FAILF(names[i], "expected exit 0 and no output, got status %d: %s",
				      rc, out ? out : "");
			free(out);
		}
	}
	/* An empty table is still a valid exposition. */
	{
		struct agg_table empty = { 0 };
		char *e = render(&empty, NULL), path[256], cmd[600];

		snprintf(path, sizeof(path), "%s/empty.prom", tmpdir);
		write_file(path, e ? e : "");
		snprintf(cmd, sizeof(cmd), "promtool check metrics < %s >/dev/null 2>&1", path);
		if (e && has_line(e, "alerttrace_build_info{version=\"unknown\"} 1") &&
		    (access("/usr/bin/promtool", X_OK) != 0 || system(cmd) == 0))
			PASS("render_empty_table");
		else
			FAILF("render_empty_table", "expected a valid exposition, got:\n%s", e);
		free(e);
	}
	free(txt);
	free(txt_pid);
	free(txt_rev);
	agg_free(&t);
	agg_free(&rev);
}

/* ---- textfile --------------------------------------------------------------------------- */

struct reader_arg {
	const char *path;
	atomic_bool stop;
	int reads, torn;
};

static void *reader(void *p)
{
	struct reader_arg *a = p;

	while (!a->stop) {
		char *s = read_file(a->path, NULL);

		if (s) {
			a->reads++;
			if (strncmp(s, "# HELP", 6) || !strstr(s, "alerttrace_build_info{"))
				a->torn++;
			free(s);
		}
	}
	return NULL;
}

static void test_textfile(void)
{
	struct agg_table t = { 0 };
	char dir[256], path[300], err[256], *txt, *got, buf[4096];
	struct reader_arg ra = { 0 };
	pthread_t th;
	struct stat st;
	int ifd, ret, i, bad_create = 0, moved = 0;
	ssize_t n;

	snprintf(dir, sizeof(dir), "%s/textfile", tmpdir);
	mkdir(dir, 0755);
	snprintf(path, sizeof(path), "%s/alerttrace.prom", dir);
	fill_hostile(&t);
	for (i = 0; i < 3000; i++)	/* a few hundred KB, so a torn read would show */
		add(&t, row(1000 + i, "worker", AT_SRC_OPENSSL, AT_DIR_SENT, 2, 48, 0, 1));

	write_file(path, "old\n");
	ifd = inotify_init1(IN_NONBLOCK);
	inotify_add_watch(ifd, dir, IN_CREATE | IN_MOVED_TO | IN_MODIFY | IN_CLOSE_WRITE);
	ret = metrics_write_textfile(path, &t, &info, err, sizeof(err));
	txt = render(&t, &info);
	got = read_file(path, NULL);
	if (CHECK_EQ("textfile_writes", 0, ret) && got && txt && !strcmp(got, txt))
		PASS("textfile_writes");
	else if (!ret)
		FAILF("textfile_writes", "file content differs from metrics_render");
	if (stat(path, &st) == 0 && CHECK_EQ("textfile_mode_0644", 0644, st.st_mode & 0777))
		PASS("textfile_mode_0644");

	/* Every file created is a dot-file, not *.prom; the .prom name only appears by rename. */
	while ((n = read(ifd, buf, sizeof(buf))) > 0) {
		for (char *p = buf; p < buf + n;) {
			struct inotify_event *ev = (struct inotify_event *)p;
			size_t l = ev->len ? strlen(ev->name) : 0;
			bool prom = l >= 5 && !strcmp(ev->name + l - 5, ".prom");

			if (ev->mask & IN_MOVED_TO && !strcmp(ev->name, "alerttrace.prom"))
				moved++;
			else if (prom || (ev->mask & IN_CREATE && ev->name[0] != '.'))
				bad_create++;
			p += sizeof(*ev) + ev->len;
		}
	}
	close(ifd);
	if (CHECK_EQ("textfile_atomic_rename", 1, moved) &&
	    CHECK_EQ("textfile_atomic_rename", 0, bad_create))
		PASS("textfile_atomic_rename");

	/* A reader never sees a partial file while it is rewritten over and over. */
	ra.path = path;
	pthread_create(&th, NULL, reader, &ra);
	for (i = 0; i < 200 && !ret; i++)
		ret = metrics_write_textfile(path, &t, &info, err, sizeof(err));
	ra.stop = true;
	pthread_join(th, NULL);
	if (CHECK_EQ("textfile_never_torn", 0, ret) && CHECK_EQ("textfile_never_torn", 0, ra.torn))
		PASS("textfile_never_torn");
	{
		char cmd[400];
		FILE *p;
		int left = -1;

		snprintf(cmd, sizeof(cmd), "ls -A %s | wc -l", dir);
		p = popen(cmd, "r");
		if (p && fscanf(p, "%d", &left) != 1)
			left = -1;
		if (p)
			pclose(p);
		if (CHECK_EQ("textfile_no_temp_left", 1, left))
			PASS("textfile_no_temp_left");
	}

	/* Unwritable: a missing directory (root can write anywhere else). */
	err[0] = '\0';
	ret = metrics_write_textfile("/nonexistent-alerttrace-dir/alerttrace.prom", &t, &info, err,
				     sizeof(err));
	if (CHECK_EQ("textfile_missing_dir_error", -ENOENT, ret) &&
	    (strstr(err, "'/nonexistent-alerttrace-dir'") && strstr(err, "no such file") &&
	     !strchr(err, '\n')))
		PASS("textfile_missing_dir_error");
	else if (ret == -ENOENT)
		FAILF("textfile_missing_dir_error",
		      "expected one line naming the directory, got '%s'", err);
	/* A directory we may not write: as root, drop to nobody in a child to get there. */
	{
		char ro[300], rop[320];
		int status = -1;
		pid_t pid;

		snprintf(ro, sizeof(ro), "%s/ro", tmpdir);
		mkdir(ro, 0555);
		chmod(tmpdir, 0755);
		snprintf(rop, sizeof(rop), "%s/x.prom", ro);
		fflush(stdout);
		pid = fork();
		if (pid == 0) {
			if (geteuid() == 0 &&
			    (setgroups(0, NULL) || setresgid(65534, 65534, 65534) ||
			     setresuid(65534, 65534, 65534))) {
				FAILF("textfile_readonly_dir_error", "cannot drop to uid 65534");
				fflush(stdout);
				_exit(1);
			}
			ret = metrics_write_textfile(rop, &t, &info, err, sizeof(err));
			if (CHECK_EQ("textfile_readonly_dir_error", -EACCES, ret) &&
			    strstr(err, "permission denied") && strstr(err, "writable"))
				PASS("textfile_readonly_dir_error");
			else if (ret == -EACCES)
				FAILF("textfile_readonly_dir_error",
				      "expected 'permission denied' and a hint, got '%s'", err);
			fflush(stdout);
			_exit(tl_failed);
		}
		waitpid(pid, &status, 0);
		if (!WIFEXITED(status) || WEXITSTATUS(status))
			tl_failed = 1;
	}
	/* Path is a directory: the rename fails, the temporary file is removed. */
	snprintf(path, sizeof(path), "%s/sub.prom", dir);
	mkdir(path, 0755);
	snprintf(buf, sizeof(buf), "%s/sub.prom/keep", dir);
	write_file(buf, "x");
	ret = metrics_write_textfile(path, &t, &info, err, sizeof(err));
	{
		char cmd[400];
		FILE *p;
		int left = -1;

		snprintf(cmd, sizeof(cmd), "ls -A %s | wc -l", dir);
		p = popen(cmd, "r");
		if (p && fscanf(p, "%d", &left) != 1)
			left = -1;
		if (p)
			pclose(p);
		if (ret < 0 && strstr(err, "rename") &&
		    CHECK_EQ("textfile_rename_error_cleans_up", 2, left))
			PASS("textfile_rename_error_cleans_up");
		else if (ret >= 0)
			FAILF("textfile_rename_error_cleans_up", "expected an error, got %d", ret);
	}
	free(txt);
	free(got);
	agg_free(&t);
}

/* ---- HTTP ------------------------------------------------------------------------------- */

/* A port nothing listens on now; family AF_INET or AF_INET6. 0 when none. */
static int free_port(int family)
{
	struct sockaddr_in6 a6 = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT };
	struct sockaddr_in a4 = { .sin_family = AF_INET,
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	int fd = socket(family, SOCK_STREAM, 0), port = 0;

	if (fd < 0)
		return 0;
	if ((family == AF_INET ? bind(fd, (struct sockaddr *)&a4, sizeof(a4))
			       : bind(fd, (struct sockaddr *)&a6, sizeof(a6))) == 0 &&
	    getsockname(fd, (struct sockaddr *)&ss, &len) == 0)
		port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
	close(fd);
	return port;
}

struct scrape {
	int status;
	char ctype[128];
	char *body;
};

/* curl URL with extra options; status, Content-Type and body. */
static int scrape(const char *opts, const char *url, struct scrape *s)
{
	char cmd[1200], hdr[300], body[300], line[512];
	FILE *f;

	memset(s, 0, sizeof(*s));
	snprintf(hdr, sizeof(hdr), "%s/hdr", tmpdir);
	snprintf(body, sizeof(body), "%s/body", tmpdir);
	snprintf(cmd, sizeof(cmd), "curl -sS -g --max-time 5 %s -D %s -o %s '%s'", opts, hdr, body,
		 url);
	if (system(cmd) != 0)
		return -1;
	f = fopen(hdr, "r");
	while (f && fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\r\n")] = '\0';
		if (!strncmp(line, "HTTP/", 5))
			sscanf(line, "%*s %d", &s->status);
		else if (!strncasecmp(line, "Content-Type: ", 14))
			snprintf(s->ctype, sizeof(s->ctype), "%.127s", line + 14);
	}
	if (f)
		fclose(f);
	s->body = read_file(body, NULL);
	return s->body ? 0 : -1;
}

/* The value of the sample line that starts with prefix (up to the space), or -1. */
static long long sample(const char *text, const char *prefix)
{
	const char *p = text;
	size_t n = strlen(prefix);

	for (; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (!strncmp(p, prefix, n) && p[n] == ' ')
			return atoll(p + n + 1);
	return -1;
}

struct pub_arg {
	atomic_bool stop;
	atomic_int published;
};

/*
 * Publishes tables in which every series counts 20 x the generation (20 pids summed per series)
 * and lost_events is the generation: a scrape must see one generation only.
 */
static void *publisher(void *p)
{
	struct pub_arg *a = p;
	struct agg_table t = { 0 };
	struct metrics_info mi = info;

	for (__u64 g = 1; !a->stop; g++) {
		agg_reset(&t);
		for (int i = 0; i < 2000; i++)
			add(&t, row(i, "gen", AT_SRC_OPENSSL, AT_DIR_SENT, 2, i % 100, 0, g));
		mi.lost_events = g;
		metrics_publish(&t, &mi);
		a->published++;
	}
	agg_free(&t);
	return NULL;
}

static bool one_generation(const char *body)
{
	long long g = sample(body, "alerttrace_lost_events_total"), v;
	const char *p = body;
	int lines = 0;

	if (g <= 0)
		return false;
	for (; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		if (strncmp(p, "alerttrace_alerts_total{", 24))
			continue;
		v = atoll(strchr(p, '}') + 2);
		if (v != 20 * g)
			return false;
		lines++;
	}
	return lines == 100 &&
	       has_line(body, "alerttrace_build_info{version=\"v1.2-\\\"dirty\\\"\"} 1");
}

static void check_serve_error(const char *name, const char *arg, int exp_ret, const char *needle)
{
	char err[256] = "";
	int ret = metrics_serve(arg, err, sizeof(err));

	if (ret == 0)
		metrics_stop();
	if (CHECK_EQ(name, exp_ret, ret) && err[0] && !strchr(err, '\n') && strstr(err, needle))
		PASS(name);
	else if (ret == exp_ret)
		FAILF(name, "expected one line containing '%s', got '%s'", needle, err);
}

static void test_http(void)
{
	struct agg_table t = { 0 };
	struct metrics_info mi = info;
	char addr[64], url[128], err[256], *txt;
	struct scrape s;
	long long before, after;
	int port = free_port(AF_INET), ret, busy;

	if (system("command -v curl >/dev/null") != 0) {
		SKIP("http", "no curl: apt-get install curl");
		return;
	}
	snprintf(addr, sizeof(addr), "127.0.0.1:%d", port);
	ret = metrics_serve(addr, err, sizeof(err));
	if (!CHECK_EQ("http_serve", 0, ret)) {
		printf("   error: %s\n", err);
		return;
	}
	PASS("http_serve");
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/metrics", port);
	if (scrape("", url, &s) == 0 && CHECK_EQ("http_503_before_publish", 503, s.status))
		PASS("http_503_before_publish");
	free(s.body);

	fill_hostile(&t);
	metrics_publish(&t, &mi);
	txt = render(&t, &mi);
	if (scrape("", url, &s) == 0 && CHECK_EQ("http_scrape", 200, s.status) &&
	    CHECK_STR("http_content_type", "text/plain; version=0.0.4; charset=utf-8", s.ctype))
		PASS("http_content_type");
	if (s.body && txt && !strcmp(s.body, txt))
		PASS("http_body_is_rendered_text");
	else
		FAILF("http_body_is_rendered_text", "expected:\n%s\ngot:\n%s", txt, s.body);
	before = s.body ? sample(s.body, OSSL_SENT "level=\"fatal\",alert=\"unknown_ca\","
					 "comm=\"curl\"}") : -1;
	free(s.body);
	free(txt);

	add(&t, row(99, "curl", AT_SRC_OPENSSL, AT_DIR_SENT, 2, 48, 0, 5));
	metrics_publish(&t, &mi);
	scrape("", url, &s);
	after = s.body ? sample(s.body, OSSL_SENT "level=\"fatal\",alert=\"unknown_ca\","
					"comm=\"curl\"}") : -1;
	if (CHECK_EQ("http_counter_moves_by_added", 7, before) &&
	    CHECK_EQ("http_counter_moves_by_added", 12, after))
		PASS("http_counter_moves_by_added");
	free(s.body);

	snprintf(url, sizeof(url), "http://127.0.0.1:%d/other", port);
	if (scrape("", url, &s) == 0 && CHECK_EQ("http_404_elsewhere", 404, s.status))
		PASS("http_404_elsewhere");
	free(s.body);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/", port);
	if (scrape("", url, &s) == 0 && CHECK_EQ("http_404_root", 404, s.status))
		PASS("http_404_root");
	free(s.body);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/metrics", port);
	if (scrape("-X POST -d x=1", url, &s) == 0 && CHECK_EQ("http_405_post", 405, s.status))
		PASS("http_405_post");
	free(s.body);
	/* curl -I writes the headers where the body would go: there must be nothing else. */
	if (scrape("-I", url, &s) == 0 && CHECK_EQ("http_head", 200, s.status) &&
	    CHECK_EQ("http_head", 0, strstr(s.body, "alerttrace_") != NULL))
		PASS("http_head");
	free(s.body);

	/* Scrapes while snapshots change ~continuously: each body is one whole snapshot. */
	{
		struct pub_arg pa = { 0 };
		pthread_t th;
		int bad = 0, n = 0;

		pthread_create(&th, NULL, publisher, &pa);
		while (pa.published < 2)
			usleep(1000);
		for (n = 0; n < 40; n++) {
			if (scrape("", url, &s) || s.status != 200 || !one_generation(s.body))
				bad++;
			free(s.body);
		}
		pa.stop = true;
		pthread_join(th, NULL);
		if (CHECK_EQ("http_consistent_snapshots", 0, bad) && pa.published > 40)
			PASS("http_consistent_snapshots");
		else if (!bad)
			FAILF("http_consistent_snapshots", "only %d publishes", pa.published);
	}

	check_serve_error("http_second_serve_refused", addr, -EBUSY, "already running");
	metrics_stop();
	metrics_stop();

	/* A port someone else holds. */
	{
		struct sockaddr_in a = { .sin_family = AF_INET,
					 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
		socklen_t len = sizeof(a);

		busy = socket(AF_INET, SOCK_STREAM, 0);
		bind(busy, (struct sockaddr *)&a, sizeof(a));
		listen(busy, 1);
		getsockname(busy, (struct sockaddr *)&a, &len);
		snprintf(addr, sizeof(addr), "%d", ntohs(a.sin_port));
		check_serve_error("http_port_in_use", addr, -EADDRINUSE, "address already in use");
		close(busy);
	}
	snprintf(addr, sizeof(addr), "192.0.2.1:%d", free_port(AF_INET));
	check_serve_error("http_foreign_address", addr, -EADDRNOTAVAIL, "no interface");
	check_serve_error("http_bad_empty", "", -EINVAL, "empty");
	check_serve_error("http_bad_port_zero", "0", -EINVAL, "1..65535");
	check_serve_error("http_bad_port_big", "127.0.0.1:65536", -EINVAL, "1..65535");
	check_serve_error("http_bad_port_junk", "127.0.0.1:80x", -EINVAL, "1..65535");
	check_serve_error("http_bad_port_missing", "127.0.0.1:", -EINVAL, "1..65535");
	check_serve_error("http_bad_port_sign", "+9800", -EINVAL, "1..65535");
	check_serve_error("http_bad_host_name", "localhost:9800", -EINVAL, "numeric IPv4");
	check_serve_error("http_bad_ipv4", "1.2.3:9800", -EINVAL, "numeric IPv4");
	check_serve_error("http_bad_no_address", ":9800", -EINVAL, "no address");
	check_serve_error("http_bad_ipv6_unbracketed", "::1:9800", -EINVAL, "brackets");
	check_serve_error("http_bad_ipv6_no_port", "[::1]9800", -EINVAL, "[ADDR6]:PORT");
	check_serve_error("http_bad_ipv6", "[::g]:9800", -EINVAL, "numeric IPv6");
	check_serve_error("http_bad_newline_stays_one_line", "1\n2", -EINVAL, "1..65535");

	/* IPv6 loopback, when the host has one. */
	port = free_port(AF_INET6);
	if (!port) {
		SKIP("http_ipv6", "no IPv6 loopback here");
	} else {
		snprintf(addr, sizeof(addr), "[::1]:%d", port);
		ret = metrics_serve(addr, err, sizeof(err));
		if (CHECK_EQ("http_ipv6", 0, ret)) {
			metrics_publish(&t, &mi);
			snprintf(url, sizeof(url), "http://[::1]:%d/metrics", port);
			if (scrape("", url, &s) == 0 && CHECK_EQ("http_ipv6", 200, s.status) &&
			    has_line(s.body, "alerttrace_hooked_libraries 2"))
				PASS("http_ipv6");
			else
				FAILF("http_ipv6", "expected a scrape over [::1]");
			free(s.body);
			metrics_stop();
		} else {
			printf("   error: %s\n", err);
		}
	}
	agg_free(&t);
}

int main(void)
{
	char cmd[300];

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!mkdtemp(tmpdir)) {
		FAILF("setup", "mkdtemp: %s", strerror(errno));
		return 1;
	}
	test_agg();
	test_render();
	test_textfile();
	test_http();
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	if (system(cmd) != 0)
		perror("rm");
	return tl_failed;
}
