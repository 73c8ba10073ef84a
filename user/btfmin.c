// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The kernel's BTF cut to what one object's CO-RE relocations read.
 *
 * libbpf relocates each object against the kernel's BTF: it reads /sys/kernel/btf/vmlinux (6 MB,
 * about 150,000 types), parses it and searches it for each relocation's candidates, once per
 * object. With six objects that was most of the start's CPU time (bench/bench_startup.sh).
 * Here the kernel's BTF is parsed once and indexed by name; for each object the relocations of
 * its .BTF.ext are walked the way libbpf matches them (the root type by its name less any
 * "___flavour" and by its kind, then the access path's members by name, through the target's
 * anonymous members; array indices) and only what the walks touch is kept:
 *   - every candidate root type (a struct keeps its name and size);
 *   - the members on the paths, with their bit offsets and bitfield sizes;
 *   - each kept member's type as far as libbpf's checks look: integers, enums and floats whole,
 *     typedefs and modifiers as they are, arrays with their element type, a struct or union
 *     with its name and size (and the members other paths keep), a pointer as void * (libbpf
 *     never compares what a field's pointer points to).
 * An enum relocation keeps its enums whole. The result is handed to libbpf as btf_custom_path
 * (a memfd, btfmin_open.c): libbpf then relocates against it and does not load the kernel's BTF.
 * (A program whose attach point libbpf looks up in the kernel's BTF, such as sock's
 * tp_btf/sys_exit, still makes libbpf read it, for that alone: user/wire/accept.c loads that one
 * only where it is attached.) Relocations by type (bpf_core_type_exists() and the like compare
 * whole types), a root that no type of the kernel names (libbpf would look in the modules' BTF)
 * or an object this cannot read: no cut, libbpf uses the kernel's BTF, as before.
 * ALERTTRACE_BTF=kernel turns it off.
 * tests/test_btfmin.c loads each object both ways and compares libbpf's relocation decisions.
 *
 * The .BTF.ext layout: the kernel's Documentation/bpf/btf.rst ("BTF Ext Section") and
 * include/uapi/linux/bpf.h (struct bpf_core_relo, enum bpf_core_relo_kind).
 */
#include <errno.h>
#include <gelf.h>
#include <libelf.h>
#include <linux/bpf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "btfmin.h"
#include "btfmin_local.h"

/* .BTF.ext's header, up to the CO-RE relocations' part (Documentation/bpf/btf.rst). */
struct ext_hdr {
	__u16 magic;
	__u8 version;
	__u8 flags;
	__u32 hdr_len;
	__u32 func_info_off, func_info_len;
	__u32 line_info_off, line_info_len;
	__u32 core_relo_off, core_relo_len;
};

#define BTF_MAGIC_LE 0xeB9F
#define ACCESS_MAX 64

/* The cut being made: for each kernel type its id in the result (0: not kept) and, for a
 * struct or union, which members are kept. */
struct cut {
	const struct btf *k;
	__u32 n; /* kernel type count */
	__u32 *newid;
	__u32 *order; /* order[i]: the kernel type of result id i */
	__u32 kept;
	__u8 **members; /* members[id][j]: member j kept */
};

static size_t essential_len(const char *name)
{
	const char *f = strstr(name, "___");

	return f ? (size_t)(f - name) : strlen(name);
}

static __u32 name_hash(const char *s, size_t len)
{
	__u32 h = 2166136261u;

	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)s[i]) * 16777619u;
	return h;
}

void kindex_free(struct kindex *ix)
{
	free(ix->slot);
	ix->slot = NULL;
}

