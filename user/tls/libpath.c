// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The library path's driver (issue 3): find every OpenSSL library in use on the host and in
 * containers, analyse each distinct file once (ossl_hooks.h), attach bpf/ossl.bpf.c's uprobes with
 * a cookie naming the library, and report what is covered.
 *
 * Files are keyed by (device, inode): uprobes live on inodes, so the same file seen through two
 * paths is hooked once, and an identical copy inside a container (another inode) is hooked again.
 * Files in other mount namespaces are reached as /proc/PID/root/PATH.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <gelf.h>
#include <libelf.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "alerttrace.h"
#include "ossl.h"
#include "libpath.h"
#include "shared.h"
#include "ossl_hooks.h"
#include "strutil.h"
#include "ossl.skel.h"

enum hook {
	HK_SENT,
	HK_RECV,
	HK_DTLS_SENT,
	HK_DTLS_RECV,
	HK_ERR,
	HK_N,
};

static const char *const hk_key[HK_N] = {"sent", "received", "dtls_sent", "dtls_received",
					 "err_fallback"};
static const char *const hk_name[HK_N] = {"sent", "received", "dtls sent", "dtls received",
					  "fatal fallback"};

#define MAX_LINKS 8

struct lib {
	__u32 id;	     /* lib_id: index in lt->libs + 1 */
	bool refused;	     /* oh_analyze refused the file: r->why */
	char path[PATH_MAX]; /* what the probes are attached to */
	struct oh_result *r;
	bool on[HK_N];
	char why[HK_N][200]; /* why a hook is not attached */
	struct bpf_link *links[MAX_LINKS];
	int nlinks;
};

/* A file already looked at: val >= 0 is an index in lt->libs, -1 a file that is not OpenSSL. */
struct fent {
	__u64 dev, ino;
	int val;
	bool used;
};

/* A libcrypto that carries the ERR fallback, so that two libssl sharing it hook it once. */
struct errfile {
	__u64 dev, ino;
	__u32 lib_id;
};

struct lib_tracer {
	struct ossl_bpf *skel;
	bool verbose;
	bool err_always;
	char **extra;
	struct lib **libs;
	int nlibs, caplibs;
	struct fent *set;
	size_t setcap, setn;
	struct errfile *errs;
	int nerrs;
	bool scanned;
	int reported;		/* libs[0 .. reported-1] are in a report already */
	__u64 self_mntns;
	struct stat self_root;
	char *buf; /* /proc/PID/maps contents */
	size_t bufcap;
};

/* ---- the set of files seen ---- */

static size_t fent_hash(__u64 dev, __u64 ino, size_t cap)
{
	__u64 h = (ino ^ (dev << 32) ^ (dev >> 32)) * 0x9e3779b97f4a7c15ULL;

	return (size_t)(h >> 20) & (cap - 1);
}

static struct fent *set_find(struct lib_tracer *lt, __u64 dev, __u64 ino)
{
	size_t i;

	if (!lt->setcap)
		return NULL;
	for (i = fent_hash(dev, ino, lt->setcap);; i = (i + 1) & (lt->setcap - 1)) {
		struct fent *f = &lt->set[i];

		if (!f->used)
			return NULL;
		if (f->dev == dev && f->ino == ino)
			return f;
	}
}

static int set_put(struct lib_tracer *lt, __u64 dev, __u64 ino, int val)
{
	struct fent *f;
	size_t i;

	if ((lt->setn + 1) * 2 > lt->setcap) {
		size_t ncap = lt->setcap ? lt->setcap * 2 : 256;
		struct fent *old = lt->set, *nset = calloc(ncap, sizeof(*nset));
		size_t oldcap = lt->setcap;

		if (!nset)
			return -ENOMEM;
		lt->set = nset;
		lt->setcap = ncap;
		lt->setn = 0;
		for (i = 0; i < oldcap; i++)
			if (old[i].used)
				set_put(lt, old[i].dev, old[i].ino, old[i].val);
		free(old);
	}
	f = set_find(lt, dev, ino);
	if (f) {
		f->val = val;
		return 0;
	}
	for (i = fent_hash(dev, ino, lt->setcap); lt->set[i].used; i = (i + 1) & (lt->setcap - 1))
		;
	lt->set[i] = (struct fent){.dev = dev, .ino = ino, .val = val, .used = true};
	lt->setn++;
	return 0;
}

