// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Analyses kept across runs: see plancache.h. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include "elfpeek.h"
#include "plancache.h"

#define PC_DIR "/var/cache/alerttrace"
#define PC_MAGIC "atplan1"
#define PC_MAGIC_PEEK "atpeek1"
#define PC_MAX_FILE (64 << 20)
#define PC_MAX_REC (1 << 20)

struct rec_hdr {
	char magic[8];
	__u32 len;		/* of the payload after this header */
	__u32 pad;
	__u64 sum;		/* FNV-1a of the payload */
};

/* The payload: this, then the strings the plan points to (pc_put's order). */
struct rec_fixed {
	char provider[16];
	char key[80];
	char aux_id[41];
	struct tp_plan plan;	/* its pointers zeroed */
};

static __u64 fnv(const void *p, size_t n)
{
	const unsigned char *b = p;
	__u64 h = 0xcbf29ce484222325ULL;

	while (n--)
		h = (h ^ *b++) * 0x100000001b3ULL;
	return h;
}

/* The pointers of a plan, in the order of the record's strings. */
#define PC_FOR_STRS(plan, fn)                                                                    \
	for (int _h = 0; _h < (plan)->nhooks; _h++) {                                          \
		fn(&(plan)->hooks[_h].key);                                                    \
		fn(&(plan)->hooks[_h].name);                                                   \
		fn(&(plan)->hooks[_h].unless_why);                                             \
		for (int _p = 0; _p < (plan)->hooks[_h].nprobes; _p++)                          \
			fn(&(plan)->hooks[_h].probes[_p].prog);                                \
	}

static bool first_section(void *ctx, const char *name, enum bin_peek_kind kind)
{
	return true; /* the build-id note is all it needs */
}

/* A directory or file the tracer may trust: its own, writable by no one else. */
static int trusted(int fd, bool dir, char *why, size_t n)
{
	struct stat st;

	if (fstat(fd, &st))
		return -errno;
	if ((dir ? !S_ISDIR(st.st_mode) : !S_ISREG(st.st_mode)) || st.st_uid != geteuid() ||
	    (st.st_mode & 022)) {
		snprintf(why, n, "not trusted: owned by uid %u with mode %04o (needs uid %u, no write "
			 "for group or others)", st.st_uid, st.st_mode & 07777, geteuid());
		return -EPERM;
	}
	return 0;
}

/* Remove the files of other builds (not named plans-SELF...): their analysers may place hooks
 * differently. */
static void drop_others(int dfd, const char *self)
{
	char mine[64];
	int fd = dup(dfd);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *de;

	if (!d) {
		if (fd >= 0)
			close(fd);
		return;
	}
	snprintf(mine, sizeof(mine), "plans-%s", self);
	while ((de = readdir(d)))
		if (!strncmp(de->d_name, "plans-", 6) && strncmp(de->d_name, mine, strlen(mine)))
			unlinkat(dfd, de->d_name, 0);
	closedir(d);
}

/* One record's payload p of n bytes into e; false when it does not hold together. */
static bool parse_rec(const char *p, size_t n, struct pc_entry *e)
{
	const char *s = p + sizeof(struct rec_fixed), *end = p + n;
	bool ok = true;
	char *q;

	if (n < sizeof(struct rec_fixed))
		return false;
	/* Copied by offset: a record follows another's strings, so p has no alignment. */
#define PC_FIELD(dst, field) \
	memcpy((dst), p + offsetof(struct rec_fixed, field), sizeof(((struct rec_fixed *)0)->field))
	PC_FIELD(e->provider, provider);
	PC_FIELD(e->key, key);
	PC_FIELD(e->aux_id, aux_id);
	PC_FIELD(&e->plan, plan);
#undef PC_FIELD
	e->provider[sizeof(e->provider) - 1] = e->key[sizeof(e->key) - 1] = 0;
	e->aux_id[sizeof(e->aux_id) - 1] = 0;
	/* A refusal too (rc -1, analysis.c keeps those about the file's bytes). */
	if ((e->plan.rc != 0 && e->plan.rc != -1) || e->plan.nhooks < 0 || e->plan.nhooks > TP_MAX_HOOKS ||
	    e->plan.cfg_size > TP_CFG_MAX)
		return false;
	for (int h = 0; h < e->plan.nhooks; h++)
		if (e->plan.hooks[h].nprobes < 0 || e->plan.hooks[h].nprobes > TP_MAX_PROBES)
			return false;
	e->plan.why[sizeof(e->plan.why) - 1] = e->plan.version[sizeof(e->plan.version) - 1] = 0;
	e->plan.build_id[sizeof(e->plan.build_id) - 1] = 0;
	e->plan.detail[sizeof(e->plan.detail) - 1] = 0;
	e->plan.aux_path[sizeof(e->plan.aux_path) - 1] = 0;
	for (int h = 0; h < e->plan.nhooks; h++)
		e->plan.hooks[h].why[sizeof(e->plan.hooks[h].why) - 1] = 0;
	e->strs = q = malloc(end > s ? (size_t)(end - s) : 1);
	if (!e->strs)
		return false;
	memcpy(q, s, end - s);
	/* Each string: a byte 1 (0: NULL), its text and a NUL, all inside the record. */
#define PC_GET(pp)                                                                               \
	do {                                                                                     \
		size_t _l;                                                                       \
		*(pp) = NULL;                                                                    \
		if (!ok || q >= e->strs + (end - s)) {                                           \
			ok = false;                                                              \
			break;                                                                   \
		}                                                                                \
		if (*q++ == 0)                                                                   \
			break;                                                                   \
		_l = strnlen(q, e->strs + (end - s) - q);                                        \
		if (q + _l >= e->strs + (end - s)) {                                             \
			ok = false;                                                              \
			break;                                                                   \
		}                                                                                \
		*(const char **)(pp) = q;                                                        \
		q += _l + 1;                                                                     \
	} while (0)
	PC_FOR_STRS(&e->plan, PC_GET);
#undef PC_GET
	for (int h = 0; ok && h < e->plan.nhooks; h++) {
		ok = e->plan.hooks[h].key && e->plan.hooks[h].name;
		for (int j = 0; ok && j < e->plan.hooks[h].nprobes; j++)
			ok = e->plan.hooks[h].probes[j].prog != NULL;
	}
	if (!ok) {
		free(e->strs);
		e->strs = NULL;
	}
	return ok;
}