int kindex_build(struct kindex *ix, const struct btf *k)
{
	__u32 n = btf__type_cnt(k), cap = 1024;

	while (cap < 2 * n)
		cap <<= 1;
	ix->btf = k;
	ix->mask = cap - 1;
	ix->slot = calloc(cap, sizeof(*ix->slot));
	if (!ix->slot)
		return -ENOMEM;
	for (__u32 id = 1; id < n; id++) {
		const struct btf_type *t = btf__type_by_id(k, id);
		const char *name;
		size_t len;
		__u32 h;

		/* the kinds a root of a field or enum relocation can have; not functions,
		 * variables, integers (three quarters of the named types) */
		if (!btf_is_composite(t) && !btf_is_any_enum(t) && !btf_is_typedef(t))
			continue;
		name = btf__name_by_offset(k, t->name_off);
		len = name ? essential_len(name) : 0;
		if (!len)
			continue;
		for (h = name_hash(name, len) & ix->mask; ix->slot[h]; h = (h + 1) & ix->mask)
			;
		ix->slot[h] = id;
	}
	return 0;
}

static const struct btf_type *skip_mods(const struct btf *b, __u32 id, __u32 *res)
{
	const struct btf_type *t = btf__type_by_id(b, id);

	while (t && (btf_is_mod(t) || btf_is_typedef(t))) {
		id = t->type;
		t = btf__type_by_id(b, id);
	}
	if (res)
		*res = id;
	return t;
}

/* Keep kernel type id and what its kind needs (the file's comment); members come by paths. */
static int keep(struct cut *c, __u32 id)
{
	const struct btf_type *t;

	while (id && !c->newid[id]) {
		t = btf__type_by_id(c->k, id);
		if (!t)
			return -EINVAL;
		c->newid[id] = ++c->kept;
		c->order[c->kept] = id;
		switch (btf_kind(t)) {
		case BTF_KIND_INT:
		case BTF_KIND_ENUM:
		case BTF_KIND_ENUM64:
		case BTF_KIND_FLOAT:
		case BTF_KIND_FWD:
		case BTF_KIND_PTR:
			return 0;
		case BTF_KIND_STRUCT:
		case BTF_KIND_UNION:
			c->members[id] = calloc(btf_vlen(t) + 1, 1);
			return c->members[id] ? 0 : -ENOMEM;
		case BTF_KIND_ARRAY: {
			int err = keep(c, btf_array(t)->index_type);

			if (err)
				return err;
			id = btf_array(t)->type;
			break;
		}
		case BTF_KIND_TYPEDEF:
		case BTF_KIND_VOLATILE:
		case BTF_KIND_CONST:
		case BTF_KIND_RESTRICT:
		case BTF_KIND_TYPE_TAG:
			id = t->type;
			break;
		default:
			return -ENOTSUP;
		}
	}
	return 0;
}

/*
 * Member name of composite kernel type id, searched the way libbpf does: its own members, then
 * inside its anonymous struct and union members. Found: every member of the way kept, *out the
 * found member's type, 1. Not found: 0.
 */
static int keep_member(struct cut *c, __u32 id, const char *name, __u32 *out, int depth)
{
	const struct btf_type *t = btf__type_by_id(c->k, id);
	const struct btf_member *m = btf_members(t);
	int err;

	if (depth > 32)
		return 0;
	for (__u16 j = 0; j < btf_vlen(t); j++, m++) {
		const char *mn = btf__name_by_offset(c->k, m->name_off);
		const struct btf_type *mt;
		__u32 mid;

		if (mn && *mn) {
			if (strcmp(mn, name))
				continue;
		} else {
			mt = skip_mods(c->k, m->type, &mid);
			if (!mt || !btf_is_composite(mt))
				continue;
			err = keep(c, m->type);
			if (err)
				return err;
			err = keep_member(c, mid, name, out, depth + 1);
			if (err <= 0) {
				if (err)
					return err;
				continue;
			}
		}
		err = keep(c, m->type);
		if (err)
			return err;
		c->members[id][j] = 1;
		if (mn && *mn)
			*out = m->type;
		return 1;
	}
	return 0;
}

/* Walk one field relocation's access path (local root lid, indices acc[1..nacc)) in kernel
 * candidate kid, keeping what it touches; a path the candidate lacks ends the walk. */