/* ---- small helpers ---- */

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* libssl.so.3, libssl.so.1.1, libssl-xyz.so...: worth a full analysis without the symbol test. */
static bool looks_like_libssl(const char *path)
{
	const char *b = strrchr(path, '/');

	b = b ? b + 1 : path;
	return strncmp(b, "libssl", 6) == 0 && strstr(b, ".so");
}

/* Does the ELF file define a symbol NAME (.dynsym or .symtab)? A cheap test for binaries and
 * libraries that carry OpenSSL under another name (static links). Imports do not count. */
static bool elf_defines(const char *path, const char *name)
{
	bool found = false;
	Elf_Scn *scn = NULL;
	Elf *e = NULL;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	if (elf_version(EV_CURRENT) == EV_NONE)
		goto cleanup;
	e = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!e || elf_kind(e) != ELF_K_ELF)
		goto cleanup;
	while (!found && (scn = elf_nextscn(e, scn))) {
		Elf_Data *data;
		GElf_Shdr sh;
		size_t i, n;

		if (!gelf_getshdr(scn, &sh) ||
		    (sh.sh_type != SHT_DYNSYM && sh.sh_type != SHT_SYMTAB))
			continue;
		data = elf_getdata(scn, NULL);
		if (!data || !sh.sh_entsize)
			continue;
		n = sh.sh_size / sh.sh_entsize;
		for (i = 0; i < n; i++) {
			const char *s;
			GElf_Sym sym;

			if (!gelf_getsym(data, (int)i, &sym) || sym.st_shndx == SHN_UNDEF ||
			    GELF_ST_TYPE(sym.st_info) != STT_FUNC)
				continue;
			s = elf_strptr(e, sh.sh_link, sym.st_name);
			if (s && strcmp(s, name) == 0) {
				found = true;
				break;
			}
		}
	}
cleanup:
	if (e)
		elf_end(e);
	close(fd);
	return found;
}

/* ---- attaching ---- */

static struct bpf_link *attach(struct lib_tracer *lt, struct lib *l, struct bpf_program *prog,
			       const char *path, __u64 off, __u64 cookie, bool ret, char *why,
			       size_t whysz)
{
	struct bpf_uprobe_opts o = {.sz = sizeof(o), .bpf_cookie = cookie, .retprobe = ret};
	struct bpf_link *link;

	if (l->nlinks >= MAX_LINKS) {
		snprintf(why, whysz, "internal: too many links");
		return NULL;
	}
	link = bpf_program__attach_uprobe_opts(prog, -1, path, (size_t)off, &o);
	if (!link) {
		snprintf(why, whysz, "%s at file offset 0x%llx failed: %s",
			 ret ? "uretprobe" : "uprobe", (unsigned long long)off, strerror(errno));
		return NULL;
	}
	l->links[l->nlinks++] = link;
	return link;
}

/* Detach the last n links of l (a hook whose second half failed). */
static void drop_links(struct lib *l, int n)
{
	while (n-- > 0 && l->nlinks > 0)
		bpf_link__destroy(l->links[--l->nlinks]);
}

static void hook_dispatch(struct lib_tracer *lt, struct lib *l, const struct oh_probe *p,
			  enum hook h, bool dtls)
{
	__u64 ck = ossl_cookie(l->id, -1, -1, 0, dtls);
	char *why = l->why[h];

	if (!p->ok) {
		snprintf(why, sizeof(l->why[h]), "%s", p->why[0] ? p->why : "not found");
		return;
	}
	/* The alert is read from s->s3.send_alert: without a confirmed layout it would be noise. */
	if (!l->r->ssl.ok) {
		snprintf(why, sizeof(l->why[h]), "SSL layout not confirmed: %.160s",
			 l->r->ssl.why[0] ? l->r->ssl.why : "unknown");
		return;
	}
	if (!attach(lt, l, lt->skel->progs.dispatch_entry, l->path, p->file_off, ck, false, why,
		    sizeof(l->why[h])))
		return;
	if (!attach(lt, l, lt->skel->progs.dispatch_return, l->path, p->file_off, ck, true, why,
		    sizeof(l->why[h]))) {
		drop_links(l, 1);
		return;
	}
	l->on[h] = true;
}

static void hook_read(struct lib_tracer *lt, struct lib *l, const struct oh_read_probe *p,
		      enum hook h, bool dtls)
{
	__u64 ck = ossl_cookie(l->id, p->alert_reg, p->ssl_reg, p->alert_is_ptr, dtls);
	char *why = l->why[h];

