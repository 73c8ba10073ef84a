// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Aggregation table: a dynamic array of rows plus an open-addressing hash index, so agg_add stays
 * O(1) with tens of thousands of rows (one per process x alert on a busy host).
 *
 * struct agg_table has no field for the index, so it lives in the same allocation, right after
 * the cap rows: rows[0..cap) then nslots = 2 * cap slots. Callers may read the rows and change
 * their counts; everything else goes through agg_add/agg_reset/agg_free. A caller that reorders
 * the rows in place (qsort) does not corrupt the table: each slot keeps the hash of its row, a
 * mismatch shows the index is stale, and it is rebuilt.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "agg.h"

#define AGG_MIN_CAP 64

struct agg_slot {
	__u32 idx1;	/* row index + 1; 0 for an empty slot */
	__u32 hash;
};

static size_t nslots(size_t cap)
{
	return cap * 2;	/* cap is a power of two, so this is one too; load factor <= 1/2 */
}

static struct agg_slot *slots(const struct agg_table *t)
{
	return (struct agg_slot *)(t->rows + t->cap);
}

/* The key as stored: comm and sni cut at their NUL and zero-filled after it. */
static void norm_key(struct agg_row *k, const struct agg_row *r)
{
	size_t len = strnlen(r->comm, sizeof(r->comm) - 1), slen = strnlen(r->sni, sizeof(r->sni) - 1);

	memset(k, 0, sizeof(*k));
	k->pid = r->pid;
	memcpy(k->comm, r->comm, len);
	k->source = r->source;
	k->direction = r->direction;
	k->level = r->level;
	k->code = r->code;
	k->encrypted = r->encrypted;
	k->cgroup_id = r->cgroup_id;
	memcpy(k->sni, r->sni, slen);
}

static __u32 key_hash(const struct agg_row *k)
{
	/* FNV-1a over the key bytes; comm is compared up to its NUL, so hash only that far. */
	__u64 h = 0xcbf29ce484222325ULL;
	const unsigned char *p;
	unsigned char fixed[17];
	size_t i, len;

	fixed[0] = k->pid;
	fixed[1] = k->pid >> 8;
	fixed[2] = k->pid >> 16;
	fixed[3] = k->pid >> 24;
	fixed[4] = k->source;
	fixed[5] = k->direction;
	fixed[6] = k->level;
	fixed[7] = k->code;
	fixed[8] = k->encrypted;
	for (i = 0; i < 8; i++)
		fixed[9 + i] = k->cgroup_id >> (8 * i);
	for (i = 0; i < sizeof(fixed); i++)
		h = (h ^ fixed[i]) * 0x100000001b3ULL;
	p = (const unsigned char *)k->comm;
	len = strnlen(k->comm, sizeof(k->comm));
	for (i = 0; i < len; i++)
		h = (h ^ p[i]) * 0x100000001b3ULL;
	/* A separator, so comm "ab" + sni "c" and comm "a" + sni "bc" hash apart. */
	h = (h ^ 0xff) * 0x100000001b3ULL;
	p = (const unsigned char *)k->sni;
	len = strnlen(k->sni, sizeof(k->sni));
	for (i = 0; i < len; i++)
		h = (h ^ p[i]) * 0x100000001b3ULL;
	return (__u32)(h ^ (h >> 32));
}

static int key_eq(const struct agg_row *a, const struct agg_row *b)
{
	return a->pid == b->pid && a->source == b->source && a->direction == b->direction &&
	       a->level == b->level && a->code == b->code && a->encrypted == b->encrypted &&
	       a->cgroup_id == b->cgroup_id && strncmp(a->comm, b->comm, sizeof(a->comm)) == 0 &&
	       strncmp(a->sni, b->sni, sizeof(a->sni)) == 0;
}

static void index_insert(struct agg_table *t, size_t idx, __u32 hash)
{
	struct agg_slot *s = slots(t);
	size_t mask = nslots(t->cap) - 1, i = hash & mask;

	while (s[i].idx1)
		i = (i + 1) & mask;
	s[i].idx1 = idx + 1;
	s[i].hash = hash;
}

static void index_rebuild(struct agg_table *t)
{
	size_t i;

	memset(slots(t), 0, nslots(t->cap) * sizeof(struct agg_slot));
	for (i = 0; i < t->n; i++)
		index_insert(t, i, key_hash(&t->rows[i]));
}

/* Row index of key k, or -1. Rebuilds the index (once) when it finds it stale. */
static long lookup(struct agg_table *t, const struct agg_row *k, __u32 hash)
{
	struct agg_slot *s;
	size_t mask, i, idx;
	int rebuilt = 0;

	if (!t->cap)
		return -1;
again:
	s = slots(t);
	mask = nslots(t->cap) - 1;
	for (i = hash & mask; s[i].idx1; i = (i + 1) & mask) {
		if (s[i].hash != hash)
			continue;
		idx = s[i].idx1 - 1;
		if (idx < t->n && key_eq(&t->rows[idx], k))
			return idx;
		if (!rebuilt && (idx >= t->n || key_hash(&t->rows[idx]) != hash)) {
			/* The row moved under the index (caller reordered or truncated rows). */
			index_rebuild(t);
			rebuilt = 1;
			goto again;
		}
	}
	return -1;
}

static int grow(struct agg_table *t)
{
	size_t cap = t->cap ? t->cap * 2 : AGG_MIN_CAP;
	struct agg_row *rows;

	if (cap > SIZE_MAX / 2 / (sizeof(struct agg_row) + sizeof(struct agg_slot)) ||
	    cap > UINT32_MAX / 2)
		return -ENOMEM;
	rows = malloc(cap * sizeof(struct agg_row) + nslots(cap) * sizeof(struct agg_slot));
	if (!rows)
		return -ENOMEM;
	if (t->n)
		memcpy(rows, t->rows, t->n * sizeof(struct agg_row));
	free(t->rows);
	t->rows = rows;
	t->cap = cap;
	index_rebuild(t);
	return 0;
}

int agg_add(struct agg_table *t, const struct agg_row *r)
{
	struct agg_row k;
	__u32 hash;
	long idx;
	int err;

	norm_key(&k, r);
	hash = key_hash(&k);
	idx = lookup(t, &k, hash);
	if (idx >= 0) {
		t->rows[idx].count += r->count;
		return 0;
	}
	if (t->n == t->cap) {
		err = grow(t);
		if (err)
			return err;
	}
	k.count = r->count;
	t->rows[t->n] = k;
	index_insert(t, t->n, hash);
	t->n++;
	return 0;
}

__u64 agg_count(struct agg_table *t, const struct agg_row *r)
{
	struct agg_row k;
	long idx;

	norm_key(&k, r);
	idx = lookup(t, &k, key_hash(&k));
	return idx >= 0 ? t->rows[idx].count : 0;
}

void agg_reset(struct agg_table *t)
{
	if (!t)
		return;
	t->n = 0;
	if (t->cap)
		memset(slots(t), 0, nslots(t->cap) * sizeof(struct agg_slot));
}

void agg_free(struct agg_table *t)
{
	if (!t)
		return;
	free(t->rows);
	t->rows = NULL;
	t->n = t->cap = 0;
}
