/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The peers --selftest drives: for each source a server and a client process, forked from the
 * tracer before it starts, that make one alert happen when told to and say what their own
 * library (or socket) says happened: the witness the selftest judges the tracer's events by.
 *
 *   openssl  the host's libssl (dlopen): a TLS 1.3-only server and a TLS 1.2-only client over
 *            a socketpair; the server sends protocol_version. Alerts from SSL_CTX_set_info_callback.
 *   gnutls   the host's libgnutls.so.30 (dlopen), the same versions over a socketpair; the
 *            server sends the alert gnutls_alert_send_appropriate picks, the client reads it
 *            with gnutls_alert_get.
 *   wire     a TCP connection on 127.0.0.1 (the selftest namespace's lo): the client writes a
 *            plaintext alert record, the server reads it. No TLS library.
 *
 * The peers are one small dynamic program (user/peer/st_peer.c) embedded in alerttrace and run
 * from a memfd: the host's dynamic loader loads the libraries, also for alerttrace-static. Where
 * the tracer's root has no dynamic loader (a container image from scratch) and /proc/1/root is
 * another root (the host's, with the host's pid namespace), a peer enters that root first.
 */
#ifndef AT_SELFTEST_PEERS_H
#define AT_SELFTEST_PEERS_H

#include <stdbool.h>
#include <sys/types.h>

enum st_kind {
	ST_READY = 1,	/* loaded; text: the library's path and version (or the port) */
	ST_ABSENT,	/* no such library here; text: what was looked for */
	ST_ERROR,	/* text: what failed */
	ST_ALERT,	/* the peer's own library says it sent or received this alert */
	ST_DONE,	/* finished; text: how the handshake ended */
};

/* One message from a peer on its control socket (SOCK_SEQPACKET: one write, one message). */
struct st_msg {
	int kind;
	int dir;		/* ST_ALERT: AT_DIR_SENT or AT_DIR_RECEIVED */
	int level, code;	/* ST_ALERT */
	char text[256];
};

/* The peer program's interpreter (x86-64 glibc); where it is missing, the host's root is used. */
#define ST_PEER_INTERP "/lib64/ld-linux-x86-64.so.2"

#define ST_WIRE_PORT 4433	/* the selftest's own namespace: nothing else listens there */
#define ST_WIRE_LEVEL 2		/* fatal */
#define ST_WIRE_CODE 80		/* internal_error */

struct st_proc {
	pid_t pid;		/* 0: not started */
	int ctl;		/* the selftest's end of the control socket, -1: none */
	bool done;
};

/*
 * Fork the server and the client of source (AT_SRC_OPENSSL, AT_SRC_GNUTLS or AT_SRC_WIRE).
 * Each loads what it needs, sends ST_READY (or ST_ABSENT, ST_ERROR) and waits for st_go.
 * Returns 0 or -errno (fork or socketpair failed).
 */
int st_peers_start(int source, struct st_proc *srv, struct st_proc *cli);
/* Let the peer make its alert. */
void st_go(struct st_proc *p);
/* Read one message, waiting up to ms. 1: got one, 0: timeout, -1: the peer is gone. */
int st_recv(struct st_proc *p, struct st_msg *m, int ms);
/* Kill and reap; accepts a peer never started. */
void st_reap(struct st_proc *p);

#endif
