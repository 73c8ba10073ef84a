// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The selftest's peer program (selftest_peers.h): built as a dynamic executable that needs only
 * the C library, embedded in alerttrace, and run from a memfd by the selftest, so that it loads
 * the host's TLS libraries with the host's dynamic loader whether alerttrace itself is dynamic or
 * static (a static program's dlopen cannot give libgnutls its thread-local state).
 *
 *   st_peer SOURCE ROLE CTL_FD FD    SOURCE: enum at_source; ROLE: 0 server, 1 client
 */
#include <ctype.h>
#include <dlfcn.h>
#include <errno.h>
#include <link.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include "alerttrace.h"
#include "selftest_peers.h"

enum { SERVER, CLIENT };

static int ctl = -1;	/* this peer's end of its control socket */

static const char *errstr(int e)
{
	static char buf[128];

	snprintf(buf, sizeof(buf), "%s", strerror(e));
	buf[0] = tolower((unsigned char)buf[0]);
	return buf;
}

static void say(int kind, int dir, int level, int code, const char *fmt, ...)
{
	struct st_msg m = {.kind = kind, .dir = dir, .level = level, .code = code};
	va_list ap;

	if (fmt) {
		va_start(ap, fmt);
		vsnprintf(m.text, sizeof(m.text), fmt, ap);
		va_end(ap);
	}
	if (write(ctl, &m, sizeof(m)) < 0)
		_exit(1);
}

/* Block until the selftest says go; leave when it is gone. */
static void wait_go(void)
{
	char c;

	if (read(ctl, &c, 1) != 1)
		_exit(1);
}

/* dlopen the first of names that loads. NULL after ST_ABSENT or ST_ERROR was said. */
static void *load(const char *const *names, const char *what)
{
	const char *const *n;
	struct link_map *lm;
	void *h = NULL;

	for (n = names; *n && !h; n++)
		h = dlopen(*n, RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		say(ST_ABSENT, 0, 0, 0, "no %s on this host", what);
		return NULL;
	}
	if (dlinfo(h, RTLD_DI_LINKMAP, &lm) || !lm || !lm->l_name[0]) {
		say(ST_ERROR, 0, 0, 0, "%s loaded, but dlinfo cannot tell its path", what);
		return NULL;
	}
	return h;
}

static const char *lib_path(void *h)
{
	struct link_map *lm;

	return dlinfo(h, RTLD_DI_LINKMAP, &lm) == 0 && lm ? lm->l_name : "?";
}

/* dlsym or say which symbol is missing. */
#define SYM(h, var, name)                                                                          \
	do {                                                                                       \
		*(void **)&(var) = dlsym(h, name);                                                 \
		if (!(var)) {                                                                      \
			say(ST_ERROR, 0, 0, 0, "%s has no %s", lib_path(h), name);                 \
			_exit(1);                                                                  \
		}                                                                                  \
	} while (0)

/* ---- OpenSSL ------------------------------------------------------------------------------- */

/* ssl.h: SSL_CB_ALERT, SSL_CB_READ, SSL_CB_WRITE; SSL_CTRL_SET_{MIN,MAX}_PROTO_VERSION. */
#define OSSL_CB_ALERT 0x4000
#define OSSL_CB_READ 0x04
#define OSSL_CB_WRITE 0x08
#define OSSL_CTRL_MIN_PROTO 123
#define OSSL_CTRL_MAX_PROTO 124

/* The library's own word on each alert (what s_client's "SSL alert number" comes from). */
static void ossl_info(const void *ssl, int where, int ret)
{
	if (where & OSSL_CB_ALERT)
		say(ST_ALERT, (where & OSSL_CB_WRITE) ? AT_DIR_SENT : AT_DIR_RECEIVED, ret >> 8,
		    ret & 0xff, NULL);
}

static void __attribute__((noreturn)) run_openssl(int role, int fd)
{
	static const char *const names[] = {"libssl.so.3", "libssl.so.1.1", NULL};
	void *(*method)(void), *(*ctx_new)(void *), *(*ssl_new)(void *);
	long (*ctx_ctrl)(void *, int, long, void *);
	void (*set_info)(void *, void (*)(const void *, int, int));
	int (*set_fd)(void *, int), (*handshake)(void *);
	const char *(*version)(int);
	void *h = load(names, "libssl.so.3 or libssl.so.1.1"), *ctx, *ssl;
	int ret;

	if (!h)
		_exit(1);
	SYM(h, method, role == SERVER ? "TLS_server_method" : "TLS_client_method");
	SYM(h, ctx_new, "SSL_CTX_new");
	SYM(h, ctx_ctrl, "SSL_CTX_ctrl");
	SYM(h, set_info, "SSL_CTX_set_info_callback");
	SYM(h, ssl_new, "SSL_new");
	SYM(h, set_fd, "SSL_set_fd");
	SYM(h, handshake, role == SERVER ? "SSL_accept" : "SSL_connect");
	SYM(h, version, "OpenSSL_version");
	ctx = ctx_new(method());
	/* RFC 8446 D.2: a TLS 1.3-only server answers a TLS 1.2 ClientHello with protocol_version. */
	if (!ctx || !ctx_ctrl(ctx, role == SERVER ? OSSL_CTRL_MIN_PROTO : OSSL_CTRL_MAX_PROTO,
			      role == SERVER ? 0x304 : 0x303, NULL)) {
		say(ST_ERROR, 0, 0, 0, "cannot set up an SSL_CTX with %s", lib_path(h));
		_exit(1);
	}
	set_info(ctx, ossl_info);
	ssl = ssl_new(ctx);
	if (!ssl || !set_fd(ssl, fd)) {
		say(ST_ERROR, 0, 0, 0, "cannot make an SSL object with %s", lib_path(h));
		_exit(1);
	}
	say(ST_READY, 0, 0, 0, "%s (%s)", lib_path(h), version(0));
	wait_go();
	ret = handshake(ssl);
	say(ST_DONE, 0, 0, 0, "handshake returned %d", ret);
	_exit(0);
}

/* ---- GnuTLS -------------------------------------------------------------------------------- */

/* gnutls.h: GNUTLS_SERVER, GNUTLS_CLIENT, GNUTLS_CRD_CERTIFICATE, GNUTLS_E_*_ALERT_RECEIVED. */
#define GT_SERVER 1
#define GT_CLIENT 2
#define GT_CRD_CERTIFICATE 1
#define GT_E_WARNING_ALERT_RECEIVED (-16)
#define GT_E_FATAL_ALERT_RECEIVED (-12)

static void __attribute__((noreturn)) run_gnutls(int role, int fd)
{
	static const char *const names[] = {"libgnutls.so.30", NULL};
	int (*init)(void **, unsigned), (*prio)(void *, const char *, const char **);
	int (*cred_alloc)(void **), (*cred_set)(void *, int, void *), (*handshake)(void *);
	int (*to_alert)(int, int *), (*send_appropriate)(void *, int), (*alert_get)(void *);
	void (*transport)(void *, int, int);
	const char *(*check_version)(const char *), *(*strerr)(int);
	void *h = load(names, "libgnutls.so.30"), *session, *cred;
	int ret, alert, level;

	if (!h)
		_exit(1);
	SYM(h, init, "gnutls_init");
	SYM(h, prio, "gnutls_priority_set_direct");
	SYM(h, cred_alloc, "gnutls_certificate_allocate_credentials");
	SYM(h, cred_set, "gnutls_credentials_set");
	SYM(h, transport, "gnutls_transport_set_int2");
	SYM(h, handshake, "gnutls_handshake");
	SYM(h, to_alert, "gnutls_error_to_alert");
	SYM(h, send_appropriate, "gnutls_alert_send_appropriate");
	SYM(h, alert_get, "gnutls_alert_get");
	SYM(h, check_version, "gnutls_check_version");
	SYM(h, strerr, "gnutls_strerror");
	if (init(&session, role == SERVER ? GT_SERVER : GT_CLIENT) ||
	    prio(session, role == SERVER ? "NORMAL:-VERS-ALL:+VERS-TLS1.3"
					 : "NORMAL:-VERS-ALL:+VERS-TLS1.2", NULL) ||
	    cred_alloc(&cred) || cred_set(session, GT_CRD_CERTIFICATE, cred)) {
		say(ST_ERROR, 0, 0, 0, "cannot set up a session with %s", lib_path(h));
		_exit(1);
	}
	transport(session, fd, fd);
	say(ST_READY, 0, 0, 0, "%s (GnuTLS %s)", lib_path(h), check_version(NULL));
	wait_go();
	ret = handshake(session);
	if (role == SERVER && ret < 0) {
		/* GnuTLS sends an alert only when asked (as gnutls-serv does). */
		alert = to_alert(ret, &level);
		if (send_appropriate(session, ret) == 0)
			say(ST_ALERT, AT_DIR_SENT, level, alert, NULL);
	} else if (ret == GT_E_FATAL_ALERT_RECEIVED || ret == GT_E_WARNING_ALERT_RECEIVED) {
		say(ST_ALERT, AT_DIR_RECEIVED, ret == GT_E_FATAL_ALERT_RECEIVED ? 2 : 1,
		    alert_get(session), NULL);
	}
	say(ST_DONE, 0, 0, 0, "handshake: %s", ret ? strerr(ret) : "done");
	_exit(0);
}

/* ---- wire ---------------------------------------------------------------------------------- */

static void __attribute__((noreturn)) run_wire(int role)
{
	/* RFC 8446 5.1: content type 21 (alert), legacy version 3.3, length 2, level, description. */
	const unsigned char rec[] = {21, 3, 3, 0, 2, ST_WIRE_LEVEL, ST_WIRE_CODE};
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(ST_WIRE_PORT),
				.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	unsigned char buf[64];
	struct pollfd pfd;
	int one = 1, fd, c;
	ssize_t n, got = 0;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		say(ST_ERROR, 0, 0, 0, "cannot make a TCP socket: %s", errstr(errno));
		_exit(1);
	}
	if (role == SERVER) {
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(fd, (struct sockaddr *)&a, sizeof(a)) || listen(fd, 1)) {
			say(ST_ERROR, 0, 0, 0, "cannot listen on 127.0.0.1:%d in the selftest's "
			    "namespace: %s", ST_WIRE_PORT, errstr(errno));
			_exit(1);
		}
		say(ST_READY, 0, 0, 0, "lo 127.0.0.1:%d", ST_WIRE_PORT);
		wait_go();
		pfd = (struct pollfd){.fd = fd, .events = POLLIN};
		c = poll(&pfd, 1, 5000) == 1 ? accept(fd, NULL, NULL) : -1;
		while (c >= 0 && got < (ssize_t)sizeof(rec) &&
		       (n = read(c, buf + got, sizeof(buf) - got)) > 0)
			got += n;
		/* What came is the witness: the record as the socket delivered it. */
		if (got >= (ssize_t)sizeof(rec) && buf[0] == 21)
			say(ST_ALERT, AT_DIR_RECEIVED, buf[5], buf[6], NULL);
		say(ST_DONE, 0, 0, 0, "read %zd bytes", got);
		_exit(0);
	}
	say(ST_READY, 0, 0, 0, "client");
	wait_go();
	if (connect(fd, (struct sockaddr *)&a, sizeof(a))) {
		say(ST_ERROR, 0, 0, 0, "cannot connect to 127.0.0.1:%d in the selftest's namespace: "
		    "%s", ST_WIRE_PORT, errstr(errno));
		_exit(1);
	}
	if (write(fd, rec, sizeof(rec)) == (ssize_t)sizeof(rec))
		say(ST_ALERT, AT_DIR_SENT, ST_WIRE_LEVEL, ST_WIRE_CODE, NULL);
	/* Until the server closed: the record crossed lo both ways before we leave. */
	shutdown(fd, SHUT_WR);
	pfd = (struct pollfd){.fd = fd, .events = POLLIN};
	while (poll(&pfd, 1, 5000) == 1 && read(fd, buf, sizeof(buf)) > 0)
		;
	say(ST_DONE, 0, 0, 0, "wrote the record");
	_exit(0);
}

int main(int argc, char **argv)
{
	int source, role, fd;

	if (argc != 5)
		return 2;
	source = atoi(argv[1]);
	role = atoi(argv[2]);
	ctl = atoi(argv[3]);
	fd = atoi(argv[4]);
	prctl(PR_SET_NAME, role == SERVER ? "at-selftest-srv" : "at-selftest-cli");
	if (source == AT_SRC_OPENSSL)
		run_openssl(role, fd);
	if (source == AT_SRC_GNUTLS)
		run_gnutls(role, fd);
	if (source == AT_SRC_WIRE)
		run_wire(role);
	return 2;
}
