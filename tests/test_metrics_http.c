// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The Prometheus exporter's HTTP server (user/out/metrics_http.c) scraped with curl while
 * snapshots change: every scrape one whole generation, bad listen addresses refused with their
 * reason (metrics_t.h: the rows and hostile comms of test_metrics.c).
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

#include "metrics_t.h"

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
	if (mt_setup())
		return 1;
	test_http();
	return mt_done();
}