	if (!p->p.ok) {
		snprintf(why, sizeof(l->why[h]), "%s", p->p.why[0] ? p->p.why : "not found");
		return;
	}
	if (p->alert_reg < 0 || p->alert_reg >= OSSL_NREGS) {
		snprintf(why, sizeof(l->why[h]), "alert register index %d out of range",
			 p->alert_reg);
		return;
	}
	if (attach(lt, l, lt->skel->progs.read_alert, l->path, p->p.file_off, ck, false, why,
		   sizeof(l->why[h])))
		l->on[h] = true;
}

static void hook_err(struct lib_tracer *lt, struct lib *l)
{
	const struct oh_result *r = l->r;
	char *why = l->why[HK_ERR];
	size_t whysz = sizeof(l->why[HK_ERR]);
	struct errfile *ef;
	struct stat st;
	int i;

	if (l->on[HK_RECV] && !lt->err_always) {
		snprintf(why, whysz, "not needed: the read probe is attached");
		return;
	}
	if (r->err_kind == OH_ERR_NONE || !r->err.ok) {
		snprintf(why, whysz, "%s", r->err.why[0] ? r->err.why : "no ERR function found");
		return;
	}
	if (!r->err_path[0] || stat(r->err_path, &st) < 0) {
		snprintf(why, whysz, "cannot reach libcrypto '%.120s': %s", r->err_path,
			 r->err_path[0] ? strerror(errno) : "no path");
		return;
	}
	/* One libcrypto, one probe: a second probe on it would report every error twice. */
	for (i = 0; i < lt->nerrs; i++) {
		if (lt->errs[i].dev == st.st_dev && lt->errs[i].ino == st.st_ino) {
			snprintf(why, whysz,
				 "its libcrypto carries library %u's fallback, which "
				 "reports these alerts",
				 lt->errs[i].lib_id);
			return;
		}
	}
	ef = realloc(lt->errs, (lt->nerrs + 1) * sizeof(*ef));
	if (!ef) {
		snprintf(why, whysz, "out of memory");
		return;
	}
	lt->errs = ef;
	if (!attach(lt, l, lt->skel->progs.err_raise, r->err_path, r->err.file_off,
		    ossl_cookie(l->id, -1, -1, 0, 0), false, why, whysz))
		return;
	lt->errs[lt->nerrs++] = (struct errfile){st.st_dev, st.st_ino, l->id};
	l->on[HK_ERR] = true;
}

static void hook_lib(struct lib_tracer *lt, struct lib *l)
{
	const struct oh_result *r = l->r;
	struct ossl_cfg cfg = {
	    .off_version = r->ssl.off_version,
	    .off_method = r->ssl.off_method,
	    .off_method_version = r->ssl.off_method_version,
	    .off_s3 = r->ssl.off_s3,
	    .off_send_alert = r->ssl.off_send_alert,
	    .err_kind = r->err_kind,
	};
	int h;

	/* The read probe needs no layout for the alert itself; only the version would be wrong. */
	if (!r->ssl.ok)
		cfg.off_version = cfg.off_method = cfg.off_method_version = -1;
	if (bpf_map_update_elem(bpf_map__fd(lt->skel->maps.cfgs), &l->id, &cfg, BPF_ANY) < 0) {
		for (h = 0; h < HK_N; h++)
			snprintf(l->why[h], sizeof(l->why[h]), "cannot store the layout: %s",
				 strerror(errno));
		return;
	}
	hook_dispatch(lt, l, &r->dispatch, HK_SENT, false);
	hook_dispatch(lt, l, &r->dtls_dispatch, HK_DTLS_SENT, true);
	hook_read(lt, l, &r->read, HK_RECV, false);
	hook_read(lt, l, &r->dtls_read, HK_DTLS_RECV, true);
	hook_err(lt, l);
}

static struct lib *new_lib(struct lib_tracer *lt, const char *path)
{
	struct lib *l;