static int walk_field(struct cut *c, const struct btf *local, __u32 lid, __u32 kid,
		      const __u32 *acc, int nacc)
{
	const struct btf_type *lt = skip_mods(local, lid, NULL), *kt = skip_mods(c->k, kid, &kid);
	int err;

	for (int i = 1; i < nacc; i++) {
		if (!lt || !kt)
			return 0;
		if (btf_is_composite(lt)) {
			const struct btf_member *m;
			const char *name;
			__u32 next;

			if (acc[i] >= btf_vlen(lt))
				return -EINVAL;
			m = btf_members(lt) + acc[i];
			name = btf__name_by_offset(local, m->name_off);
			lt = skip_mods(local, m->type, NULL);
			if (!name || !*name)
				continue; /* libbpf matches the next named member instead */
			if (!btf_is_composite(kt))
				return 0;
			err = keep_member(c, kid, name, &next, 0);
			if (err <= 0)
				return err;
			kt = skip_mods(c->k, next, &kid);
		} else if (btf_is_array(lt)) {
			if (!btf_is_array(kt))
				return 0;
			lt = skip_mods(local, btf_array(lt)->type, NULL);
			kt = skip_mods(c->k, btf_array(kt)->type, &kid);
		} else {
			return -EINVAL;
		}
	}
	return 0;
}

static int parse_access(const char *s, __u32 *acc)
{
	int n = 0;

	while (s && *s) {
		char *end;
		unsigned long v = strtoul(s, &end, 10);

		if (end == s || n == ACCESS_MAX || v > UINT32_MAX)
			return -EINVAL;
		acc[n++] = v;
		if (*end != ':' && *end)
			return -EINVAL;
		s = *end ? end + 1 : end;
	}
	return n;
}

/* One relocation: its candidates among the kernel's types, each walked. */
static int cut_relo(struct cut *c, const struct kindex *ix, const struct btf *local,
		    const struct bpf_core_relo *r, char *why, size_t whylen)
{
	const struct btf_type *lt = btf__type_by_id(local, r->type_id);
	const char *name = lt ? btf__name_by_offset(local, lt->name_off) : NULL;
	__u32 acc[ACCESS_MAX], h;
	size_t len;
	int nacc, ncand = 0, err;

	if (r->kind == BPF_CORE_TYPE_ID_LOCAL)
		return 0;
	if (!ix)
		return -EAGAIN; /* the caller reads the kernel's BTF and asks again */
	if (r->kind > BPF_CORE_FIELD_RSHIFT_U64 && r->kind != BPF_CORE_ENUMVAL_EXISTS &&
	    r->kind != BPF_CORE_ENUMVAL_VALUE) {
		snprintf(why, whylen, "relocation kind %u (by type) is not cut", r->kind);
		return -ENOTSUP;
	}
	nacc = parse_access(btf__name_by_offset(local, r->access_str_off), acc);
	len = name ? essential_len(name) : 0;
	if (!lt || nacc < 1 || !len) {
		snprintf(why, whylen, "a relocation of type %u cannot be read", r->type_id);
		return -EINVAL;
	}
	for (h = name_hash(name, len) & ix->mask; ix->slot[h]; h = (h + 1) & ix->mask) {
		__u32 kid = ix->slot[h];
		const struct btf_type *kt = btf__type_by_id(c->k, kid);
		const char *kn = btf__name_by_offset(c->k, kt->name_off);

		if (!btf_kind_core_compat(lt, kt) || essential_len(kn) != len ||
		    strncmp(kn, name, len))
			continue;
		ncand++;
		err = keep(c, kid);
		if (!err && r->kind <= BPF_CORE_FIELD_RSHIFT_U64)
			err = walk_field(c, local, r->type_id, kid, acc, nacc);
		if (err) {
			snprintf(why, whylen, "%.*s: %s", (int)len, name, strerror(-err));
			return err;
		}
	}
	if (!ncand) {
		snprintf(why, whylen, "no type of the kernel's BTF is named %.*s", (int)len, name);
		return -ENOENT;
	}
	return 0;
}

