// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Prometheus exporter: text exposition format 0.0.4
 * (https://prometheus.io/docs/instrumenting/exposition_formats/), served by libmicrohttpd or
 * written as a node_exporter textfile.
 *
 * The tracer thread renders each snapshot once (metrics_publish) into a reference-counted
 * buffer; the HTTP thread hands that buffer to libmicrohttpd without copying, and the last
 * response that uses it frees it. One mutex guards the pointer swap and the reference counts.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef AT_NO_HTTP
#include <microhttpd.h>
#endif

#include "alerttrace.h"
#include "alerts.h"
#include "metrics.h"
#include "sources.h"
#include "strutil.h"

#define CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/*
 * A comm as a label value, quotes stripped: at most 15 bytes, each at worst "\\xHH" (5 chars).
 */
#define COMM_LABEL_MAX (15 * 5 + 1)

struct series {
	__u64 count;
	__u32 pid;
	__u8 source, direction, level, code, encrypted;
	char comm[COMM_LABEL_MAX];
};

/* strerror, lower-cased for our one-line messages ("address already in use"). */
static const char *errtext(int e, char *buf, size_t n)
{
	snprintf(buf, n, "%s", strerror(e));
	if (buf[0])
		buf[0] = tolower((unsigned char)buf[0]);
	return buf;
}

static void seterr(char *err, size_t errlen, const char *fmt, ...)
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
	return 0;
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

static void write_series(FILE *f, const struct series *s, bool with_pid)
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
	if (with_pid)
		fprintf(f, ",pid=\"%u\"", s->pid);
	fprintf(f, "} %llu\n", (unsigned long long)s->count);
}

/* Sorted, merged series for t; *out is malloc'ed (NULL when there are none). Count or -errno. */
static long build_series(const struct agg_table *t, bool with_pid, struct series **out)
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
		s->pid = with_pid ? r->pid : 0;
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
	n = build_series(totals, info->with_pid, &v);
	if (n < 0)
		return n;
	fputs("# HELP alerttrace_alerts_total TLS alerts seen since start, by source, direction, "
	      "level, alert and process.\n"
	      "# TYPE alerttrace_alerts_total counter\n", f);
	for (i = 0; i < n; i++)
		write_series(f, &v[i], info->with_pid);
	free(v);
	fprintf(f,
		"# HELP alerttrace_lost_events_total Events dropped: the ring buffer was full.\n"
		"# TYPE alerttrace_lost_events_total counter\n"
		"alerttrace_lost_events_total %llu\n"
		"# HELP alerttrace_hist_lost_total Alerts not counted: histogram map full.\n"
		"# TYPE alerttrace_hist_lost_total counter\n"
		"alerttrace_hist_lost_total %llu\n"
		"# HELP alerttrace_hooked_libraries TLS libraries with attached probes.\n"
		"# TYPE alerttrace_hooked_libraries gauge\n"
		"alerttrace_hooked_libraries %u\n"
		"# HELP alerttrace_build_info alerttrace version; the value is always 1.\n"
		"# TYPE alerttrace_build_info gauge\n"
		"alerttrace_build_info{version=",
		(unsigned long long)info->lost_events, (unsigned long long)info->hist_lost,
		info->hooked_libs);
	prom_label(f, info->version ? info->version : "unknown");
	fputs("} 1\n", f);
	return ferror(f) ? -EIO : 0;
}

/* ---- HTTP ---------------------------------------------------------------------------------- */

#ifdef AT_NO_HTTP
/*
 * `make static`: Debian's libmicrohttpd.a needs GnuTLS and p11-kit, which have no static build:
 * the self-contained binary serves no HTTP; the textfile collector covers the same metrics.
 */
int metrics_serve(const char *addr_port, char *err, size_t errlen)
{
	seterr(err, errlen, "--prometheus %s: this alerttrace (make static) has no HTTP server: use "
	       "--textfile with node_exporter's textfile collector, or the dynamic build", addr_port);
	return -ENOTSUP;
}

void metrics_publish(const struct agg_table *totals, const struct metrics_info *info)
{
}

void metrics_stop(void)
{
}
#else

