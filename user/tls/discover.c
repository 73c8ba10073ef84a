// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Discovery for the library path (discover.h). */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include "discover.h"

static bool named_path(struct disc *d, const char *path)
{
	const char *b = strrchr(path, '/');

	return d->named(b ? b + 1 : path);
}

static size_t fent_hash(__u64 dev, __u64 ino, size_t cap)
{
	__u64 h = (ino ^ (dev << 32) ^ (dev >> 32)) * 0x9e3779b97f4a7c15ULL;

	return (size_t)(h >> 20) & (cap - 1);
}

struct disc_fent *disc_find(struct disc *d, __u64 dev, __u64 ino)
{
	size_t i;

	if (!d->setcap)
		return NULL;
	for (i = fent_hash(dev, ino, d->setcap);; i = (i + 1) & (d->setcap - 1)) {
		struct disc_fent *f = &d->set[i];

		if (!f->used)
			return NULL;
		if (f->dev == dev && f->ino == ino)
			return f;
	}
}

int disc_put(struct disc *d, __u64 dev, __u64 ino, int val)
{
	struct disc_fent *f;
	size_t i;

	if ((d->setn + 1) * 2 > d->setcap) {
		size_t ncap = d->setcap ? d->setcap * 2 : 256;
		struct disc_fent *old = d->set, *nset = calloc(ncap, sizeof(*nset));
		size_t oldcap = d->setcap;

		if (!nset)
			return -ENOMEM;
		d->set = nset;
		d->setcap = ncap;
		d->setn = 0;
		for (i = 0; i < oldcap; i++)
			if (old[i].used)
				disc_put(d, old[i].dev, old[i].ino, old[i].val);
		free(old);
	}
	f = disc_find(d, dev, ino);
	if (f) {
		f->val = val;
		return 0;
	}
	for (i = fent_hash(dev, ino, d->setcap); d->set[i].used; i = (i + 1) & (d->setcap - 1))
		;
	d->set[i] = (struct disc_fent){.dev = dev, .ino = ino, .val = val, .used = true};
	d->setn++;
	return 0;
}

/*
 * libssl.so.* entries of the dynamic linker's cache (glibc's "glibc-ld.so.cache1.1" format, alone
 * or after the old "ld.so-1.7.0" table; string offsets count from the new header).
 */