/* The kept types, in the order keep() numbered them, into a new BTF. */
static struct btf *cut_emit(const struct cut *c)
{
	struct btf *b = btf__new_empty();
	int id = 0;

	if (!b)
		return NULL;
	for (__u32 i = 1; i <= c->kept; i++) {
		const struct btf_type *t = btf__type_by_id(c->k, c->order[i]);
		const char *name = btf__name_by_offset(c->k, t->name_off);
		const char *n = name && *name ? name : NULL;

		switch (btf_kind(t)) {
		case BTF_KIND_PTR:
			id = btf__add_ptr(b, 0);
			break;
		case BTF_KIND_ARRAY:
			id = btf__add_array(b, c->newid[btf_array(t)->index_type],
					    c->newid[btf_array(t)->type], btf_array(t)->nelems);
			break;
		case BTF_KIND_TYPEDEF:
			id = btf__add_typedef(b, name, c->newid[t->type]);
			break;
		case BTF_KIND_VOLATILE:
			id = btf__add_volatile(b, c->newid[t->type]);
			break;
		case BTF_KIND_CONST:
			id = btf__add_const(b, c->newid[t->type]);
			break;
		case BTF_KIND_RESTRICT:
			id = btf__add_restrict(b, c->newid[t->type]);
			break;
		case BTF_KIND_TYPE_TAG:
			id = btf__add_type_tag(b, name, c->newid[t->type]);
			break;
		case BTF_KIND_STRUCT:
		case BTF_KIND_UNION: {
			const struct btf_member *m = btf_members(t);

			id = btf_is_struct(t) ? btf__add_struct(b, n, t->size)
					      : btf__add_union(b, n, t->size);
			for (__u16 j = 0; id > 0 && j < btf_vlen(t); j++, m++) {
				const char *mn = btf__name_by_offset(c->k, m->name_off);
				int e;

				if (!c->members[c->order[i]][j])
					continue;
				e = btf__add_field(b, mn && *mn ? mn : NULL, c->newid[m->type],
						   btf_member_bit_offset(t, j),
						   btf_member_bitfield_size(t, j));
				if (e)
					id = e;
			}
			break;
		}
		default: /* integers, enums, floats, forward declarations: whole */
			id = btf__add_type(b, c->k, t);
			break;
		}
		if (id != (int)i) {
			btf__free(b);
			errno = id < 0 ? -id : EINVAL;
			return NULL;
		}
	}
	return b;
}

/* The section called name of the ELF e: its data, or NULL. */
static Elf_Data *elf_section(Elf *e, const char *name)
{
	size_t shstrndx;
	Elf_Scn *s = NULL;
	GElf_Shdr sh;

	if (elf_getshdrstrndx(e, &shstrndx))
		return NULL;
	while ((s = elf_nextscn(e, s))) {
		const char *n;

		if (!gelf_getshdr(s, &sh) || !(n = elf_strptr(e, shstrndx, sh.sh_name)))
			continue;
		if (!strcmp(n, name))
			return elf_getdata(s, NULL);
	}
	return NULL;
}