	if (lt->nlibs + 1 >= OSSL_MAX_LIBS)
		return NULL;
	if (lt->nlibs == lt->caplibs) {
		int ncap = lt->caplibs ? lt->caplibs * 2 : 16;
		struct lib **n = realloc(lt->libs, ncap * sizeof(*n));

		if (!n)
			return NULL;
		lt->libs = n;
		lt->caplibs = ncap;
	}
	l = calloc(1, sizeof(*l));
	if (!l)
		return NULL;
	l->r = calloc(1, sizeof(*l->r));
	if (!l->r) {
		free(l);
		return NULL;
	}
	snprintf(l->path, sizeof(l->path), "%s", path);
	lt->libs[lt->nlibs++] = l;
	l->id = lt->nlibs;
	return l;
}

/*
 * Look at one file. path: how to open it from here; root: its process's root ("" for ours);
 * mdev/mino: the key of the maps line that named it (0/0 when none); named: its name says libssl or
 * the user named it, so it is analysed (and reported) without the symbol test. Returns 1 when a
 * library was hooked, 0 otherwise.
 */
static int consider(struct lib_tracer *lt, const char *path, const char *root, __u64 mdev,
		    __u64 mino, bool named)
{
	char buf[PATH_MAX + 64], why[512], real[PATH_MAX];
	struct oh_result *r;
	struct fent *f;
	struct lib *l;
	struct stat st;
	double t0;
	int rc;

	if (stat(path, &st) < 0)
		return 0; /* vanished with its process, or never there: try again later */
	/* Host files by their canonical name (/lib -> /usr/lib); never a /proc/PID/... path, which
	 * would resolve against our own root. */
	if (!root[0] && strncmp(path, "/proc/", 6) && realpath(path, real))
		path = real;
	f = set_find(lt, st.st_dev, st.st_ino);
	if (f) {
		if (mino)
			set_put(lt, mdev, mino, f->val);
		return 0;
	}
	if (!S_ISREG(st.st_mode) || (!named && !elf_defines(path, "TLS_method"))) {
		set_put(lt, st.st_dev, st.st_ino, -1);
		if (mino)
			set_put(lt, mdev, mino, -1);
		return 0;
	}
	l = new_lib(lt, path);
	if (!l) {
		fprintf(stderr, "libs: cannot track more libraries: '%s' is not hooked\n",
			text_safe(path, buf, sizeof(buf)));
		/* Say it once, not at every scan. */
		set_put(lt, st.st_dev, st.st_ino, -1);
		if (mino)
			set_put(lt, mdev, mino, -1);
		return 0;
	}
	r = l->r;
	t0 = now_ms();
	rc = oh_analyze(path, root, r);
	if (rc < 0 && stat(path, &st) < 0) {
		/* The process (and its root) went away during the analysis: forget it. */
		lt->nlibs--;
		free(l->r);
		free(l);
		return 0;
	}
	set_put(lt, st.st_dev, st.st_ino, l->id - 1);
	if (mino)
		set_put(lt, mdev, mino, l->id - 1);
	if (rc < 0) {
		l->refused = true;
		if (!r->why[0])
			snprintf(r->why, sizeof(r->why), "not recognised as OpenSSL");
		if (lt->verbose)
			fprintf(stderr, "libs: %s: refused: %s\n",
				text_safe(path, buf, sizeof(buf)),
				text_safe(r->why, why, sizeof(why)));
		return 0;
	}
	hook_lib(lt, l);
	if (lt->verbose)
		fprintf(stderr, "libs: %s: %s, analysed in %.1f ms, %d probes attached\n",
			text_safe(path, buf, sizeof(buf)),
			r->version[0] ? text_safe(r->version, why, sizeof(why)) : "unknown version",
			now_ms() - t0, l->nlinks);
	return 1;
}

/* ---- discovery ---- */

/*
 * libssl.so.* entries of the dynamic linker's cache (glibc's "glibc-ld.so.cache1.1" format, alone
 * or after the old "ld.so-1.7.0" table; string offsets count from the new header).
 */
static int scan_ld_cache(struct lib_tracer *lt)
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
		if (strncmp(c + base + key, "libssl.so", 9) == 0)
			n += consider(lt, c + base + val, "", 0, 0, true);
	}
cleanup:
	free(c);
	close(fd);
	return n;
}

static int scan_std_dirs(struct lib_tracer *lt)
{
	static const char *const pats[] = {
	    "/lib/x86_64-linux-gnu/libssl.so.*",
	    "/usr/lib/x86_64-linux-gnu/libssl.so.*",
	    "/usr/local/lib*/libssl.so.*",
	    "/usr/local/lib*/*/libssl.so.*",
	};
	size_t i, j;
	int n = 0;

	for (i = 0; i < sizeof(pats) / sizeof(pats[0]); i++) {
		glob_t g;

		if (glob(pats[i], 0, NULL, &g) != 0)
			continue;
		for (j = 0; j < g.gl_pathc; j++)
			n += consider(lt, g.gl_pathv[j], "", 0, 0, true);
		globfree(&g);
	}
	return n;
}

