// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Container identity from cgroup ids (container.h). On 64-bit kernels a cgroup's id is the inode
 * number of its directory in the cgroup v2 hierarchy and the payload of its file handle
 * (FILEID_KERNFS: kernfs_encode_fh() writes the node id), so a miss costs one
 * open_by_handle_at() and one readlink(), done when the event is printed or the histogram read:
 * a cgroup still exists then in the common case, and once resolved it stays cached after it is
 * gone.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "container.h"

#define CT_CACHE_MAX 16384		/* entries; the cache starts over when full */
#define CT_SLOTS (CT_CACHE_MAX * 2)	/* power of two */
#define CT_WALK_MAX 65536		/* directories a walk looks at */
#define CT_WALK_INTERVAL_NS 1000000000ULL
#define FILEID_KERNFS 0xfe

/* ---- names --------------------------------------------------------------------------------- */

static bool is_hex(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

/* c (len n) is PREFIX<64 hex>SUFFIX; the id is copied to id. */
static bool match_id(const char *c, size_t n, const char *prefix, const char *suffix, char *id)
{
	size_t p = strlen(prefix), s = strlen(suffix);

	if (n != p + CT_ID_LEN + s || strncmp(c, prefix, p) || strncmp(c + n - s, suffix, s) ||
	    !is_hex(c + p, CT_ID_LEN))
		return false;
	memcpy(id, c + p, CT_ID_LEN);
	id[CT_ID_LEN] = '\0';
	return true;
}

/* A pod UID, 8-4-4-4-12 hex digits, with '-' (cgroupfs) or, all of them, '_' (systemd's
 * escaping): copied with '-'. */
static bool match_uid(const char *s, size_t n, char *uid)
{
	size_t i;

	if (n != CT_UID_LEN || (s[8] != '-' && s[8] != '_'))
		return false;
	for (i = 0; i < n; i++) {
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;

		if (dash ? s[i] != s[8] : !is_hex(s + i, 1))
			return false;
		uid[i] = dash ? '-' : s[i];
	}
	uid[n] = '\0';
	return true;
}

static bool eq(const char *c, size_t n, const char *s)
{
	return strlen(s) == n && !strncmp(c, s, n);
}

/* The runtimes' container cgroups; a bare id after "docker" or inside a pod (cgroupfs). */
static const char *match_container(const char *c, size_t n, const char *prev, size_t pn,
				   bool in_pod, char *id)
{
	static const struct {
		const char *prefix, *suffix, *runtime;
	} forms[] = {
		{"docker-", ".scope", "docker"},
		{"cri-containerd-", ".scope", "containerd"},
		{"crio-conmon-", ".scope", "crio"},
		{"crio-", ".scope", "crio"},
		{"crio-", "", "crio"},
		{"libpod-conmon-", ".scope", "podman"},
		{"libpod-", ".scope", "podman"},
		{"libpod-", "", "podman"},
	};
	size_t i;

	for (i = 0; i < sizeof(forms) / sizeof(forms[0]); i++)
		if (match_id(c, n, forms[i].prefix, forms[i].suffix, id))
			return forms[i].runtime;
	if (!match_id(c, n, "", "", id))
		return NULL;
	if (prev && eq(prev, pn, "docker"))
		return "docker";
	/* cgroupfs driver: the CRI runtime is not in the name. */
	return in_pod ? "cri" : NULL;
}

/*
 * A pod: systemd "[...-]kubepods[-burstable|-besteffort]-pod<uid>.slice" (kind's kubelet adds a
 * "kubelet-" prefix), cgroupfs "pod<uid>" after "kubepods", "burstable" or "besteffort".
 */
static const char *match_pod(const char *c, size_t n, const char *prev, size_t pn, bool in_k8s,
			     char *uid)
{
	static const struct {
		const char *infix, *qos;
	} slices[] = {
		{"kubepods-burstable-pod", "burstable"},
		{"kubepods-besteffort-pod", "besteffort"},
		{"kubepods-pod", "guaranteed"},
	};
	const char *end = c + n;
	size_t i, l;

	if (n > 6 && !strncmp(end - 6, ".slice", 6)) {
		for (i = 0; i < sizeof(slices) / sizeof(slices[0]); i++) {
			l = strlen(slices[i].infix);
			if (n - 6 < l + CT_UID_LEN)
				continue;
			if (!strncmp(end - 6 - CT_UID_LEN - l, slices[i].infix, l) &&
			    match_uid(end - 6 - CT_UID_LEN, CT_UID_LEN, uid))
				return slices[i].qos;
		}
		return NULL;
	}
	if (!in_k8s || n != 3 + CT_UID_LEN || strncmp(c, "pod", 3) || !match_uid(c + 3, n - 3, uid))
		return NULL;
	if (prev && eq(prev, pn, "burstable"))
		return "burstable";
	if (prev && eq(prev, pn, "besteffort"))
		return "besteffort";
	return "guaranteed";
}

void ct_parse_path(const char *path, struct ct_info *ci)
{
	const char *c = path, *prev = NULL, *rt, *qos;
	char id[CT_ID_LEN + 1], uid[CT_UID_LEN + 1];
	size_t n, pn = 0;
	bool in_k8s = false, in_pod = false;

	memset(ci, 0, sizeof(*ci));
	while (c && *c) {
		while (*c == '/')
			c++;
		n = strcspn(c, "/");
		if (!n)
			break;
		if (eq(c, n, "kubepods") || eq(c, n, "kubepods.slice"))
			in_k8s = true;
		if ((qos = match_pod(c, n, prev, pn, in_k8s, uid))) {
			memcpy(ci->pod_uid, uid, sizeof(uid));
			ci->qos = qos;
			in_pod = true;
		} else if ((rt = match_container(c, n, prev, pn, in_pod, id))) {
			/* The innermost container wins. */
			memcpy(ci->id, id, sizeof(id));
			ci->runtime = rt;
		}
		prev = c;
		pn = n;
		c += n;
	}
}

/* ---- cache --------------------------------------------------------------------------------- */

static struct {
	bool init;
	char *mnt;		/* where the v2 hierarchy is mounted here; NULL: none */
	char *mnt_root;		/* the mount's root inside the hierarchy ("" for "/") */
	int mnt_fd;
	bool no_handles;	/* open_by_handle_at refused: walk instead */
	__u64 last_walk_ns;
	struct ct_entry **slots;
	size_t n;
} ct = {.mnt_fd = -1};

static void cache_clear(void)
{
	size_t i;

	if (!ct.slots)
		return;
	for (i = 0; i < CT_SLOTS; i++) {
		if (ct.slots[i]) {
			free(ct.slots[i]->path);
			free(ct.slots[i]);
			ct.slots[i] = NULL;
		}
	}
	ct.n = 0;
}

static size_t slot_of(__u64 id)
{
	__u64 h = id * 0x9e3779b97f4a7c15ULL;

	return (h >> 32) & (CT_SLOTS - 1);
}

static struct ct_entry *cache_find(__u64 id)
{
	size_t i;

	if (!ct.slots)
		return NULL;
	for (i = slot_of(id); ct.slots[i]; i = (i + 1) & (CT_SLOTS - 1))
		if (ct.slots[i]->cgroup_id == id)
			return ct.slots[i];
	return NULL;
}

/* path: relative to the mount ("/a/b" or "/"), or NULL for a cgroup that is gone. */
static struct ct_entry *cache_put(__u64 id, const char *rel)
{
	struct ct_entry *e = cache_find(id);
	size_t i;

	if (e)
		return e;
	if (!ct.slots && !(ct.slots = calloc(CT_SLOTS, sizeof(*ct.slots))))
		return NULL;
	if (ct.n >= CT_CACHE_MAX)
		cache_clear();
	e = calloc(1, sizeof(*e));
	if (!e)
		return NULL;
	e->cgroup_id = id;
	if (rel && asprintf(&e->path, "%s%s", ct.mnt_root,
			    ct.mnt_root[0] && !strcmp(rel, "/") ? "" : rel) < 0)
		e->path = NULL;
	if (e->path)
		ct_parse_path(e->path, &e->info);
	for (i = slot_of(id); ct.slots[i]; i = (i + 1) & (CT_SLOTS - 1))
		;
	ct.slots[i] = e;
	ct.n++;
	return e;
}

/* mountinfo escapes space, tab, newline and backslash as \ooo. */
static void unescape(char *s)
{
	char *d = s;

	for (; *s; s++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' &&
		    s[3] >= '0' && s[3] <= '7') {
			*d++ = (s[1] - '0') << 6 | (s[2] - '0') << 3 | (s[3] - '0');
			s += 3;
		} else {
			*d++ = *s;
		}
	}
	*d = '\0';
}

