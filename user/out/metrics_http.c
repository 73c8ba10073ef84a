// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * GET /metrics over HTTP with libevent's evhttp (libevent_core + libevent_extra), which links
 * statically from Debian's archive: the dynamic and the static build serve the same way.
 *
 * The tracer thread renders each snapshot once (metrics_publish) into a reference-counted
 * buffer; the HTTP thread hands that buffer to evhttp without copying (evbuffer_add_reference),
 * and the last response that uses it frees it. One mutex guards the pointer swap and the
 * reference counts. The event base belongs to the HTTP thread alone while it runs: it is set up
 * before the thread starts and freed after it ends, and the tracer thread stops it through an
 * eventfd the loop watches, so libevent needs no locking of its own (no evthread).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "metrics.h"
#include "metrics_local.h"
#include "strutil.h"

/* A scrape is one short request: bound slow clients and oversized requests. */
#define HTTP_TIMEOUT_S 10
#define HTTP_MAX_HEADERS 8192
#define HTTP_MAX_BODY 4096
#define HTTP_BACKLOG 32

struct snapshot {
	unsigned refs;		/* under lock */
	size_t len;
	char *text;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct snapshot *current;	/* under lock */

/* Set and cleared by the tracer thread only, while the HTTP thread is not running. */
static struct {
	bool running;
	struct event_base *base;
	struct evhttp *http;
	struct event *wake;
	int wake_fd;
	pthread_t thread;
} srv = {.wake_fd = -1};

/* Drop one reference; call with lock held. */
static void snap_put_locked(struct snapshot *s)
{
	if (s && --s->refs == 0) {
		free(s->text);
		free(s);
	}
}

/* evbuffer_ref_cleanup_cb: the response that used the snapshot is sent or dropped. */
static void snap_release(const void *data, size_t len, void *arg)
{
	pthread_mutex_lock(&lock);
	snap_put_locked(arg);
	pthread_mutex_unlock(&lock);
}

static void reply_text(struct evhttp_request *req, int status, const char *reason,
		       const char *msg)
{
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);
	struct evbuffer *b = evbuffer_new();

	evhttp_add_header(h, "Content-Type", "text/plain; charset=utf-8");
	if (status == HTTP_BADMETHOD)
		evhttp_add_header(h, "Allow", "GET, HEAD");
	if (b)
		evbuffer_add(b, msg, strlen(msg));
	evhttp_send_reply(req, status, reason, b);
	if (b)
		evbuffer_free(b);
}

/* Every request, whatever its path or method (evhttp_set_gencb). */
static void handle(struct evhttp_request *req, void *arg)
{
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	enum evhttp_cmd_type m = evhttp_request_get_command(req);
	const char *path = uri ? evhttp_uri_get_path(uri) : NULL;
	struct snapshot *s;
	struct evbuffer *b;

	if (!path || strcmp(path, "/metrics") != 0) {
		reply_text(req, HTTP_NOTFOUND, "Not Found", "not found: metrics are at /metrics\n");
		return;
	}
	if (m != EVHTTP_REQ_GET && m != EVHTTP_REQ_HEAD) {
		reply_text(req, HTTP_BADMETHOD, "Method Not Allowed", "method not allowed\n");
		return;
	}
	pthread_mutex_lock(&lock);
	s = current;
	if (s)
		s->refs++;
	pthread_mutex_unlock(&lock);
	if (!s) {
		reply_text(req, HTTP_SERVUNAVAIL, "Service Unavailable",
			   "no metrics published yet\n");
		return;
	}
	b = evbuffer_new();
	if (!b || evbuffer_add_reference(b, s->text, s->len, snap_release, s)) {
		snap_release(NULL, 0, s);
		if (b)
			evbuffer_free(b);
		evhttp_send_error(req, HTTP_INTERNAL, NULL);
		return;
	}
	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
			  METRICS_CONTENT_TYPE);
	/* The reply takes the referenced chain over; a HEAD drains it, which releases it too. */
	evhttp_send_reply(req, HTTP_OK, "OK", b);
	evbuffer_free(b);
}

/* The tracer thread wrote the eventfd: leave the loop. */
static void on_wake(evutil_socket_t fd, short what, void *arg)
{
	event_base_loopbreak(srv.base);
}