/* A named file that cannot be opened still gets a line in the report. */
static int scan_extra(struct lib_tracer *lt, const char *path)
{
	struct stat st;
	struct lib *l;

	if (stat(path, &st) == 0)
		return consider(lt, path, "", 0, 0, true);
	l = new_lib(lt, path);
	if (l) {
		l->refused = true;
		snprintf(l->r->why, sizeof(l->r->why), "cannot open: %s", strerror(errno));
	}
	return 0;
}

/*
 * How to reach PID's files from here: "" when it shares our mount namespace and root, else
 * "/proc/PID/root". Returns -1 when the process is gone.
 */
static int pid_root(struct lib_tracer *lt, int pid, char *root, size_t sz)
{
	struct stat ns, rt;
	char p[64];

	snprintf(p, sizeof(p), "/proc/%d/ns/mnt", pid);
	if (stat(p, &ns) < 0)
		return -1;
	snprintf(p, sizeof(p), "/proc/%d/root", pid);
	if (stat(p, &rt) < 0)
		return -1;
	if (ns.st_ino == lt->self_mntns && rt.st_dev == lt->self_root.st_dev &&
	    rt.st_ino == lt->self_root.st_ino)
		root[0] = 0;
	else
		snprintf(root, sz, "/proc/%d/root", pid);
	return 0;
}