struct snapshot {
	unsigned refs;		/* under lock */
	size_t len;
	char *text;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct snapshot *current;	/* under lock */
static struct MHD_Daemon *daemon_;	/* set and cleared by the tracer thread only */

/* Drop one reference; call with lock held. */
static void snap_put_locked(struct snapshot *s)
{
	if (s && --s->refs == 0) {
		free(s->text);
		free(s);
	}
}

/* MHD_ContentReaderFreeCallback: the response that used the snapshot is gone. */
static void snap_release(void *cls)
{
	pthread_mutex_lock(&lock);
	snap_put_locked(cls);
	pthread_mutex_unlock(&lock);
}

static enum MHD_Result reply_text(struct MHD_Connection *c, unsigned int status, const char *msg)
{
	struct MHD_Response *r;
	enum MHD_Result ret;

	r = MHD_create_response_from_buffer(strlen(msg), (void *)msg, MHD_RESPMEM_PERSISTENT);
	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain; charset=utf-8");
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url,
			      const char *method, const char *version, const char *upload_data,
			      size_t *upload_data_size, void **con_cls)
{
	static int first_call;
	struct MHD_Response *r;
	struct snapshot *s;
	enum MHD_Result ret;

	/* The first call carries only the headers; answer once any request body has gone by. */
	if (*con_cls != &first_call) {
		*con_cls = &first_call;
		return MHD_YES;
	}
	if (*upload_data_size) {
		*upload_data_size = 0;	/* a body on a GET: ignore it */
		return MHD_YES;
	}
	if (strcmp(url, "/metrics") != 0)
		return reply_text(c, MHD_HTTP_NOT_FOUND, "not found: metrics are at /metrics\n");
	if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
		return reply_text(c, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed\n");

	pthread_mutex_lock(&lock);
	s = current;
	if (s)
		s->refs++;
	pthread_mutex_unlock(&lock);
	if (!s)
		return reply_text(c, MHD_HTTP_SERVICE_UNAVAILABLE, "no metrics published yet\n");

	r = MHD_create_response_from_buffer_with_free_callback_cls(s->len, s->text, snap_release,
								   s);
	if (!r) {
		snap_release(s);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, CONTENT_TYPE);
	ret = MHD_queue_response(c, MHD_HTTP_OK, r);
	MHD_destroy_response(r);	/* the queued response keeps its own reference */
	return ret;
}

/* libmicrohttpd's own messages: kept (the last one) only while the daemon starts. */
static char mhd_msg[256];
static bool mhd_capture;

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	size_t len;

	pthread_mutex_lock(&lock);
	if (mhd_capture) {
		vsnprintf(mhd_msg, sizeof(mhd_msg), fmt, ap);
		len = strlen(mhd_msg);
		while (len && (mhd_msg[len - 1] == '\n' || mhd_msg[len - 1] == '.'))
			mhd_msg[--len] = '\0';
		if (mhd_msg[0])
			mhd_msg[0] = tolower((unsigned char)mhd_msg[0]);
	}
	pthread_mutex_unlock(&lock);
}

union sa_any {
	struct sockaddr sa;
	struct sockaddr_in in;
	struct sockaddr_in6 in6;
};

/*
 * "[ADDR:]PORT" into sa; pretty gets "ADDR:PORT" / "[ADDR]:PORT" for messages. Strict: numeric
 * addresses only, IPv6 in brackets, port 1..65535, nothing else around them.
 */
static int parse_listen(const char *arg, union sa_any *sa, char *pretty, size_t plen, char *err,
			size_t errlen)
{
	char host[INET6_ADDRSTRLEN + 1], safe[96];
	const char *port_s, *colon, *close;
	size_t hlen = 0;
	bool v6 = false;
	__u32 port;
	int ret;

	text_safe(arg, safe, sizeof(safe));
	if (!arg || !*arg) {
		seterr(err, errlen, "empty metrics address: give PORT, ADDR:PORT or [ADDR6]:PORT");
		return -EINVAL;
	}
	memset(sa, 0, sizeof(*sa));
	if (arg[0] == '[') {
		close = strchr(arg, ']');
		if (!close || close[1] != ':') {
			seterr(err, errlen, "bad metrics address '%s': want [ADDR6]:PORT", safe);
			return -EINVAL;
		}
		v6 = true;
		hlen = close - arg - 1;
		port_s = close + 2;
		if (hlen < sizeof(host)) {
			memcpy(host, arg + 1, hlen);
			host[hlen] = '\0';
		}
		if (hlen >= sizeof(host) || inet_pton(AF_INET6, host, &sa->in6.sin6_addr) != 1) {
			seterr(err, errlen, "bad metrics address '%s': not a numeric IPv6 address",
			       safe);
			return -EINVAL;
		}
	} else if ((colon = strchr(arg, ':'))) {
		if (strchr(colon + 1, ':')) {
			seterr(err, errlen,
			       "bad metrics address '%s': put an IPv6 address in brackets, "
			       "[ADDR6]:PORT",
			       safe);
			return -EINVAL;
		}
		hlen = colon - arg;
		if (hlen == 0) {
			seterr(err, errlen,
			       "bad metrics address '%s': no address before ':' (PORT alone "
			       "listens on 127.0.0.1, 0.0.0.0:PORT on every interface)",
			       safe);
			return -EINVAL;
		}
		port_s = colon + 1;
		if (hlen >= sizeof(host)) {
			seterr(err, errlen, "bad metrics address '%s': not a numeric IPv4 address",
			       safe);
			return -EINVAL;
		}
		memcpy(host, arg, hlen);
		host[hlen] = '\0';
		if (inet_pton(AF_INET, host, &sa->in.sin_addr) != 1) {
			seterr(err, errlen,
			       "bad metrics address '%s': not a numeric IPv4 address (host names "
			       "are not resolved)",
			       safe);
			return -EINVAL;
		}
	} else {
		snprintf(host, sizeof(host), "127.0.0.1");
		inet_pton(AF_INET, host, &sa->in.sin_addr);
		port_s = arg;
	}
	ret = parse_u32(port_s, 65535, &port);
	if (ret || port == 0) {
		seterr(err, errlen, "bad metrics port in '%s': want a number 1..65535", safe);
		return -EINVAL;
	}
	if (v6) {
		sa->in6.sin6_family = AF_INET6;
		sa->in6.sin6_port = htons(port);
		snprintf(pretty, plen, "[%s]:%u", host, port);
	} else {
		sa->in.sin_family = AF_INET;
		sa->in.sin_port = htons(port);
		snprintf(pretty, plen, "%s:%u", host, port);
	}
	return 0;
}

/*
 * libmicrohttpd does not return why it could not listen. Bind the same address ourselves (with
 * the SO_REUSEADDR it sets too) to get the errno; 0 when that works, i.e. the cause is elsewhere.
 */
static int probe_bind(const union sa_any *sa)
{
	int fd, one = 1, err = 0;
	socklen_t len = sa->sa.sa_family == AF_INET6 ? sizeof(sa->in6) : sizeof(sa->in);

	fd = socket(sa->sa.sa_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (sa->sa.sa_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, &sa->sa, len) < 0 || listen(fd, 1) < 0)
		err = errno;
	close(fd);
	return err;
}

int metrics_serve(const char *addr_port, char *err, size_t errlen)
{
	unsigned int flags = MHD_USE_AUTO_INTERNAL_THREAD | MHD_USE_ERROR_LOG;
	char pretty[INET6_ADDRSTRLEN + 16], ebuf[64];
	union sa_any sa;
	int ret, e;

	if (daemon_) {
		seterr(err, errlen, "metrics server already running");
		return -EBUSY;
	}
	ret = parse_listen(addr_port, &sa, pretty, sizeof(pretty), err, errlen);
	if (ret)
		return ret;
	if (sa.sa.sa_family == AF_INET6)
		flags |= MHD_USE_IPv6;

	pthread_mutex_lock(&lock);
	mhd_msg[0] = '\0';
	mhd_capture = true;
	pthread_mutex_unlock(&lock);
	/*
	 * The logger goes first so that option parsing messages reach it too. The port argument is
	 * ignored with MHD_OPTION_SOCK_ADDR (sin_port and sin6_port share their offset anyway).
	 */
	daemon_ = MHD_start_daemon(flags, ntohs(sa.in.sin_port), NULL, NULL, handle, NULL,
				   MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
				   MHD_OPTION_SOCK_ADDR, &sa.sa,
				   /* A scrape is one short request: bound slow clients. */
				   MHD_OPTION_CONNECTION_TIMEOUT, 10u,
				   MHD_OPTION_CONNECTION_LIMIT, 32u,
				   MHD_OPTION_END);
	pthread_mutex_lock(&lock);
	mhd_capture = false;
	pthread_mutex_unlock(&lock);
	if (daemon_)
		return 0;

	e = probe_bind(&sa);
	if (e == EADDRINUSE)
		seterr(err, errlen, "cannot listen on %s for metrics: address already in use "
		       "(pick another port)", pretty);
	else if (e == EADDRNOTAVAIL)
		seterr(err, errlen, "cannot listen on %s for metrics: no interface of this host "
		       "has that address", pretty);
	else if (e == EACCES)
		seterr(err, errlen, "cannot listen on %s for metrics: permission denied (ports "
		       "below 1024 need root or CAP_NET_BIND_SERVICE)", pretty);
	else if (e)
		seterr(err, errlen, "cannot listen on %s for metrics: %s", pretty,
		       errtext(e, ebuf, sizeof(ebuf)));
	else
		seterr(err, errlen, "cannot start the metrics http server on %s: %s", pretty,
		       mhd_msg[0] ? mhd_msg : "libmicrohttpd failed");
	return -(e ? e : EIO);
}

void metrics_publish(const struct agg_table *totals, const struct metrics_info *info)
{
	struct snapshot *s, *old;
	char *text = NULL;
	size_t len = 0;
	FILE *f;

	if (!daemon_)
		return;
	f = open_memstream(&text, &len);
	if (!f)
		return;
	if (metrics_render(f, totals, info) || fclose(f)) {
		free(text);
		return;	/* out of memory: keep serving the previous snapshot */
	}
	s = malloc(sizeof(*s));
	if (!s) {
		free(text);
		return;
	}
	s->refs = 1;
	s->len = len;
	s->text = text;
	pthread_mutex_lock(&lock);
	old = current;
	current = s;
	snap_put_locked(old);
	pthread_mutex_unlock(&lock);
}

void metrics_stop(void)
{
	if (daemon_) {
		MHD_stop_daemon(daemon_);
		daemon_ = NULL;
	}
	pthread_mutex_lock(&lock);
	snap_put_locked(current);
	current = NULL;
	pthread_mutex_unlock(&lock);
}
#endif /* AT_NO_HTTP */

/* ---- textfile ------------------------------------------------------------------------------ */

int metrics_write_textfile(const char *path, const struct agg_table *totals,
			   const struct metrics_info *info, char *err, size_t errlen)
{
	char *dir = NULL, *tmp = NULL, ebuf[64], safe[256], dsafe[256];
	const char *slash, *base;
	int fd = -1, dfd, ret = 0;
	FILE *f = NULL;

	text_safe(path, safe, sizeof(safe));
	if (!path || !*path) {
		seterr(err, errlen, "empty metrics file path");
		return -EINVAL;
	}
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
	/* ".NAME.XXXXXX": the collector reads only *.prom, and mkstemp's suffix has no dot. */
	if (!dir || asprintf(&tmp, "%s/.%s.XXXXXX", dir, base) < 0) {
		tmp = NULL;
		ret = -ENOMEM;
		seterr(err, errlen, "cannot write metrics file '%s': out of memory", safe);
		goto cleanup;
	}
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		text_safe(dir, dsafe, sizeof(dsafe));
		seterr(err, errlen, "cannot write metrics file '%s': cannot create a file in '%s': "
		       "%s (the directory must exist and be writable)", safe, dsafe,
		       errtext(-ret, ebuf, sizeof(ebuf)));
		free(tmp);
		tmp = NULL;
		goto cleanup;
	}
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