static void *http_thread(void *arg)
{
	event_base_dispatch(srv.base);
	return NULL;
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


/* A listening socket of our own: bind's errno says exactly why an address cannot be had. */
static int listen_on(const union sa_any *sa)
{
	socklen_t len = sa->sa.sa_family == AF_INET6 ? sizeof(sa->in6) : sizeof(sa->in);
	int fd, one = 1, e;

	fd = socket(sa->sa.sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* A restarted tracer gets its port back while old connections sit in TIME_WAIT. */
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (sa->sa.sa_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, &sa->sa, len) < 0 || listen(fd, HTTP_BACKLOG) < 0) {
		e = errno;
		close(fd);
		return -e;
	}
	return fd;
}

static void srv_free(void)
{
	if (srv.http)
		evhttp_free(srv.http);	/* closes the listening socket and every connection */
	if (srv.wake)
		event_free(srv.wake);
	if (srv.base)
		event_base_free(srv.base);
	if (srv.wake_fd >= 0)
		close(srv.wake_fd);
	srv.http = NULL;
	srv.wake = NULL;
	srv.base = NULL;
	srv.wake_fd = -1;
}

int metrics_serve(const char *addr_port, char *err, size_t errlen)
{
	char pretty[INET6_ADDRSTRLEN + 16], ebuf[64];
	sigset_t all, old;
	union sa_any sa;
	int ret, fd;

	if (srv.running) {
		seterr(err, errlen, "metrics server already running");
		return -EBUSY;
	}
	ret = parse_listen(addr_port, &sa, pretty, sizeof(pretty), err, errlen);
	if (ret)
		return ret;
	fd = listen_on(&sa);
	if (fd == -EADDRINUSE) {
		seterr(err, errlen, "cannot listen on %s for metrics: address already in use "
		       "(pick another port)", pretty);
		return fd;
	} else if (fd == -EADDRNOTAVAIL) {
		seterr(err, errlen, "cannot listen on %s for metrics: no interface of this "
		       "host has that address", pretty);
		return fd;
	} else if (fd == -EACCES) {
		seterr(err, errlen, "cannot listen on %s for metrics: permission denied "
		       "(ports below 1024 need root or CAP_NET_BIND_SERVICE)", pretty);
		return fd;
	} else if (fd < 0) {
		seterr(err, errlen, "cannot listen on %s for metrics: %s", pretty,
		       errtext(-fd, ebuf, sizeof(ebuf)));
		return fd;
	}

	srv.base = event_base_new();
	srv.http = srv.base ? evhttp_new(srv.base) : NULL;
	srv.wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (srv.base && srv.wake_fd >= 0)
		srv.wake = event_new(srv.base, srv.wake_fd, EV_READ, on_wake, NULL);
	if (!srv.http || !srv.wake || event_add(srv.wake, NULL) ||
	    !evhttp_accept_socket_with_handle(srv.http, fd)) {
		close(fd);
		srv_free();
		seterr(err, errlen, "cannot start the metrics http server on %s: libevent "
		       "could not set up (out of memory?)", pretty);
		return -ENOMEM;
	}
	/* Every method reaches handle(), which answers 405 itself (evhttp would say 501). */
	evhttp_set_allowed_methods(srv.http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_HEAD |
					     EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE |
					     EVHTTP_REQ_OPTIONS | EVHTTP_REQ_TRACE |
					     EVHTTP_REQ_CONNECT | EVHTTP_REQ_PATCH);
	evhttp_set_timeout(srv.http, HTTP_TIMEOUT_S);
	evhttp_set_max_headers_size(srv.http, HTTP_MAX_HEADERS);
	evhttp_set_max_body_size(srv.http, HTTP_MAX_BODY);
	evhttp_set_gencb(srv.http, handle, NULL);

	/* Signals belong to the tracer thread; a peer that went away is EPIPE, not SIGPIPE. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	ret = pthread_create(&srv.thread, NULL, http_thread, NULL);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (ret) {
		srv_free();
		seterr(err, errlen, "cannot start the metrics http server on %s: cannot "
		       "create its thread: %s", pretty,
		       errtext(ret, ebuf, sizeof(ebuf)));
		return -ret;
	}
	srv.running = true;
	return 0;
}

void metrics_publish(const struct agg_table *totals, const struct metrics_info *info)
{
	struct snapshot *s, *old;
	char *text = NULL;
	size_t len = 0;
	FILE *f;

	if (!srv.running)
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
	uint64_t one = 1;

	if (srv.running) {
		if (write(srv.wake_fd, &one, sizeof(one)) != sizeof(one))
			event_base_loopbreak(srv.base);	/* cannot happen on an eventfd */
		pthread_join(srv.thread, NULL);
		srv.running = false;
		srv_free();	/* responses still queued drop their snapshot references */
	}
	pthread_mutex_lock(&lock);
	snap_put_locked(current);
	current = NULL;
	pthread_mutex_unlock(&lock);
}