static ssize_t read_all(struct lib_tracer *lt, const char *path)
{
	size_t len = 0;
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	for (;;) {
		if (len + 4096 + 1 > lt->bufcap) {
			size_t ncap = lt->bufcap ? lt->bufcap * 2 : 1 << 16;
			char *nb = realloc(lt->buf, ncap);

			if (!nb) {
				close(fd);
				return -1;
			}
			lt->buf = nb;
			lt->bufcap = ncap;
		}
		n = read(fd, lt->buf + len, lt->bufcap - len - 1);
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
	lt->buf[len] = 0;
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

static int scan_pid(struct lib_tracer *lt, int pid, int *nfiles)
{
	char p[64], root[48] = "", full[PATH_MAX];
	bool have_root = false;
	char *line, *next;
	int n = 0;

	snprintf(p, sizeof(p), "/proc/%d/maps", pid);
	if (read_all(lt, p) < 0)
		return 0;
	for (line = lt->buf; line && *line; line = next) {
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
		if (set_find(lt, makedev(maj, min), ino))
			continue;
		(*nfiles)++;
		if (!have_root) {
			if (pid_root(lt, pid, root, sizeof(root)) < 0)
				return n;
			have_root = true;
		}
		named = looks_like_libssl(path);
		plen = strlen(path);
		if (plen > 10 && strcmp(path + plen - 10, " (deleted)") == 0) {
			/* Replaced on disk (an upgrade) but still mapped: reach the old inode. */
			if (rlen > 64)
				continue;
			path[plen - 10] = 0;
			named = looks_like_libssl(path);
			snprintf(full, sizeof(full), "/proc/%d/map_files/%.*s", pid, (int)rlen,
				 range);
			n += consider(lt, full, root, makedev(maj, min), ino, named);
			continue;
		}
		snprintf(full, sizeof(full), "%s%s", root, path);
		if (root[0] && !same_file(full, makedev(maj, min), ino) &&
		    same_file(path, makedev(maj, min), ino)) {
			/* A chroot in our mount namespace: maps shows the path from our root. */
			n += consider(lt, path, "", makedev(maj, min), ino, named);
			continue;
		}
		if (access(full, F_OK) && rlen <= 64)
			/* Not reachable by name (another mount namespace's private mount): the
			 * mapping itself always is. */
			snprintf(full, sizeof(full), "/proc/%d/map_files/%.*s", pid, (int)rlen,
				 range);
		n += consider(lt, full, root, makedev(maj, min), ino, named);
	}
	return n;
}

static int scan_procs(struct lib_tracer *lt, int *nprocs, int *nfiles)
{
	struct dirent *de;
	int n = 0, self = getpid();
	DIR *d;

	d = opendir("/proc");
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		int pid;

		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		pid = atoi(de->d_name);
		if (pid == self)
			continue;
		(*nprocs)++;
		n += scan_pid(lt, pid, nfiles);
	}
	closedir(d);
	return n;
}

/* ---- API ---- */

int libs_open(struct lib_tracer **ltp, const struct libs_opts *o, int ringbuf_fd)
{
	struct lib_tracer *lt;
	struct stat ns;
	int err = 0, i, n = 0;

	*ltp = NULL;
	if (o && o->npids > AT_FILT_PIDS) {
		fprintf(stderr, "libs: at most %d pids can be traced (-p), got %d\n", AT_FILT_PIDS,
			o->npids);
		return -E2BIG;
	}
	lt = calloc(1, sizeof(*lt));
	if (!lt)
		return -ENOMEM;
	if (o) {
		lt->verbose = o->verbose;
		lt->err_always = o->err_always;
		while (o->extra && o->extra[n])
			n++;
	}
	lt->extra = calloc(n + 1, sizeof(*lt->extra));
	if (!lt->extra) {
		err = -ENOMEM;
		goto cleanup;
	}
	for (i = 0; i < n; i++) {
		lt->extra[i] = strdup(o->extra[i]);
		if (!lt->extra[i]) {
			err = -ENOMEM;
			goto cleanup;
		}
	}
	if (stat("/proc/self/ns/mnt", &ns) == 0)
		lt->self_mntns = ns.st_ino;
	if (stat("/", &lt->self_root) < 0) {
		err = -errno;
		fprintf(stderr, "libs: cannot stat /: %s\n", strerror(errno));
		goto cleanup;
	}

	lt->skel = ossl_bpf__open();
	if (!lt->skel) {
		err = -errno;
		fprintf(stderr, "libs: cannot open the OpenSSL uprobe object: %s\n",
			strerror(-err));
		goto cleanup;
	}
	if (o && o->shared) {
		/* The tracer's maps and filters, shared with the other BPF objects. */
		lt->skel->rodata->at_filt = o->shared->filt;
		err = shared_reuse(lt->skel->obj, o->shared);
		if (err) {
			fprintf(stderr, "libs: cannot share the tracer's maps: %s\n", strerror(-err));
			goto cleanup;
		}
	} else {
		lt->skel->rodata->at_filt.stream = 1;
		for (i = 0; o && i < o->npids; i++)
			lt->skel->rodata->at_filt.pids[i] = o->pids[i];
	}
	if (ringbuf_fd >= 0 && !(o && o->shared)) {
		err = bpf_map__reuse_fd(lt->skel->maps.events, ringbuf_fd);
		if (err) {
			fprintf(stderr, "libs: cannot share the event ring buffer: %s\n",
				strerror(-err));
			goto cleanup;
		}
	}
	err = ossl_bpf__load(lt->skel);
	if (err) {
		fprintf(stderr, "libs: cannot load the OpenSSL uprobes: %s%s\n", strerror(-err),
			err == -EPERM ? " (need root or CAP_BPF and CAP_PERFMON: run with sudo)"
				      : " (run with -v for libbpf's log)");
		goto cleanup;
	}
	*ltp = lt;
	return 0;
cleanup:
	libs_close(lt);
	return err;
}

int libs_scan(struct lib_tracer *lt)
{
	int n = 0, nprocs = 0, nfiles = 0, rc, i;
	double t0 = now_ms(), dt;

	if (!lt)
		return -EINVAL;
	if (!lt->scanned) {
		lt->scanned = true;
		for (i = 0; lt->extra[i]; i++)
			n += scan_extra(lt, lt->extra[i]);
		n += scan_ld_cache(lt);
		n += scan_std_dirs(lt);
	}
	rc = scan_procs(lt, &nprocs, &nfiles);
	if (rc < 0) {
		fprintf(stderr, "libs: cannot list /proc: %s\n", strerror(-rc));
		return rc;
	}
	n += rc;
	dt = now_ms() - t0;
	/* Once a second in verbose mode would drown the output: say it when it matters. */
	if (lt->verbose && (n || nfiles || dt > 50))
		fprintf(stderr,
			"libs: scan: %d processes, %d new files, %d libraries hooked, "
			"%.1f ms\n",
			nprocs, nfiles, n, dt);
	return n;
}

static void report_json(FILE *f, const struct lib *l)
{
	const struct oh_result *r = l->r;
	bool first = true;
	int h;

	fprintf(f, "{\"type\":\"library\",\"lib_id\":%u,\"path\":", l->id);
	json_str(f, l->path);
	fprintf(f, ",\"build_id\":");
	json_str(f, r->build_id);
	fprintf(f, ",\"version\":");
	json_str(f, r->version);
	for (h = 0; h < HK_N; h++)
		fprintf(f, ",\"%s\":%s", hk_key[h], l->on[h] ? "true" : "false");
	fprintf(f, ",\"reasons\":{");
	if (l->refused) {
		fprintf(f, "\"analysis\":");
		json_str(f, r->why);
		first = false;
	} else {
		for (h = 0; h < HK_N; h++) {
			if (l->on[h] || !l->why[h][0])
				continue;
			fprintf(f, "%s\"%s\":", first ? "" : ",", hk_key[h]);
			json_str(f, l->why[h]);
			first = false;
		}
	}
	fprintf(f, "}}\n");
}

static void report_text(FILE *f, const struct lib *l)
{
	const struct oh_result *r = l->r;
	char buf[PATH_MAX + 64];
	int h;

	/* Paths and the version string come from the traced host: print them defanged. */
	fprintf(f, "library %u: %s\n", l->id, text_safe(l->path, buf, sizeof(buf)));
	if (l->refused) {
		fprintf(f, "    not hooked: %s\n", text_safe(r->why, buf, sizeof(buf)));
		return;
	}
	fprintf(f, "    %s, build-id %s%s\n",
		r->version[0] ? text_safe(r->version, buf, sizeof(buf)) : "unknown version",
		r->build_id[0] ? r->build_id : "none", r->from_symbols ? ", from symbols" : "");
	fprintf(f, "    hooks:");
	for (h = 0; h < HK_N; h++)
		fprintf(f, "%s %s %s", h ? "," : "", hk_name[h], l->on[h] ? "yes" : "no");
	fprintf(f, "\n");
	for (h = 0; h < HK_N; h++)
		if (!l->on[h] && l->why[h][0])
			fprintf(f, "    %s: %s\n", hk_name[h],
				text_safe(l->why[h], buf, sizeof(buf)));
}

void libs_report(struct lib_tracer *lt, FILE *f, bool json)
{
	int i, hooked = 0, first = !lt || !lt->reported;

	if (!lt)
		return;
	for (i = 0; i < lt->nlibs; i++) {
		hooked += !lt->libs[i]->refused;
		if (i < lt->reported)
			continue;
		if (json)
			report_json(f, lt->libs[i]);
		else
			report_text(f, lt->libs[i]);
	}
	lt->reported = lt->nlibs;
	if (first && !json && !hooked)
		fprintf(f, "libs: no OpenSSL library found (name one with --lib PATH)\n");
	fflush(f);
}

const char *libs_path(struct lib_tracer *lt, __u32 lib_id)
{
	if (!lt || lib_id < 1 || lib_id > (__u32)lt->nlibs)
		return "?";
	return lt->libs[lib_id - 1]->path;
}

int libs_hooked(struct lib_tracer *lt)
{
	int i, n = 0;

	for (i = 0; lt && i < lt->nlibs; i++)
		n += !lt->libs[i]->refused && lt->libs[i]->nlinks > 0;
	return n;
}

__u64 libs_lost(struct lib_tracer *lt)
{
	if (!lt || !lt->skel || !lt->skel->bss)
		return 0;
	return *(volatile __u64 *)&lt->skel->bss->lost;
}

__u64 libs_hist_lost(struct lib_tracer *lt)
{
	if (!lt || !lt->skel || !lt->skel->bss)
		return 0;
	return *(volatile __u64 *)&lt->skel->bss->hist_lost;
}

void libs_close(struct lib_tracer *lt)
{
	int i, j;

	if (!lt)
		return;
	for (i = 0; i < lt->nlibs; i++) {
		struct lib *l = lt->libs[i];

		for (j = 0; j < l->nlinks; j++)
			bpf_link__destroy(l->links[j]);
		free(l->r);
		free(l);
	}
	ossl_bpf__destroy(lt->skel);
	for (i = 0; lt->extra && lt->extra[i]; i++)
		free(lt->extra[i]);
	free(lt->extra);
	free(lt->libs);
	free(lt->set);
	free(lt->errs);
	free(lt->buf);
	free(lt);
}
