// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * End to end on the library path: real `openssl s_server`/`s_client` pairs on 127.0.0.1 produce
 * alerts, and the uprobes of bpf/ossl.bpf.c, attached by user/libs.c to the system's libssl, must
 * report each one from the right process, in the right direction, with the right level and code. A
 * last case runs the server in its own mount namespace with a private copy of libssl, reachable
 * only as /proc/PID/root/PATH, as in a container.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "alerttrace.h"
#include "libpath.h"
#include "testlib.h"

#define MAX_EVENTS 4096
#define MAX_KIDS 16

static struct at_event events[MAX_EVENTS];
static int nevents;
static char tmpdir[64];
static pid_t kids[MAX_KIDS];
static int nkids;
static struct ring_buffer *rb;

static int on_event(void *ctx, void *data, size_t sz)
{
	if (sz >= sizeof(struct at_event) && nevents < MAX_EVENTS)
		memcpy(&events[nevents++], data, sizeof(struct at_event));
	return 0;
}

static void drain(int ms)
{
	ring_buffer__poll(rb, ms);
}

static void sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

static void cleanup(void)
{
	int i;

	for (i = 0; i < nkids; i++) {
		if (kids[i] > 0) {
			kill(kids[i], SIGKILL);
			waitpid(kids[i], NULL, 0);
			kids[i] = 0;
		}
	}
	if (tmpdir[0]) {
		char cmd[256];

		snprintf(cmd, sizeof(cmd), "umount -l %s/ns 2>/dev/null; rm -rf %s", tmpdir,
			 tmpdir);
		if (system(cmd) != 0)
			fprintf(stderr, "cannot remove %s\n", tmpdir);
		tmpdir[0] = 0;
	}
}

static void on_signal(int sig)
{
	cleanup();
	_exit(128 + sig);
}

/* Fork+exec argv with stdin from in_fd and stdout+stderr into out; the pid is the program's. */
static pid_t spawn(char *const argv[], int in_fd, const char *out)
{
	int fd, slot;
	pid_t p;

	for (slot = 0; slot < nkids && kids[slot]; slot++)
		;
	if (slot == MAX_KIDS)
		return -1;
	p = fork();
	if (p == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (fd < 0 || dup2(in_fd, 0) < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0)
			_exit(126);
		execvp(argv[0], argv);
		_exit(127);
	}
	if (p > 0) {
		kids[slot] = p;
		if (slot == nkids)
			nkids++;
	}
	return p;
}

static void reap(pid_t p, int sig)
{
	int i;

	for (i = 0; i < nkids; i++) {
		if (kids[i] == p) {
			if (sig)
				kill(p, sig);
			waitpid(p, NULL, 0);
			kids[i] = 0;
		}
	}
}

/* Wait up to ms for p to exit (draining events meanwhile); kill it after that. */
static bool wait_exit(pid_t p, int ms)
{
	int i;

	for (i = 0; i < ms / 20; i++) {
		if (waitpid(p, NULL, WNOHANG) == p) {
			for (int k = 0; k < nkids; k++)
				if (kids[k] == p)
					kids[k] = 0;
			return true;
		}
		drain(20);
	}
	reap(p, SIGKILL);
	return false;
}

static bool file_has(const char *path, const char *what)
{
	char buf[8192];
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY);
	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = 0;
	return strstr(buf, what) != NULL;
}

static int free_port(void)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t l = sizeof(a);
	int s, port = -1;

	s = socket(AF_INET, SOCK_STREAM, 0);
	if (s < 0)
		return -1;
	if (bind(s, (struct sockaddr *)&a, sizeof(a)) == 0 &&
	    getsockname(s, (struct sockaddr *)&a, &l) == 0)
		port = ntohs(a.sin_port);
	close(s);
	return port;
}

