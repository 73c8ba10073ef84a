// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The selftest's side of its peers (selftest_peers.h): the peer program, embedded at build time
 * (user/peer/st_peer.c, linked in as a blob), is written once to a memfd and run from there in
 * each forked child.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include "alerttrace.h"
#include "selftest_peers.h"

enum { SERVER, CLIENT };

/* ld -r -b binary of .output/st_peer and .output/st_go_peer (Makefile). */
extern const char _binary_st_peer_start[], _binary_st_peer_end[];
extern const char _binary_st_go_peer_start[], _binary_st_go_peer_end[];
extern char **environ;

static int peer_exe = -1;	/* memfd holding the peer program */
static int go_exe = -1;		/* memfd holding the Go peer */

static int to_memfd(int *fd, const char *name, const char *p, const char *end)
{
	ssize_t n;

	if (*fd >= 0)
		return 0;
	*fd = memfd_create(name, MFD_CLOEXEC);
	if (*fd < 0)
		return -errno;
	while (p < end) {
		n = write(*fd, p, end - p);
		if (n <= 0) {
			close(*fd);
			*fd = -1;
			return n < 0 ? -errno : -EIO;
		}
		p += n;
	}
	return 0;
}

static int peer_program(int source)
{
	if (source == AT_SRC_GO)
		return to_memfd(&go_exe, "alerttrace-selftest-go-peer", _binary_st_go_peer_start,
				_binary_st_go_peer_end);
	return to_memfd(&peer_exe, "alerttrace-selftest-peer", _binary_st_peer_start,
			_binary_st_peer_end);
}

static bool same_file(const char *a, const char *b)
{
	struct stat x, y;

	return stat(a, &x) == 0 && stat(b, &y) == 0 && x.st_dev == y.st_dev && x.st_ino == y.st_ino;
}

/* In the child: what went wrong before the peer program could say it. */
static void __attribute__((noreturn)) child_fail(int fd, const char *fmt, const char *arg, int e)
{
	struct st_msg m = {.kind = ST_ERROR};
	char what[160], why[96];

	snprintf(what, sizeof(what), fmt, arg);
	snprintf(why, sizeof(why), "%s", strerror(e));
	why[0] = tolower((unsigned char)why[0]);
	snprintf(m.text, sizeof(m.text), "%.150s: %.90s", what, why);
	if (write(fd, &m, sizeof(m)) < 0)
		_exit(1);
	_exit(1);
}

/*
 * The peer runs with the dynamic loader of our root; in an image without one (FROM scratch) and
 * the host's pid namespace, with the host's: the root of pid 1, or of the first process whose
 * root we may enter (pid 1 may hold capabilities we lack, which makes its root unreadable), that
 * is another root and has the loader. Then the child enters that root first.
 */
static void enter_host_root(int ctl)
{
	char root[64], interp[128];
	struct dirent *d;
	struct stat st;
	DIR *dir;
	int pid;

	if (access(ST_PEER_INTERP, X_OK) == 0)
		return;
	dir = opendir("/proc");
	for (pid = 1; dir; pid = -1) {
		if (pid < 0) {
			d = readdir(dir);
			if (!d)
				break;
			pid = atoi(d->d_name);
			if (pid <= 1)
				continue;
		}
		snprintf(root, sizeof(root), "/proc/%d/root", pid);
		snprintf(interp, sizeof(interp), "%s%s", root, ST_PEER_INTERP);
		/* lstat: the loader is a symbolic link whose absolute target resolves in that root
		 * only once we are in it. */
		if (same_file("/", root) || lstat(interp, &st))
			continue;
		if (chroot(root) || chdir("/"))
			child_fail(ctl, "cannot enter the host's root %s to run the peer (needs "
				   "CAP_SYS_CHROOT)", root, errno);
		closedir(dir);
		return;
	}
	child_fail(ctl, "no %s here, nor in a root of the host's processes, to run the peer",
		   ST_PEER_INTERP, ENOENT);
}

static int spawn(struct st_proc *p, pid_t parent, int source, int role, int fd, int other)
{
	int sv[2];

	p->ctl = -1;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv))
		return -errno;
	p->pid = fork();
	if (p->pid < 0) {
		p->pid = 0;
		close(sv[0]);
		close(sv[1]);
		return -errno;
	}
	if (p->pid == 0) {
		char a_src[16], a_role[16], a_ctl[16], a_fd[16];
		char *argv[] = {"alerttrace-selftest-peer", a_src, a_role, a_ctl, a_fd, NULL};

		/* Gone with the selftest, whatever ends it (kept across execve). */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(1);
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		signal(SIGPIPE, SIG_DFL);
		close(sv[0]);
		if (other >= 0)
			close(other);
		/* The two descriptors the peer gets stay open across execve. */
		fcntl(sv[1], F_SETFD, 0);
		if (fd >= 0)
			fcntl(fd, F_SETFD, 0);
		if (source != AT_SRC_GO) /* static: runs in any root */
			enter_host_root(sv[1]);
		snprintf(a_src, sizeof(a_src), "%d", source);
		snprintf(a_role, sizeof(a_role), "%d", role);
		snprintf(a_ctl, sizeof(a_ctl), "%d", sv[1]);
		snprintf(a_fd, sizeof(a_fd), "%d", fd);
		fexecve(source == AT_SRC_GO ? go_exe : peer_exe, argv, environ);
		child_fail(sv[1], "cannot run the selftest's peer program%s", "", errno);
	}
	close(sv[1]);
	p->ctl = sv[0];
	return 0;
}

int st_peers_start(int source, struct st_proc *srv, struct st_proc *cli)
{
	int sv[2] = {-1, -1}, err;
	pid_t me = getpid();

	err = peer_program(source);
	if (err)
		return err;

	*srv = (struct st_proc){.ctl = -1};
	*cli = (struct st_proc){.ctl = -1};
	if (source != AT_SRC_WIRE && socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
		return -errno;
	err = spawn(srv, me, source, SERVER, sv[0], sv[1]);
	if (!err)
		err = spawn(cli, me, source, CLIENT, sv[1], sv[0]);
	if (sv[0] >= 0) {
		close(sv[0]);
		close(sv[1]);
	}
	return err;
}

void st_go(struct st_proc *p)
{
	if (p->ctl >= 0 && write(p->ctl, "g", 1) != 1)
		p->done = true;
}

int st_recv(struct st_proc *p, struct st_msg *m, int ms)
{
	struct pollfd pfd = {.fd = p->ctl, .events = POLLIN};
	ssize_t n;

	if (p->ctl < 0)
		return -1;
	if (poll(&pfd, 1, ms) <= 0)
		return 0;
	n = read(p->ctl, m, sizeof(*m));
	if (n != sizeof(*m))
		return -1;
	m->text[sizeof(m->text) - 1] = '\0';
	return 1;
}

void st_reap(struct st_proc *p)
{
	if (p->pid > 0) {
		kill(p->pid, SIGKILL);
		waitpid(p->pid, NULL, 0);
	}
	if (p->ctl >= 0)
		close(p->ctl);
	p->pid = 0;
	p->ctl = -1;
}