/*
 * How much of the hierarchy a mount shows, from the root field of mountinfo, which the kernel
 * writes relative to our cgroup namespace's root: "/" that root, "/../.." an ancestor of it (the
 * host's hierarchy bind-mounted into a container with a cgroup namespace of its own: more "..",
 * more of the tree), "/a/b" a subtree of it.
 */
static int mount_rank(const char *root)
{
	int up = 0, down = 0;
	const char *p;

	for (p = root; !strncmp(p, "/..", 3) && (p[3] == '/' || !p[3]); p += 3)
		up++;
	for (; *p; p++)
		down += *p == '/';
	return up ? up : -down;
}

/* The cgroup2 mount that shows the most of the hierarchy. */
static void find_mount(void)
{
	char line[4096], root[4096], mnt[4096];
	FILE *f = fopen("/proc/self/mountinfo", "re");
	int rank, best = 0;

	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		if (!strstr(line, " - cgroup2 ") ||
		    sscanf(line, "%*s %*s %*s %4095s %4095s", root, mnt) != 2)
			continue;
		unescape(root);
		unescape(mnt);
		rank = mount_rank(root);
		if (ct.mnt && rank <= best)
			continue;
		free(ct.mnt);
		free(ct.mnt_root);
		ct.mnt = strdup(mnt);
		ct.mnt_root = strdup(strcmp(root, "/") ? root : "");
		best = rank;
	}
	fclose(f);
}