static struct btf *cut_build(const struct kindex *ix, const struct btf *local, const void *ext,
			     size_t extlen, int *nrelo, char *why, size_t whylen)
{
	const struct ext_hdr *h = ext;
	struct cut c = {.k = ix ? ix->btf : NULL, .n = ix ? btf__type_cnt(ix->btf) : 1};
	const __u8 *p, *end;
	struct btf *out = NULL;
	__u32 rec;
	int err = 0;

	*nrelo = 0;
	if (extlen < offsetof(struct ext_hdr, core_relo_off) || h->magic != BTF_MAGIC_LE ||
	    h->hdr_len > extlen) {
		snprintf(why, whylen, "its .BTF.ext cannot be read");
		errno = EINVAL;
		return NULL;
	}
	c.newid = calloc(c.n, sizeof(*c.newid));
	c.order = calloc(c.n + 1, sizeof(*c.order));
	c.members = calloc(c.n, sizeof(*c.members));
	if (!c.newid || !c.order || !c.members) {
		err = -ENOMEM;
		goto cleanup;
	}
	/* pointers' size for libbpf: the kernel's unsigned long, when it has one */
	if (ix) {
		__s32 ul = btf__find_by_name_kind(ix->btf, "long unsigned int", BTF_KIND_INT);

		err = keep(&c, ul > 0 ? ul : 0);
	}
	if (h->hdr_len >= sizeof(*h) && h->core_relo_len) {
		p = (const __u8 *)ext + h->hdr_len + h->core_relo_off;
		end = p + h->core_relo_len;
		if ((size_t)(end - (const __u8 *)ext) > extlen || end - p < 4) {
			err = -EINVAL;
			snprintf(why, whylen, "its CO-RE relocations cannot be read");
			goto cleanup;
		}
		memcpy(&rec, p, 4);
		p += 4;
		if (rec < sizeof(struct bpf_core_relo)) {
			err = -EINVAL;
			snprintf(why, whylen, "its CO-RE relocations cannot be read");
			goto cleanup;
		}
		while (!err && end - p >= 8) {
			__u32 num;

			memcpy(&num, p + 4, 4);
			p += 8;
			if ((__u64)num * rec > (__u64)(end - p)) {
				err = -EINVAL;
				snprintf(why, whylen, "its CO-RE relocations cannot be read");
				break;
			}
			for (__u32 i = 0; !err && i < num; i++, p += rec) {
				struct bpf_core_relo r;

				memcpy(&r, p, sizeof(r));
				err = cut_relo(&c, ix, local, &r, why, whylen);
				(*nrelo)++;
			}
		}
	}
	if (!err) {
		out = cut_emit(&c);
		if (!out) {
			err = -errno;
			snprintf(why, whylen, "cannot write the cut BTF: %s", strerror(errno));
		}
	}
cleanup:
	for (__u32 i = 0; c.members && i < c.n; i++)
		free(c.members[i]);
	free(c.members);
	free(c.newid);
	free(c.order);
	if (err)
		errno = -err;
	return out;
}

struct btf *btfmin_cut(const struct kindex *ix, const void *elf, size_t size, int *nrelo,
		       char *why, size_t whylen)
{
	struct btf *local = NULL, *out = NULL;
	Elf_Data *bd, *ed;
	Elf *e;

	*nrelo = 0;
	elf_version(EV_CURRENT);
	e = elf_memory((char *)elf, size);
	if (!e || elf_kind(e) != ELF_K_ELF) {
		if (e)
			elf_end(e);
		snprintf(why, whylen, "not an ELF object");
		errno = EINVAL;
		return NULL;
	}
	bd = elf_section(e, ".BTF");
	ed = elf_section(e, ".BTF.ext");
	if (!bd || !ed || !bd->d_buf || !ed->d_buf) {
		snprintf(why, whylen, "no .BTF or .BTF.ext");
		errno = ENOENT;
		goto cleanup;
	}
	local = btf__new(bd->d_buf, bd->d_size);
	if (!local) {
		snprintf(why, whylen, "its .BTF cannot be read: %s", strerror(errno));
		goto cleanup;
	}
	out = cut_build(ix, local, ed->d_buf, ed->d_size, nrelo, why, whylen);
cleanup:
	btf__free(local);
	elf_end(e);
	return out;
}

struct btf *btfmin_build(const struct btf *kernel, const void *elf, size_t size, int *nrelo,
			 char *why, size_t whylen)
{
	struct kindex ix = {};
	struct btf *out;
	int err = kindex_build(&ix, kernel);

	*nrelo = 0;
	if (err) {
		errno = -err;
		snprintf(why, whylen, "%s", strerror(-err));
		return NULL;
	}
	out = btfmin_cut(&ix, elf, size, nrelo, why, whylen);
	err = errno;
	kindex_free(&ix);
	errno = err;
	return out;
}