static int scan_ld_cache(struct disc *d)
{
	static const char new_magic[] = "glibc-ld.so.cache1.1";
	static const char old_magic[] = "ld.so-1.7.0";
	const size_t hdr = 48, ent = 24;
	size_t sz, base = 0, i;
	char *c = NULL;
	__u32 nlibs;
	int n = 0, fd;
	struct stat st;

	fd = open("/etc/ld.so.cache", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	if (fstat(fd, &st) < 0 || st.st_size < (off_t)hdr || st.st_size > (64 << 20))
		goto cleanup;
	sz = st.st_size;
	c = malloc(sz + 1);
	if (!c || read(fd, c, sz) != (ssize_t)sz)
		goto cleanup;
	c[sz] = 0;
	if (memcmp(c, old_magic, sizeof(old_magic) - 1) == 0) {
		memcpy(&nlibs, c + 12, 4);
		base = (16 + (size_t)nlibs * 12 + 7) & ~(size_t)7;
	}
	if (base + hdr > sz || memcmp(c + base, new_magic, sizeof(new_magic) - 1) != 0)
		goto cleanup;
	memcpy(&nlibs, c + base + 20, 4);
	for (i = 0; i < nlibs && base + hdr + (i + 1) * ent <= sz; i++) {
		const char *e = c + base + hdr + i * ent;
		__u32 key, val;

		memcpy(&key, e + 4, 4);
		memcpy(&val, e + 8, 4);
		if (base + key >= sz || base + val >= sz)
			continue;
		if (d->named(c + base + key))
			n += d->consider(d->ctx, c + base + val, "", 0, 0, true);
	}
cleanup:
	free(c);
	close(fd);
	return n;
}

/* Libraries a provider names, in the standard directories (found before any process maps them:
 * a uprobe on the inode covers every later mapping too). */
static int scan_std_dirs(struct disc *d)
{
	static const char *const pats[] = {
	    "/lib/x86_64-linux-gnu/lib*.so*",
	    "/usr/lib/x86_64-linux-gnu/lib*.so*",
	    "/usr/local/lib*/lib*.so*",
	    "/usr/local/lib*/*/lib*.so*",
	};
	size_t i, j;
	int n = 0;

	for (i = 0; i < sizeof(pats) / sizeof(pats[0]); i++) {
		glob_t g;

		if (glob(pats[i], 0, NULL, &g) != 0)
			continue;
		for (j = 0; j < g.gl_pathc; j++)
			if (named_path(d, g.gl_pathv[j]))
				n += d->consider(d->ctx, g.gl_pathv[j], "", 0, 0, true);
		globfree(&g);
	}
	return n;
}

/*
 * How to reach PID's files from here: "" when it shares our mount namespace and root, else
 * "/proc/PID/root". Returns -1 when the process is gone.
 */
static int pid_root(struct disc *d, int pid, char *root, size_t sz)
{
	struct stat ns, rt;
	char p[64];

	snprintf(p, sizeof(p), "/proc/%d/ns/mnt", pid);
	if (stat(p, &ns) < 0)
		return -1;
	snprintf(p, sizeof(p), "/proc/%d/root", pid);
	if (stat(p, &rt) < 0)
		return -1;
	if (ns.st_ino == d->self_mntns && rt.st_dev == d->self_root.st_dev &&
	    rt.st_ino == d->self_root.st_ino)
		root[0] = 0;
	else
		snprintf(root, sz, "/proc/%d/root", pid);
	return 0;
}

/*
 * /proc/PID/map_files/ names a mapping by its range in hex without leading zeros
 * ("400000-657000"), where maps pads each end to 8 digits ("00400000-00657000": a non-PIE
 * program's text). Returns false when the range does not fit.
 */
static bool map_file(char *buf, size_t sz, int pid, const char *range, size_t rlen)
{
	unsigned long lo, hi;
	char r[64], *end;

	if (rlen >= sizeof(r))
		return false;
	memcpy(r, range, rlen);
	r[rlen] = 0;
	lo = strtoul(r, &end, 16);
	if (*end != '-')
		return false;
	hi = strtoul(end + 1, &end, 16);
	if (*end)
		return false;
	return snprintf(buf, sz, "/proc/%d/map_files/%lx-%lx", pid, lo, hi) < (int)sz;
}

static ssize_t read_all(struct disc *d, const char *path)
{
	size_t len = 0;
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	for (;;) {
		if (len + 4096 + 1 > d->bufcap) {
			size_t ncap = d->bufcap ? d->bufcap * 2 : 1 << 16;
			char *nb = realloc(d->buf, ncap);

			if (!nb) {
				close(fd);
				return -1;
			}
			d->buf = nb;
			d->bufcap = ncap;
		}
		n = read(fd, d->buf + len, d->bufcap - len - 1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			close(fd);
			return -1; /* ESRCH: the process exited while we read */
		}
		if (n == 0)
			break;
		len += n;
	}
	close(fd);
	d->buf[len] = 0;
	return len;
}

/*
 * One process: every executable file mapping whose (dev, inode) is new. Lines look like
 *   7f1c2a400000-7f1c2a46e000 r-xp 00022000 fd:01 1234 /usr/lib/x86_64-linux-gnu/libssl.so.3
 */
/* path names the file the maps line shows (overlayfs may show another device: then no match). */
static bool same_file(const char *path, __u64 dev, __u64 ino)
{
	struct stat st;

	return !stat(path, &st) && st.st_dev == dev && st.st_ino == ino;
}

int disc_scan_pid(struct disc *d, int pid, int *nfiles)
{
	char p[64], root[48] = "", full[PATH_MAX];
	bool have_root = false;
	char *line, *next;
	int n = 0;

	snprintf(p, sizeof(p), "/proc/%d/maps", pid);
	if (read_all(d, p) < 0)
		return 0;
	for (line = d->buf; line && *line; line = next) {
		unsigned long maj, min;
		char *s = line, *path, *end;
		unsigned long long ino;
		const char *range;
		size_t rlen, plen;
		bool named;

		next = strchr(line, '\n');
		if (next)
			*next++ = 0;
		range = s;
		s = strchr(s, ' ');
		if (!s || strlen(s) < 5 || s[3] != 'x')
			continue;
		rlen = s - range;
		s = strchr(s + 1, ' '); /* offset */
		if (!s)
			continue;
		s = strchr(s + 1, ' '); /* dev */
		if (!s)
			continue;
		maj = strtoul(s + 1, &end, 16);
		if (*end != ':')
			continue;
		min = strtoul(end + 1, &end, 16);
		ino = strtoull(end, &end, 10);
		if (!ino)
			continue;
		path = end + strspn(end, " ");
		if (path[0] != '/')
			continue;
		if (disc_find(d, makedev(maj, min), ino))
			continue;
		(*nfiles)++;
		if (!have_root) {
			if (pid_root(d, pid, root, sizeof(root)) < 0)
				return n;
			have_root = true;
		}
		named = named_path(d, path);
		plen = strlen(path);
		if (plen > 10 && strcmp(path + plen - 10, " (deleted)") == 0) {
			/* Replaced on disk (an upgrade) but still mapped: reach the old inode. */
			if (!map_file(full, sizeof(full), pid, range, rlen))
				continue;
			path[plen - 10] = 0;
			named = named_path(d, path);
			n += d->consider(d->ctx, full, root, makedev(maj, min), ino, named);
			continue;
		}
		snprintf(full, sizeof(full), "%s%s", root, path);
		if (root[0] && !same_file(full, makedev(maj, min), ino) &&
		    same_file(path, makedev(maj, min), ino)) {
			/* A chroot in our mount namespace: maps shows the path from our root. */
			n += d->consider(d->ctx, path, "", makedev(maj, min), ino, named);
			continue;
		}
		/* AT_EACCESS: access(2) would drop our capabilities for a non-root uid, and
		 * /proc/PID/root of another user needs CAP_SYS_PTRACE. */
		if (faccessat(AT_FDCWD, full, F_OK, AT_EACCESS))
			/* Not reachable by name (another mount namespace's private mount): the
			 * mapping itself always is. */
			map_file(full, sizeof(full), pid, range, rlen);
		n += d->consider(d->ctx, full, root, makedev(maj, min), ino, named);
	}
	return n;
}

int disc_scan_procs(struct disc *d, int *nprocs, int *nfiles)
{
	struct dirent *de;
	int n = 0, self = getpid();
	DIR *dir;

	dir = opendir("/proc");
	if (!dir)
		return -errno;
	while ((de = readdir(dir))) {
		int pid;

		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		pid = atoi(de->d_name);
		if (pid == self)
			continue;
		(*nprocs)++;
		n += disc_scan_pid(d, pid, nfiles);
	}
	closedir(dir);
	return n;
}


/*
 * Programs in the standard binary directories that carry a TLS library themselves (node links
 * OpenSSL in, Go programs crypto/tls): analysed and hooked now, before any of them runs, like the
 * libraries in the standard directories: their first process is then hooked from its exec. A
 * copy elsewhere (a container's) reuses the analysis by build-id.
 */
static void scan_bin_dirs(struct disc *d)
{
	static const char *const dirs[] = {"/usr/bin", "/usr/sbin", "/usr/local/bin",
					   "/usr/local/sbin"};
	char path[PATH_MAX];
	struct dirent *de;
	struct stat st;
	size_t i;

	for (i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		DIR *dir = opendir(dirs[i]);

		while (dir && (de = readdir(dir))) {
			if (de->d_name[0] == '.' ||
			    snprintf(path, sizeof(path), "%s/%s", dirs[i], de->d_name) >=
				    (int)sizeof(path) ||
			    stat(path, &st) || !S_ISREG(st.st_mode) || !(st.st_mode & 0111) ||
			    disc_find(d, st.st_dev, st.st_ino))
				continue;
			d->prepare(d->ctx, path);
		}
		if (dir)
			closedir(dir);
	}
}

int disc_scan_static(struct disc *d)
{
	int n = scan_ld_cache(d) + scan_std_dirs(d);

	if (d->prepare)
		scan_bin_dirs(d);
	return n;
}

int disc_init(struct disc *d)
{
	struct stat ns;

	if (stat("/proc/self/ns/mnt", &ns) == 0)
		d->self_mntns = ns.st_ino;
	if (stat("/", &d->self_root) < 0)
		return -errno;
	return 0;
}

void disc_free(struct disc *d)
{
	free(d->set);
	free(d->buf);
	d->set = NULL;
	d->buf = NULL;
	d->setcap = d->setn = d->bufcap = 0;
}