static void ensure_init(void)
{
	if (ct.init)
		return;
	ct.init = true;
	if (!ct.mnt)
		find_mount();
	if (ct.mnt && ct.mnt_root)
		ct.mnt_fd = open(ct.mnt, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

/* The path of the cgroup by its file handle: 0, -ESTALE (gone) or another -errno (refused). */
static int by_handle(__u64 id, char *rel, size_t n)
{
	union {
		struct file_handle fh;
		char buf[sizeof(struct file_handle) + sizeof(__u64)];
	} h;
	char link[64], path[4096];
	size_t ml = strlen(ct.mnt);
	ssize_t len;
	int fd;

	h.fh.handle_bytes = sizeof(__u64);
	h.fh.handle_type = FILEID_KERNFS;
	memcpy(h.fh.f_handle, &id, sizeof(id));
	fd = open_by_handle_at(ct.mnt_fd, &h.fh, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT || errno == ENOTDIR ? -ESTALE : -errno;
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	len = readlink(link, path, sizeof(path) - 1);
	close(fd);
	if (len < 0)
		return -errno;
	path[len] = '\0';
	if (len > 10 && !strcmp(path + len - 10, " (deleted)"))
		return -ESTALE;
	/* Under our mount: the rest is the cgroup's path; "/" is the mount itself. */
	if (strncmp(path, ct.mnt, ml) || (path[ml] && path[ml] != '/'))
		return -EXDEV;
	snprintf(rel, n, "%s", path[ml] ? path + ml : "/");
	return 0;
}

static __u64 now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/* Every directory under the mount into the cache (the inode is the id). */
static void walk(int dfd, char *rel, size_t len, size_t cap, int *budget)
{
	struct dirent *d;
	struct stat st;
	DIR *dir;

	if (fstat(dfd, &st) == 0)
		cache_put(st.st_ino, len ? rel : "/");
	dir = fdopendir(dfd);
	if (!dir) {
		close(dfd);
		return;
	}
	while ((d = readdir(dir)) && *budget > 0) {
		size_t l = strlen(d->d_name);
		int sub;

		if (d->d_type != DT_DIR || d->d_name[0] == '.' || len + 1 + l + 1 > cap)
			continue;
		sub = openat(dirfd(dir), d->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
		if (sub < 0)
			continue;
		(*budget)--;
		rel[len] = '/';
		memcpy(rel + len + 1, d->d_name, l + 1);
		walk(sub, rel, len + 1 + l, cap, budget);
		rel[len] = '\0';
	}
	closedir(dir);
}

const struct ct_entry *ct_lookup(__u64 id)
{
	struct ct_entry *e;
	/* Not = "": this runs for every streamed event (print_json), and that initialiser is a
	 * 4 KiB memset each time; by_handle and walk write what they read. */
	char rel[4096];
	int err, budget = CT_WALK_MAX, dfd;
	__u64 now;

	rel[0] = '\0';
	if (!id)
		return NULL;
	ensure_init();
	if (ct.mnt_fd < 0)
		return NULL;
	e = cache_find(id);
	if (e)
		return e;
	if (!ct.no_handles) {
		err = by_handle(id, rel, sizeof(rel));
		if (!err)
			return cache_put(id, rel);
		if (err == -ESTALE)
			return cache_put(id, NULL);
		if (err == -EMFILE || err == -ENFILE || err == -ENOMEM)
			return NULL;	/* passing: ask again next time */
		ct.no_handles = true;	/* no CAP_DAC_READ_SEARCH, or another namespace's view */
	}
	now = now_ns();
	if (ct.last_walk_ns && now - ct.last_walk_ns < CT_WALK_INTERVAL_NS)
		return NULL;
	ct.last_walk_ns = now;
	dfd = openat(ct.mnt_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0)
		walk(dfd, rel, 0, sizeof(rel), &budget);
	return cache_find(id);
}

void ct_set_root(const char *mnt, bool walk_only)
{
	cache_clear();
	free(ct.mnt);
	free(ct.mnt_root);
	if (ct.mnt_fd >= 0)
		close(ct.mnt_fd);
	ct.mnt = mnt ? strdup(mnt) : NULL;
	ct.mnt_root = strdup("");
	ct.mnt_fd = -1;
	ct.no_handles = walk_only;
	ct.last_walk_ns = 0;
	ct.init = false;
}