size_t pc_parse(const char *buf, size_t n, void (*fn)(void *ctx, struct pc_entry *e),
		void (*peek)(void *ctx, const struct pc_peek *k), void *ctx, bool *bad)
{
	size_t off;

	if (bad)
		*bad = false;
	for (off = 0; off + sizeof(struct rec_hdr) <= n;) {
		struct rec_hdr h;
		struct pc_entry e = {};
		bool is_peek;

		memcpy(&h, buf + off, sizeof(h));
		is_peek = !memcmp(h.magic, PC_MAGIC_PEEK, sizeof(h.magic));
		/* A bad header (a write cut short) ends the reading: nothing after it lines up. */
		if ((!is_peek && memcmp(h.magic, PC_MAGIC, sizeof(h.magic))) || h.len > PC_MAX_REC) {
			if (bad)
				*bad = true;
			break;
		}
		if (h.len > n - off - sizeof(h))
			break; /* not all here yet */
		off += sizeof(h);
		if (h.sum != fnv(buf + off, h.len))
			;
		else if (is_peek && h.len == sizeof(struct pc_peek) && peek) {
			struct pc_peek k;

			memcpy(&k, buf + off, sizeof(k));
			k.provider[sizeof(k.provider) - 1] = k.build_id[sizeof(k.build_id) - 1] = 0;
			k.why[sizeof(k.why) - 1] = 0;
			peek(ctx, &k);
		} else if (!is_peek && parse_rec(buf + off, h.len, &e)) {
			fn(ctx, &e);
		}
		off += h.len;
	}
	return off;
}

void pc_append(struct plancache *pc, const char *buf, size_t n)
{
	pc_flush(pc); /* whole records in order */
	if (pc->fd >= 0 && n && write(pc->fd, buf, n) != (ssize_t)n) {
		close(pc->fd);
		pc->fd = -1;
	}
}

int pc_open(struct plancache *pc, void (*fn)(void *ctx, struct pc_entry *e),
	    void (*peek)(void *ctx, const struct pc_peek *k), void *ctx)
{
	const char *dir = getenv("ALERTTRACE_CACHE");
	char self[41], name[64];
	struct stat st;
	char *buf = NULL;
	int dfd = -1, err = 0;

	pc->fd = -1;
	pc->why[0] = 0;
	pc->pbuf = NULL;
	pc->plen = pc->pcap = 0;
	if (dir && !strcmp(dir, "off"))
		return -ENOENT;
	if (!dir || !dir[0])
		dir = PC_DIR;
	pc_build_id("/proc/self/exe", self);
	if (!self[0]) {
		snprintf(pc->why, sizeof(pc->why), "alerttrace has no build-id");
		return -ENOENT;
	}
	/* ALERTTRACE_OSSL_DONE=1 (openssl.c) places OpenSSL's hooks otherwise: plans of their own. */
	snprintf(name, sizeof(name), "plans-%s%s", self, ossl_done_wanted() ? "-done1" : "");
	snprintf(pc->path, sizeof(pc->path), "%s/%s", dir, name);
	if (mkdir(dir, 0700) && errno != EEXIST) {
		err = -errno;
		snprintf(pc->why, sizeof(pc->why), "cannot create %s: %s", dir, strerror(-err));
		return err;
	}
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0 || (err = trusted(dfd, true, pc->why, sizeof(pc->why)))) {
		if (dfd < 0) {
			err = -errno;
			snprintf(pc->why, sizeof(pc->why), "cannot open %s: %s", dir, strerror(-err));
		}
		goto out;
	}
	pc->fd = openat(dfd, name, O_RDWR | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (pc->fd < 0) {
		err = -errno;
		snprintf(pc->why, sizeof(pc->why), "cannot open %s: %s", pc->path, strerror(-err));
		goto out;
	}
	err = trusted(pc->fd, false, pc->why, sizeof(pc->why));
	if (err || fstat(pc->fd, &st))
		goto out;
	drop_others(dfd, self);
	if (st.st_size > PC_MAX_FILE && !ftruncate(pc->fd, 0))
		goto out; /* too big (builds come and go): started again */
	if (!st.st_size || st.st_size > PC_MAX_FILE)
		goto out;
	buf = malloc(st.st_size);
	if (!buf || pread(pc->fd, buf, st.st_size, 0) != st.st_size)
		goto out;
	pc_parse(buf, st.st_size, fn, peek, ctx, NULL);
out:
	free(buf);
	if (dfd >= 0)
		close(dfd);
	if (err && pc->fd >= 0) {
		close(pc->fd);
		pc->fd = -1;
	}
	return err;
}