static int sh(const char *cmd)
{
	int rc = system(cmd);

	return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

static const char *hook_name(int h)
{
	return h == AT_HOOK_DISPATCH ? "dispatch"
	       : h == AT_HOOK_READ   ? "read"
	       : h == AT_HOOK_ERR    ? "err"
				     : "?";
}

struct want {
	bool by_client; /* the event's pid: s_client's, else s_server's */
	int dir, hook, level, code;
	int version; /* 0: not checked */
	int flags;   /* AT_F_* that must be set */
};

struct tcase {
	const char *name;
	const char *srv[5];
	const char *cli[5];
	struct want w[4];
	int nw;
};

static const struct at_event *find(pid_t pid, const struct want *w)
{
	int i;

	for (i = 0; i < nevents; i++) {
		const struct at_event *e = &events[i];

		if (e->source == AT_SRC_OPENSSL && e->pid == (__u32)pid && e->direction == w->dir &&
		    e->hook == w->hook && e->level == w->level && e->code == w->code)
			return e;
	}
	return NULL;
}

static void show_events(const char *name, pid_t srv, pid_t cli, struct lib_tracer *lt)
{
	int i;

	for (i = 0; i < nevents; i++) {
		const struct at_event *e = &events[i];

		if (e->pid != (__u32)srv && e->pid != (__u32)cli)
			continue;
		printf("   %s: pid %u (%s, %.16s) %s %-8s level %u code %3u version 0x%04x "
		       "flags "
		       "0x%02x ssl 0x%llx lib %u %s\n",
		       name, e->pid, e->pid == (__u32)srv ? "server" : "client", e->comm,
		       e->direction == AT_DIR_SENT ? "sent" : "recv", hook_name(e->hook), e->level,
		       e->code, e->version, e->flags, (unsigned long long)e->session, e->lib_id,
		       libs_path(lt, e->lib_id));
	}
}

static void show_log(const char *who, const char *path)
{
	char cmd[256];

	printf("   %s log:\n", who);
	fflush(stdout);
	snprintf(cmd, sizeof(cmd), "sed 's/^/      /' %s", path);
	sh(cmd);
}

/* Start the server (its pid is the one events must carry), wait until it listens. */
static pid_t start_server(const char *tag, const char *prefix, const char *const extra[], int port,
			  int *wfd, char *log, size_t logsz)
{
	char acc[32], cert[96], key[96], *argv[24];
	int p[2], n = 0, i;
	pid_t pid;

	snprintf(acc, sizeof(acc), "127.0.0.1:%d", port);
	snprintf(cert, sizeof(cert), "%s/srv.pem", tmpdir);
	snprintf(key, sizeof(key), "%s/srv.key", tmpdir);
	snprintf(log, logsz, "%s/%s.server.log", tmpdir, tag);
	if (prefix) {
		argv[n++] = "unshare";
		argv[n++] = "-m";
		argv[n++] = "sh";
		argv[n++] = "-c";
		argv[n++] = (char *)prefix;
		argv[n++] = "sh";
	}
	argv[n++] = "openssl";
	argv[n++] = "s_server";
	argv[n++] = "-accept";
	argv[n++] = acc;
	argv[n++] = "-naccept";
	argv[n++] = "1";
	argv[n++] = "-cert";
	argv[n++] = cert;
	argv[n++] = "-key";
	argv[n++] = key;
	for (i = 0; extra && extra[i]; i++)
		argv[n++] = (char *)extra[i];
	argv[n] = NULL;
	/* stdin stays open and silent: s_server ends a session on EOF of its stdin. */
	if (pipe2(p, O_CLOEXEC) < 0)
		return -1;
	pid = spawn(argv, p[0], log);
	close(p[0]);
	*wfd = p[1];
	for (i = 0; pid > 0 && i < 250; i++) {
		if (file_has(log, "ACCEPT"))
			return pid;
		sleep_ms(20);
	}
	show_log("server", log);
	return -1;
}

static pid_t start_client(const char *tag, const char *const extra[], int port, char *log,
			  size_t logsz)
{
	char conn[32], *argv[16];
	int n = 0, i, in;
	pid_t pid;

	snprintf(conn, sizeof(conn), "127.0.0.1:%d", port);
	snprintf(log, logsz, "%s/%s.client.log", tmpdir, tag);
	argv[n++] = "openssl";
	argv[n++] = "s_client";
	argv[n++] = "-connect";
	argv[n++] = conn;
	for (i = 0; extra && extra[i]; i++)
		argv[n++] = (char *)extra[i];
	argv[n] = NULL;
	/* stdin at EOF: after the handshake s_client shuts down with a close_notify. */
	in = open("/dev/null", O_RDONLY);
	pid = spawn(argv, in, log);
	close(in);
	return pid;
}

/* Wait until every wanted event arrived (or 3 s). */
static void await(const struct tcase *c, pid_t srv, pid_t cl)
{
	bool all;
	int i, k;

	/* Events are in the ring buffer as soon as the alert is handled; allow for scheduling. */
	for (i = 0; i < 150; i++) {
		drain(20);
		for (all = true, k = 0; k < c->nw; k++)
			all = all && find(c->w[k].by_client ? cl : srv, &c->w[k]);
		if (all)
			break;
	}
}

/*
 * Check the wanted events of c. lib_check: NULL, or "/proc/" (the server's events must come through
 * a library reached as /proc/PID/root/..., not through lib_not), or the exact path of the library
 * every non-ERR event must come through. Returns false when something failed.
 */
static bool check_case(struct lib_tracer *lt, const struct tcase *c, pid_t srv, pid_t cl,
		       const char *lib_check, __u32 lib_not)
{
	bool ok = true;
	char name[128];
	int i;

	show_events(c->name, srv, cl, lt);
	for (i = 0; i < c->nw; i++) {
		const struct want *w = &c->w[i];
		const struct at_event *e = find(w->by_client ? cl : srv, w);
		const char *lp;

		snprintf(name, sizeof(name), "%s_%s_%s_%s", c->name,
			 w->by_client ? "client" : "server",
			 w->dir == AT_DIR_SENT ? "sent" : "received", hook_name(w->hook));
		if (!e) {
			FAILF(name, "no %s event %s pid %d with level %d code %d (hook %s)",
			      w->dir == AT_DIR_SENT ? "sent" : "received",
			      w->by_client ? "client" : "server", w->by_client ? cl : srv, w->level,
			      w->code, hook_name(w->hook));
			ok = false;
			continue;
		}
		ok = false;
		if (w->version && !CHECK_EQ(name, w->version, e->version))
			continue;
		if (w->dir == AT_DIR_SENT && !CHECK_EQ(name, AT_F_WRITTEN, e->flags & AT_F_WRITTEN))
			continue;
		if (!CHECK_EQ(name, AT_F_HAS_TASK | w->flags,
			      e->flags & (AT_F_HAS_TASK | w->flags)))
			continue;
		if (w->hook != AT_HOOK_ERR && !e->session) {
			FAILF(name, "event has no SSL pointer");
			continue;
		}
		lp = libs_path(lt, e->lib_id);
		if (lib_check && !strcmp(lib_check, "/proc/") && !w->by_client &&
		    e->hook != AT_HOOK_ERR && (e->lib_id == lib_not || strncmp(lp, "/proc/", 6))) {
			FAILF(name,
			      "seen through library %u (%s), expected the namespace's own copy",
			      e->lib_id, lp);
			continue;
		}
		if (lib_check && strcmp(lib_check, "/proc/") && e->hook != AT_HOOK_ERR &&
		    strcmp(lp, lib_check)) {
			FAILF(name, "seen through library %u (%s), expected %s", e->lib_id, lp,
			      lib_check);
			continue;
		}
		ok = true;
		PASS(name);
	}
	return ok;
}

/* One s_server/s_client pair (the server optionally behind a shell prefix, e.g. unshare). */
static void run_case(struct lib_tracer *lt, const struct tcase *c, const char *prefix,
		     bool scan_after_listen, __u32 lib_not)
{
	int port = free_port(), wfd = -1, i, first = nevents;
	const char *cli[8] = {NULL};
	char slog[160], clog[160];
	pid_t srv, cl;

	srv = start_server(c->name, prefix, c->srv, port, &wfd, slog, sizeof(slog));
	if (srv < 0) {
		FAILF(c->name, "cannot start openssl s_server");
		return;
	}
	if (scan_after_listen)
		libs_scan(lt);
	for (i = 0; i < 4 && c->cli[i]; i++)
		cli[i] = c->cli[i];
	cli[i] = NULL;
	cl = start_client(c->name, cli, port, clog, sizeof(clog));
	if (cl < 0 || !wait_exit(cl, 10000)) {
		FAILF(c->name, "openssl s_client did not finish");
		reap(srv, SIGKILL);
		close(wfd);
		return;
	}
	await(c, srv, cl);
	reap(srv, SIGTERM);
	close(wfd);
	drain(50);
	printf("   %s: server pid %d, client pid %d, %d events in all\n", c->name, srv, cl,
	       nevents - first);
	if (!check_case(lt, c, srv, cl, prefix ? "/proc/" : NULL, lib_not)) {
		show_log("server", slog);
		show_log("client", clog);
	}
}

/*
 * Start tests/fixtures/lib_peer on the libssl file lib for case what; returns its pid once it has
 * loaded the library (the server is that process, the client its child), with *wfd the pipe that
 * tells it to go. -1 on failure, reported under name.
 */
static pid_t peer_start(const char *name, const char *peer, const char *lib, const char *what,
			char *log, size_t logsz, int *wfd)
{
	char dir[PATH_MAX], env[PATH_MAX + 32], *argv[5];
	pid_t pid;
	int p[2], i;

	snprintf(dir, sizeof(dir), "%s", lib);
	if (strrchr(dir, '/'))
		*strrchr(dir, '/') = 0;
	/* Its libcrypto sits beside it (a build unpacked from a package). */
	snprintf(env, sizeof(env), "LD_LIBRARY_PATH=%s", dir);
	snprintf(log, logsz, "%s/%s.peer.log", tmpdir, name);
	argv[0] = (char *)peer;
	argv[1] = (char *)lib;
	argv[2] = tmpdir;
	argv[3] = (char *)what;
	argv[4] = NULL;
	if (pipe2(p, O_CLOEXEC) < 0)
		return -1;
	putenv(env);
	pid = spawn(argv, p[0], log);
	unsetenv("LD_LIBRARY_PATH");
	close(p[0]);
	for (i = 0; pid > 0 && i < 250 && !file_has(log, "ready"); i++)
		sleep_ms(20);
	if (pid <= 0 || !file_has(log, "ready")) {
		FAILF(name, "lib_peer did not load %s", lib);
		show_log("lib_peer", log);
		close(p[1]);
		return -1;
	}
	*wfd = p[1];
	return pid;
}

/* Let the peer run its case and wait for it; fills the server's and client's pids. */
static bool peer_finish(const char *name, pid_t pid, int wfd, const char *log, int *srv, int *cl)
{
	char line[128];
	FILE *f;

	*srv = *cl = 0;
	if (write(wfd, "go\n", 3) != 3 || !wait_exit(pid, 10000)) {
		FAILF(name, "lib_peer did not finish");
		close(wfd);
		return false;
	}
	close(wfd);
	f = fopen(log, "r");
	if (f) {
		while (fgets(line, sizeof(line), f)) {
			sscanf(line, "server %d", srv);
			sscanf(line, "client %d", cl);
		}
		fclose(f);
	}
	if (!*srv || !*cl) {
		FAILF(name, "lib_peer did not run the case");
		show_log("lib_peer", log);
		return false;
	}
	return true;
}

/* One lib_peer case on lib: the tracer hooks lib once lib_peer has loaded it (from its maps). */
static void run_peer(struct lib_tracer *lt, const char *peer, const struct tcase *c,
		     const char *lib)
{
	int wfd, first = nevents, srv, cl;
	char log[160], real[PATH_MAX];
	pid_t pid;

	pid = peer_start(c->name, peer, lib, c->srv[0], log, sizeof(log), &wfd);
	if (pid < 0)
		return;
	libs_scan(lt);
	if (!peer_finish(c->name, pid, wfd, log, &srv, &cl))
		return;
	await(c, srv, cl);
	printf("   %s: %s, server pid %d, client pid %d, %d events in all\n", c->name, lib, srv, cl,
	       nevents - first);
	if (!check_case(lt, c, srv, cl, realpath(lib, real) ? real : lib, 0))
		show_log("lib_peer", log);
}

static struct at_event fevents[64];
static int nfevents;

static int on_fevent(void *ctx, void *data, size_t sz)
{
	if (sz >= sizeof(struct at_event) && nfevents < 64)
		memcpy(&fevents[nfevents++], data, sizeof(struct at_event));
	return 0;
}

/*
 * The -p filter works in the kernel: a second tracer, with its own ring buffer and only the
 * server's pid, sees the server's received unknown_ca and nothing from the client.
 */
static void run_pid_filter(const char *peer, const char *lib)
{
	const char *name = "pid_filter_keeps_only_the_target_pid";
	struct lib_tracer *lt2 = NULL;
	struct ring_buffer *rb2 = NULL;
	int fd, wfd, srv, cl, i, n, from_srv = 0, from_other = 0;
	struct libs_opts o = {0};
	char log[160];
	__u32 pid32;
	pid_t pid;

	fd = bpf_map_create(BPF_MAP_TYPE_RINGBUF, "events2", 0, 0, 1 << 16, NULL);
	if (fd < 0) {
		FAILF(name, "cannot create a ring buffer: %s", strerror(errno));
		return;
	}
	pid = peer_start(name, peer, lib, "unknown_ca", log, sizeof(log), &wfd);
	if (pid < 0)
		goto cleanup;
	pid32 = pid;
	o.pids = &pid32;
	o.npids = 1;
	if (libs_open(&lt2, &o, fd) < 0 || libs_scan(lt2) <= 0) {
		FAILF(name, "second tracer did not hook %s", lib);
		close(wfd);
		wait_exit(pid, 10);
		goto cleanup;
	}
	rb2 = ring_buffer__new(fd, on_fevent, NULL, NULL);
	if (!rb2 || !peer_finish(name, pid, wfd, log, &srv, &cl)) {
		if (!rb2)
			FAILF(name, "ring_buffer__new: %s", strerror(errno));
		goto cleanup;
	}
	/* The server's received alert is the last event of the case: wait for it. */
	for (i = 0; i < 150 && !from_srv; i++) {
		ring_buffer__poll(rb2, 20);
		for (from_srv = 0, from_other = 0, n = 0; n < nfevents; n++)
			fevents[n].pid == (__u32)srv ? from_srv++ : from_other++;
	}
	drain(50); /* keep the main tracer's buffer from filling */
	printf("   %s: server pid %d, client pid %d: %d events from the server, %d from others\n",
	       name, srv, cl, from_srv, from_other);
	if (from_srv >= 1 && from_other == 0)
		PASS(name);
	else
		FAILF(name, "expected >= 1 event from pid %d and none from others, got %d and %d",
		      srv, from_srv, from_other);
cleanup:
	ring_buffer__free(rb2);
	libs_close(lt2);
	close(fd);
}

#define SENT AT_DIR_SENT
#define RECV AT_DIR_RECEIVED
#define DISP AT_HOOK_DISPATCH
#define READ AT_HOOK_READ
#define ERRH AT_HOOK_ERR

/*
 * The same alerts through tests/fixtures/lib_peer, on the system's libssl and on every libssl file
 * named in AT_OPENSSL_LIBS (colon-separated, e.g. a 1.1.1 unpacked by tools/fetch-openssl.sh).
 */
static void run_peers(struct lib_tracer *lt, const char *sys)
{
	char exe[PATH_MAX], src[PATH_MAX + 64], peer[128], cmd[2 * PATH_MAX], *list, *lib, *save;
	const char *env = getenv("AT_OPENSSL_LIBS");
	ssize_t n;
	int i;

	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0) {
		FAILF("lib_peer_build", "readlink /proc/self/exe: %s", strerror(errno));
		return;
	}
	exe[n] = 0;
	/* .output/tests/test_libs_attach -> tests/fixtures/lib_peer.c */
	for (i = 0; i < 3 && strrchr(exe, '/'); i++)
		*strrchr(exe, '/') = 0;
	snprintf(src, sizeof(src), "%s/tests/fixtures/lib_peer.c", exe);
	snprintf(peer, sizeof(peer), "%s/lib_peer", tmpdir);
	snprintf(cmd, sizeof(cmd), "${CC:-cc} -O2 -o %s %s -ldl", peer, src);
	if (sh(cmd) != 0) {
		FAILF("lib_peer_build", "cannot build %s", src);
		return;
	}
	if (sys)
		run_pid_filter(peer, sys);
	/* The system's libssl first, then the list. */
	n = asprintf(&list, "%s:%s", sys ? sys : "", env ? env : "");
	if (n < 0)
		return;
	for (lib = strtok_r(list, ":", &save); lib; lib = strtok_r(NULL, ":", &save)) {
		const char *b = strrchr(lib, '/') ? strrchr(lib, '/') + 1 : lib;
		char names[4][96];
		struct tcase c[4] = {
		    {names[0],
		     {"unknown_ca"},
		     {NULL},
		     {{true, SENT, DISP, 2, 48, 0x304, 0},
		      {false, RECV, READ, 2, 48, 0x304, 0},
		      {false, RECV, ERRH, 2, 48, 0, 0}},
		     3},
		    {names[1],
		     {"protocol_version"},
		     {NULL},
		     {{false, SENT, DISP, 2, 70, 0, 0},
		      {true, RECV, READ, 2, 70, 0, 0},
		      {true, RECV, ERRH, 2, 70, 0, 0}},
		     3},
		    {names[2],
		     {"close_notify13"},
		     {NULL},
		     {{true, SENT, DISP, 1, 0, 0x304, 0},
		      {false, RECV, READ, 1, 0, 0x304, 0},
		      {false, SENT, DISP, 1, 0, 0x304, 0},
		      {true, RECV, READ, 1, 0, 0x304, 0}},
		     4},
		    {names[3],
		     {"close_notify12"},
		     {NULL},
		     {{true, SENT, DISP, 1, 0, 0x303, 0},
		      {false, RECV, READ, 1, 0, 0x303, 0},
		      {false, SENT, DISP, 1, 0, 0x303, 0},
		      {true, RECV, READ, 1, 0, 0x303, 0}},
		     4},
		};

		for (i = 0; i < 4; i++) {
			snprintf(names[i], sizeof(names[i]), "peer_%s_%s", b, c[i].srv[0]);
			run_peer(lt, peer, &c[i], lib);
		}
	}
	free(list);
}

int main(void)
{
	const char *name = "libs_attach";
	struct libs_opts o = {.verbose = true, .err_always = true};
	struct lib_tracer *lt = NULL;
	char ca2[96], cmd[1024];
	int rbfd = -1, i, n;
	__u32 sys_lib = 0;
	struct timespec t0, t1;

	if (!tl_need_root(name))
		return 0;
	if (sh("command -v openssl >/dev/null") != 0) {
		FAILF(name, "openssl command not found: apt-get install openssl");
		return 1;
	}
	atexit(cleanup);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGPIPE, SIG_IGN);
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/at_libs_XXXXXX");
	if (!mkdtemp(tmpdir)) {
		FAILF(name, "mkdtemp: %s", strerror(errno));
		return 1;
	}
	/* ca1 signs the server; ca2 is the one the client trusts in the unknown_ca case. */
	snprintf(cmd, sizeof(cmd),
		 "cd %s && K='-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes' && "
		 "openssl req -x509 $K -keyout ca1.key -out ca1.pem -subj /CN=at-ca1 "
		 "-days 2 && "
		 "openssl req -x509 $K -keyout ca2.key -out ca2.pem -subj /CN=at-ca2 "
		 "-days 2 && "
		 "openssl req $K -keyout srv.key -out srv.csr -subj /CN=localhost && "
		 "openssl x509 -req -in srv.csr -CA ca1.pem -CAkey ca1.key "
		 "-CAcreateserial "
		 "-out srv.pem -days 2",
		 tmpdir);
	if (sh(cmd) != 0 && !FAILF(name, "cannot make certificates in %s", tmpdir))
		return 1;
	snprintf(ca2, sizeof(ca2), "%s/ca2.pem", tmpdir);

	rbfd = bpf_map_create(BPF_MAP_TYPE_RINGBUF, "events", 0, 0, 1 << 20, NULL);
	if (rbfd < 0) {
		FAILF(name, "cannot create a ring buffer: %s", strerror(errno));
		return 1;
	}
	if (libs_open(&lt, &o, rbfd) < 0) {
		FAILF(name, "libs_open failed");
		return 1;
	}
	PASS("libs_open_shares_ringbuf");
	n = libs_scan(lt);
	libs_report(lt, stdout, false);
	libs_report(lt, stdout, true);
	if (n <= 0) {
		FAILF("libs_scan_finds_system_libssl", "no library hooked");
		libs_close(lt);
		return 1;
	}
	/* The openssl command's own libssl: the one the linker cache names. */
	for (i = 1; i <= n + 16; i++) {
		const char *p = libs_path(lt, i);

		if (strstr(p, "libssl.so") && strncmp(p, "/proc/", 6)) {
			sys_lib = i;
			break;
		}
	}
	if (!sys_lib)
		FAILF("libs_scan_finds_system_libssl", "no host libssl.so among the libraries");
	else
		PASS("libs_scan_finds_system_libssl");
	clock_gettime(CLOCK_MONOTONIC, &t0);
	libs_scan(lt);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	{
		double ms = (t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6;

		printf("   steady-state scan of /proc: %.1f ms\n", ms);
		if (ms < 1000)
			PASS("libs_scan_steady_state_under_1s");
		else
			FAILF("libs_scan_steady_state_under_1s", "took %.0f ms", ms);
	}

	rb = ring_buffer__new(rbfd, on_event, NULL, NULL);
	if (!rb) {
		FAILF(name, "ring_buffer__new: %s", strerror(errno));
		libs_close(lt);
		return 1;
	}

	{
		const struct tcase cases[] = {
		    {"tls13_unknown_ca",
		     {NULL},
		     {"-CAfile", ca2, "-verify_return_error", NULL},
		     {{true, SENT, DISP, 2, 48, 0x304, 0},
		      {false, RECV, READ, 2, 48, 0x304, 0},
		      {false, RECV, ERRH, 2, 48, 0, 0}},
		     3},
		    {"tls12_vs_tls13_protocol_version",
		     {"-tls1_3", NULL},
		     {"-tls1_2", NULL},
		     {{false, SENT, DISP, 2, 70, 0, 0},
		      {true, RECV, READ, 2, 70, 0, 0},
		      {true, RECV, ERRH, 2, 70, 0, 0}},
		     3},
		    {"tls13_close_notify",
		     {NULL},
		     {NULL},
		     {{true, SENT, DISP, 1, 0, 0x304, 0}, {false, RECV, READ, 1, 0, 0x304, 0}},
		     2},
		    {"tls12_close_notify",
		     {NULL},
		     {"-tls1_2", NULL},
		     {{true, SENT, DISP, 1, 0, 0x303, 0}, {false, RECV, READ, 1, 0, 0x303, 0}},
		     2},
		    {"dtls12_unknown_ca",
		     {"-dtls", NULL},
		     {"-dtls", "-CAfile", ca2, "-verify_return_error"},
		     {{true, SENT, DISP, 2, 48, 0xfefd, AT_F_DTLS},
		      {false, RECV, READ, 2, 48, 0xfefd, AT_F_DTLS},
		      {false, RECV, ERRH, 2, 48, 0, 0}},
		     3},
		};

		for (i = 0; i < (int)(sizeof(cases) / sizeof(cases[0])); i++)
			run_case(lt, &cases[i], NULL, false, 0);

		/* The server in its own mount namespace, with a copy of libssl that exists only
		 * there: the scan must reach it as /proc/PID/root/PATH and hook it separately. */
		if (sh("command -v unshare >/dev/null") != 0) {
			SKIP("ns_copy_unknown_ca",
			     "unshare(1) not found: apt-get install util-linux");
		} else {
			static const struct tcase c = {
			    "ns_copy_unknown_ca",
			    {NULL},
			    {NULL},
			    {{false, RECV, READ, 2, 48, 0x304, 0},
			     {true, SENT, DISP, 2, 48, 0x304, 0}},
			    2,
			};
			struct tcase cc = c;
			char prefix[PATH_MAX + 512], sys[PATH_MAX];

			cc.cli[0] = "-CAfile";
			cc.cli[1] = ca2;
			cc.cli[2] = "-verify_return_error";
			cc.cli[3] = NULL;
			snprintf(sys, sizeof(sys), "%s", sys_lib ? libs_path(lt, sys_lib) : "");
			snprintf(cmd, sizeof(cmd), "mkdir -p %s/ns", tmpdir);
			sh(cmd);
			snprintf(prefix, sizeof(prefix),
				 "mount -t tmpfs at-ns %s/ns && cp %s %s/ns/ && "
				 "LD_LIBRARY_PATH=%s/ns exec \"$@\"",
				 tmpdir, sys, tmpdir, tmpdir);
			run_case(lt, &cc, prefix, true, sys_lib);
			libs_report(lt, stdout, false);
		}
	}

	run_peers(lt, sys_lib ? libs_path(lt, sys_lib) : NULL);

	printf("   lost events: %llu\n", (unsigned long long)libs_lost(lt));
	CHECK_EQ("libs_no_lost_events", 0, libs_lost(lt)) && (PASS("libs_no_lost_events"), 1);
	ring_buffer__free(rb);
	libs_close(lt);
	close(rbfd);
	cleanup();
	return tl_failed;
}