void pc_build_id(const char *path, char *id)
{
	char why[128];

	if (bin_elf_peek(path, first_section, NULL, id, why, sizeof(why)))
		id[0] = 0;
}

void pc_put(struct plancache *pc, const char *provider, const char *key,
	    const struct tp_plan *plan)
{
	struct rec_fixed *f;
	struct rec_hdr *h;
	size_t n = sizeof(*h) + sizeof(*f);
	char *buf, *q;

	if (pc->fd < 0)
		return;
#define PC_LEN(pp) (n += 1 + (*(pp) ? strlen(*(pp)) + 1 : 0))
	PC_FOR_STRS(plan, PC_LEN);
#undef PC_LEN
	if (n > PC_MAX_REC)
		return;
	buf = calloc(1, n);
	if (!buf)
		return;
	h = (void *)buf;
	f = (void *)(buf + sizeof(*h));
	snprintf(f->provider, sizeof(f->provider), "%s", provider);
	snprintf(f->key, sizeof(f->key), "%s", key);
	/* Hooks in another file (OpenSSL's libcrypto): valid while that file is the same build. */
	if (plan->aux_path[0])
		pc_build_id(plan->aux_path, f->aux_id);
	f->plan = *plan;
	q = (char *)(f + 1);
#define PC_PUT(pp)                                                                               \
	do {                                                                                     \
		*q++ = *(pp) != NULL;                                                            \
		if (*(pp)) {                                                                     \
			strcpy(q, *(pp));                                                        \
			q += strlen(*(pp)) + 1;                                                  \
		}                                                                                \
		*(const char **)(pp) = NULL;                                                     \
	} while (0)
	{
		struct tp_plan *fp = &f->plan;

		PC_FOR_STRS(fp, PC_PUT);
	}
#undef PC_PUT
	memcpy(h->magic, PC_MAGIC, sizeof(h->magic));
	h->len = n - sizeof(*h);
	h->sum = fnv(f, h->len);
	/* One write: with O_APPEND, records of two tracers do not interleave. */
	if (write(pc->fd, buf, n) != (ssize_t)n) {
		close(pc->fd);
		pc->fd = -1;
	}
	free(buf);
}

void pc_put_peek(struct plancache *pc, const struct pc_peek *k)
{
	struct rec_hdr h = {.len = sizeof(*k)};
	size_t n = sizeof(h) + sizeof(*k);

	if (pc->fd < 0)
		return;
	if (pc->plen + n > pc->pcap) {
		size_t cap = pc->pcap ? pc->pcap * 2 : 64 * n;
		char *b = realloc(pc->pbuf, cap);

		if (!b)
			return;
		pc->pbuf = b;
		pc->pcap = cap;
	}
	memcpy(h.magic, PC_MAGIC_PEEK, sizeof(h.magic));
	h.sum = fnv(k, sizeof(*k));
	memcpy(pc->pbuf + pc->plen, &h, sizeof(h));
	memcpy(pc->pbuf + pc->plen + sizeof(h), k, sizeof(*k));
	pc->plen += n;
}

void pc_flush(struct plancache *pc)
{
	/* One write (O_APPEND): whole records, never interleaved with another tracer's. */
	if (pc->fd >= 0 && pc->plen && write(pc->fd, pc->pbuf, pc->plen) != (ssize_t)pc->plen) {
		close(pc->fd);
		pc->fd = -1;
	}
	pc->plen = 0;
}

void pc_close(struct plancache *pc)
{
	pc_flush(pc);
	free(pc->pbuf);
	pc->pbuf = NULL;
	pc->pcap = 0;
	if (pc->fd >= 0)
		close(pc->fd);
	pc->fd = -1;
}
