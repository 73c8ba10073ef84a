// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Hook discovery for OpenSSL (issue 3): from one libssl file (or a binary linking it statically)
 * compute the alert hooks. See ossl_hooks.h for the contract and
 * shared/notes/openssl-hooks.md for the facts this relies on.
 *
 * Method, in short:
 *  1. ELF (libelf) with our own bounds checks: program headers, symbols, R_X86_64_RELATIVE
 *     relocations, .eh_frame FDEs (parsed here, every read bounds-checked), build-id, version.
 *  2. Functions: by name from .symtab/.dynsym when present; otherwise from the SSL_METHOD tables
 *     behind TLS_method()/DTLS_method() (ssl/methods.c), slot layout confirmed from the code of
 *     ssl3_shutdown (it calls through the table at the read_bytes and dispatch_alert slots).
 *  3. A small abstract interpreter over capstone's decoding of one function at a time: values are
 *     hash-consed symbolic expressions (entry register, constant, base+disp, load [base+disp],
 *     opaque result of one instruction, merge at a block), propagated over the function's CFG to a
 *     fixpoint. It reads off the SSL field offsets (the msg_callback(1, v, 21, send_alert, 2, s)
 *     call in the dispatch functions, SSL_version, SSL_get_ssl_method, ssl3_shutdown) and finds the
 *     receive probe: the msg_callback(0, v, 21, alert_bytes, 2, s) call in ssl3_read_bytes, the
 * test of s->msg_callback that guards it, and the registers that hold alert_bytes and s there. The
 * choice is then re-checked syntactically: no instruction between the probe and the call writes
 * either register, and both branches of the guard rejoin after the call.
 */
#include "ossl_hooks.h"

#include <asm/ptrace.h>
#include <capstone/capstone.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_FILE_SIZE (512u << 20) /* refuse anything larger: no libssl comes close */
#define MAX_FN_SIZE (64u << 10)	   /* bound on one function's disassembly */
#define SSL3_RT_ALERT 21
#define TLS_ANY_VERSION 0x10000
#define DTLS_ANY_VERSION 0x1ffff

#define R_X86_64_64_ 1
#define R_X86_64_RELATIVE_ 8

/* SSL_METHOD slot offsets (ssl/ssl_local.h, struct ssl_method_st). */
struct mlayout {
	int id;
	int shutdown, read_bytes, dispatch;
};
static const struct mlayout layouts[] = {
    {111, 0x50, 0x68, 0x78}, /* 1.1.1, 3.0, 3.1 */
    {320, 0x68, 0x80, 0x90}, /* 3.2 and later */
};

/* ------------------------------------------------------------------------------------------ */
/* Small helpers */

static void setwhy(char *dst, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void setwhy(char *dst, size_t n, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(dst, n, fmt, ap);
	va_end(ap);
}
#define WHY(p, ...) setwhy((p)->why, sizeof((p)->why), __VA_ARGS__)

/* Canonical general-purpose registers, in x86 encoding order. */
enum { RAX, RCX, RDX, RBX, RSP, RBP, RSI, RDI, R8, R9, R10, R11, R12, R13, R14, R15, NGPR };
#define RIP_ 16
static const char *const gpr_name[NGPR] = {"rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
					   "r8",  "r9",	 "r10", "r11", "r12", "r13", "r14", "r15"};
/* Index in struct pt_regs in 8-byte words, from the UAPI header itself. */
#define PTI(f) ((int)(offsetof(struct pt_regs, f) / sizeof(unsigned long)))
static const int gpr_ptregs[NGPR] = {PTI(rax), PTI(rcx), PTI(rdx), PTI(rbx), PTI(rsp), PTI(rbp),
				     PTI(rsi), PTI(rdi), PTI(r8),  PTI(r9),  PTI(r10), PTI(r11),
				     PTI(r12), PTI(r13), PTI(r14), PTI(r15)};
#define CALLER_SAVED                                                                               \
	((1u << RAX) | (1u << RCX) | (1u << RDX) | (1u << RSI) | (1u << RDI) | (1u << R8) |        \
	 (1u << R9) | (1u << R10) | (1u << R11))

/* Capstone register -> canonical GPR (or RIP_), width in bytes; -1 when not a GPR. */
static int gpr_of(x86_reg r, int *width)
{
	static const struct {
		x86_reg r[5]; /* 64, 32, 16, 8-bit low, 8-bit high */
	} t[NGPR] = {
	    [RAX] = {{X86_REG_RAX, X86_REG_EAX, X86_REG_AX, X86_REG_AL, X86_REG_AH}},
	    [RCX] = {{X86_REG_RCX, X86_REG_ECX, X86_REG_CX, X86_REG_CL, X86_REG_CH}},
	    [RDX] = {{X86_REG_RDX, X86_REG_EDX, X86_REG_DX, X86_REG_DL, X86_REG_DH}},
	    [RBX] = {{X86_REG_RBX, X86_REG_EBX, X86_REG_BX, X86_REG_BL, X86_REG_BH}},
	    [RSP] = {{X86_REG_RSP, X86_REG_ESP, X86_REG_SP, X86_REG_SPL}},
	    [RBP] = {{X86_REG_RBP, X86_REG_EBP, X86_REG_BP, X86_REG_BPL}},
	    [RSI] = {{X86_REG_RSI, X86_REG_ESI, X86_REG_SI, X86_REG_SIL}},
	    [RDI] = {{X86_REG_RDI, X86_REG_EDI, X86_REG_DI, X86_REG_DIL}},
	};
	static const int w_of[5] = {8, 4, 2, 1, 1};
	int w = 8, g = -1;

	if (r == X86_REG_RIP) {
		g = RIP_;
	} else if (r >= X86_REG_R8 && r <= X86_REG_R15) {
		g = R8 + (r - X86_REG_R8);
	} else if (r >= X86_REG_R8D && r <= X86_REG_R15D) {
		g = R8 + (r - X86_REG_R8D);
		w = 4;
	} else if (r >= X86_REG_R8W && r <= X86_REG_R15W) {
		g = R8 + (r - X86_REG_R8W);
		w = 2;
	} else if (r >= X86_REG_R8B && r <= X86_REG_R15B) {
		g = R8 + (r - X86_REG_R8B);
		w = 1;
	} else {
		for (int i = 0; i < R8 && g < 0; i++)
			for (int k = 0; k < 5; k++)
				if (t[i].r[k] != X86_REG_INVALID && t[i].r[k] == r) {
					g = i;
					w = w_of[k];
					break;
				}
	}
	if (g >= 0 && width)
		*width = w;
	return g;
}

/* ------------------------------------------------------------------------------------------ */
/* The file */

struct fde {
	uint64_t start, end;
};

struct rela {
	uint64_t off;
	uint64_t val; /* resolved target */
};

enum {
	S_TLS_method,
	S_DTLS_method,
	S_SSL_CTX_new,
	S_SSL_version,
	S_SSL_get_ssl_method,
	S_SSL_get_shutdown,
	S_ssl3_dispatch_alert,
	S_dtls1_dispatch_alert,
	S_ssl3_read_bytes,
	S_dtls1_read_bytes,
	S_ssl3_shutdown,
	S_ERR_vset_error,
	S_ERR_put_error,
	NSYM
};
static const char *const sym_names[NSYM] = {
    "TLS_method",	  "DTLS_method",      "SSL_CTX_new",	     "SSL_version",
    "SSL_get_ssl_method", "SSL_get_shutdown", "ssl3_dispatch_alert", "dtls1_dispatch_alert",
    "ssl3_read_bytes",	  "dtls1_read_bytes", "ssl3_shutdown",	     "ERR_vset_error",
    "ERR_put_error",
};

struct fsym {
	uint64_t value, size;
	int found; /* 1: .dynsym, 2: .symtab */
};

struct efile {
	const char *path;
	uint8_t *buf;
	size_t size;
	Elf *elf;
	GElf_Ehdr eh;
	GElf_Phdr *ph;
	size_t nph;
	struct fsym sym[NSYM];
	struct fde *fde;
	size_t nfde;
	struct rela *rel;
	size_t nrel, relcap;
	int new_verdef; /* defines OPENSSL_3.2.0 or a later version node */
	char build_id[41];
	char version[96];
	char needed_crypto[128]; /* DT_NEEDED libcrypto.so.* */
	char runpath[512];	 /* DT_RUNPATH, else DT_RPATH */
	char why[200];
};

static int range_ok(size_t size, uint64_t off, uint64_t len)
{
	return off <= size && len <= size - off;
}

static int read_file(struct efile *f, const char *path)
{
	struct stat st;
	ssize_t n;
	size_t got = 0;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		setwhy(f->why, sizeof(f->why), "cannot open: %s", strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		setwhy(f->why, sizeof(f->why), "not a regular file");
		close(fd);
		return -1;
	}
	if (st.st_size == 0 || (uint64_t)st.st_size > MAX_FILE_SIZE) {
		setwhy(f->why, sizeof(f->why), st.st_size ? "file too large" : "empty file");
		close(fd);
		return -1;
	}
	f->buf = malloc(st.st_size);
	if (!f->buf) {
		setwhy(f->why, sizeof(f->why), "out of memory");
		close(fd);
		return -1;
	}
	while (got < (size_t)st.st_size) {
		n = read(fd, f->buf + got, st.st_size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += n;
	}
	close(fd);
	f->size = got; /* a file that shrank under us is just a shorter file */
	if (!got) {
		setwhy(f->why, sizeof(f->why), "empty file");
		return -1;
	}
	return 0;
}

/* vaddr -> file offset through PT_LOAD; len bytes must be backed by the file. */
static int va2off(const struct efile *f, uint64_t va, uint64_t len, uint64_t *off, int need_exec)
{
	for (size_t i = 0; i < f->nph; i++) {
		const GElf_Phdr *p = &f->ph[i];

		if (p->p_type != PT_LOAD)
			continue;
		if (need_exec && !(p->p_flags & PF_X))
			continue;
		if (va < p->p_vaddr || va - p->p_vaddr >= p->p_filesz)
			continue;
		if (len > p->p_filesz - (va - p->p_vaddr))
			continue;
		if (!range_ok(f->size, p->p_offset + (va - p->p_vaddr), len))
			return -1;
		*off = p->p_offset + (va - p->p_vaddr);
		return 0;
	}
	return -1;
}

static const uint8_t *va_ptr(const struct efile *f, uint64_t va, uint64_t len, int need_exec)
{
	uint64_t off;

	if (va2off(f, va, len, &off, need_exec))
		return NULL;
	return f->buf + off;
}

/* Section data of sh, only when it lies inside the file. */
static Elf_Data *sec_data(const struct efile *f, Elf_Scn *scn, const GElf_Shdr *sh)
{
	if (sh->sh_type == SHT_NOBITS || !range_ok(f->size, sh->sh_offset, sh->sh_size))
		return NULL;
	return elf_getdata(scn, NULL);
}

static int fde_cmp(const void *a, const void *b)
{
	const struct fde *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

static int rela_cmp(const void *a, const void *b)
{
	const struct rela *x = a, *y = b;

	return x->off < y->off ? -1 : x->off > y->off;
}

/* FDE that starts exactly at va, NULL otherwise. */
static const struct fde *fde_at(const struct efile *f, uint64_t va)
{
	size_t lo = 0, hi = f->nfde;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (f->fde[mid].start < va)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < f->nfde && f->fde[lo].start == va ? &f->fde[lo] : NULL;
}

/* FDE containing va. */
static const struct fde *fde_containing(const struct efile *f, uint64_t va)
{
	size_t lo = 0, hi = f->nfde;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (f->fde[mid].start <= va)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0)
		return NULL;
	return va < f->fde[lo - 1].end ? &f->fde[lo - 1] : NULL;
}

/* ---- .eh_frame (LSB Core, "Exception Frames"), every read bounds-checked ---- */

struct rd {
	const uint8_t *p;
	size_t n, i;
	int bad;
};

static uint64_t rd_u(struct rd *r, int n)
{
	uint64_t v = 0;

	if (r->bad || n > 8 || r->i + n > r->n) {
		r->bad = 1;
		return 0;
	}
	for (int k = 0; k < n; k++)
		v |= (uint64_t)r->p[r->i + k] << (8 * k);
	r->i += n;
	return v;
}

static uint64_t rd_uleb(struct rd *r)
{
	uint64_t v = 0;
	int sh = 0;

	while (!r->bad) {
		uint8_t b = (uint8_t)rd_u(r, 1);

		if (sh < 64)
			v |= (uint64_t)(b & 0x7f) << sh;
		sh += 7;
		if (!(b & 0x80))
			break;
		if (sh > 70)
			r->bad = 1;
	}
	return v;
}

static int64_t rd_sleb(struct rd *r)
{
	uint64_t v = 0;
	int sh = 0;
	uint8_t b = 0;

	while (!r->bad) {
		b = (uint8_t)rd_u(r, 1);
		if (sh < 64)
			v |= (uint64_t)(b & 0x7f) << sh;
		sh += 7;
		if (!(b & 0x80))
			break;
		if (sh > 70)
			r->bad = 1;
	}
	if (sh < 64 && (b & 0x40))
		v |= ~0ull << sh;
	return (int64_t)v;
}

/* DW_EH_PE_* pointer; base is the vaddr of the field for pcrel. */
static uint64_t rd_enc(struct rd *r, uint8_t enc, uint64_t field_va, int apply_rel)
{
	uint64_t v;

	switch (enc & 0x0f) {
	case 0x00:
		v = rd_u(r, 8);
		break;
	case 0x01:
		v = rd_uleb(r);
		break;
	case 0x02:
		v = rd_u(r, 2);
		break;
	case 0x03:
		v = rd_u(r, 4);
		break;
	case 0x04:
		v = rd_u(r, 8);
		break;
	case 0x09:
		v = (uint64_t)rd_sleb(r);
		break;
	case 0x0a:
		v = (uint64_t)(int64_t)(int16_t)rd_u(r, 2);
		break;
	case 0x0b:
		v = (uint64_t)(int64_t)(int32_t)rd_u(r, 4);
		break;
	case 0x0c:
		v = rd_u(r, 8);
		break;
	default:
		r->bad = 1;
		return 0;
	}
	if (!apply_rel)
		return v;
	switch (enc & 0x70) {
	case 0x00:
		return v;
	case 0x10:
		return v + field_va;
	default:
		r->bad = 1;
		return 0; /* textrel/datarel/funcrel: not used by GCC/clang here */
	}
}

struct cie {
	size_t off;
	uint8_t fde_enc;
	int has_z;
};

static int parse_eh_frame(struct efile *f, const uint8_t *p, size_t n, uint64_t va)
{
	struct cie cies[64];
	size_t ncie = 0, cap = 0;
	size_t pos = 0;

	while (pos + 4 <= n) {
		struct rd r = {p, n, pos, 0};
		uint64_t len = rd_u(&r, 4), id_pos, end;
		uint32_t id;

		if (len == 0)
			break; /* terminator */
		if (len == 0xffffffffu)
			len = rd_u(&r, 8);
		if (r.bad || len > n - r.i)
			return -1;
		end = r.i + len;
		id_pos = r.i;
		id = (uint32_t)rd_u(&r, 4);
		if (id == 0) {
			/* CIE */
			struct cie c = {pos, 0, 0};
			uint8_t ver = (uint8_t)rd_u(&r, 1);
			char aug[16];
			size_t k = 0;

			while (!r.bad) {
				uint8_t ch = (uint8_t)rd_u(&r, 1);

				if (!ch)
					break;
				if (k < sizeof(aug) - 1)
					aug[k++] = (char)ch;
			}
			aug[k] = 0;
			if (strstr(aug, "eh"))
				rd_u(&r, 8);
			rd_uleb(&r); /* code alignment */
			rd_sleb(&r); /* data alignment */
			if (ver == 1)
				rd_u(&r, 1);
			else
				rd_uleb(&r); /* return address register */
			if (aug[0] == 'z') {
				uint64_t alen = rd_uleb(&r);
				size_t aend = r.i + alen;

				c.has_z = 1;
				if (alen > end - r.i)
					return -1;
				for (size_t j = 1; aug[j] && !r.bad && r.i <= aend; j++) {
					if (aug[j] == 'R') {
						c.fde_enc = (uint8_t)rd_u(&r, 1);
					} else if (aug[j] == 'L') {
						rd_u(&r, 1);
					} else if (aug[j] == 'P') {
						uint8_t pe = (uint8_t)rd_u(&r, 1);

						rd_enc(&r, pe, va + r.i, 0);
					} else if (aug[j] != 'S' && aug[j] != 'B') {
						break;
					}
				}
			}
			if (r.bad)
				return -1;
			if (ncie < sizeof(cies) / sizeof(cies[0]))
				cies[ncie++] = c;
		} else {
			/* FDE: id is the distance back to its CIE from id_pos */
			size_t cie_off;
			const struct cie *c = NULL;
			uint64_t start, range;

			if (id > id_pos)
				return -1;
			cie_off = id_pos - id;
			for (size_t j = 0; j < ncie; j++)
				if (cies[j].off == cie_off)
					c = &cies[j];
			if (!c)
				return -1;
			start = rd_enc(&r, c->fde_enc, va + r.i, 1);
			range = rd_enc(&r, c->fde_enc & 0x0f, 0, 0);
			if (r.bad || r.i > end)
				return -1;
			if (range && start + range > start) {
				if (f->nfde == cap) {
					size_t nc = cap ? cap * 2 : 1024;
					struct fde *nf = realloc(f->fde, nc * sizeof(*nf));

					if (!nf)
						return -1;
					f->fde = nf;
					cap = nc;
				}
				f->fde[f->nfde].start = start;
				f->fde[f->nfde].end = start + range;
				f->nfde++;
			}
		}
		pos = end;
	}
	return 0;
}

/* "OpenSSL 3.0.19 27 Jan 2026", "OpenSSL 1.1.1w  11 Sep 2023": OPENSSL_VERSION_TEXT. */
static int version_like(const char *s, size_t n)
{
	size_t i = 8, dots = 0;

	if (n < 20 || n > 90 || strncmp(s, "OpenSSL ", 8) || s[8] < '0' || s[8] > '9')
		return 0;
	for (; i < n && s[i] != ' '; i++) {
		if (s[i] == '.')
			dots++;
		else if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'z') ||
			   s[i] == '-'))
			return 0;
	}
	if (dots < 2)
		return 0;
	/* ends with a 4-digit year */
	for (int k = 1; k <= 4; k++)
		if (s[n - k] < '0' || s[n - k] > '9')
			return 0;
	return s[n - 5] == ' ';
}

static void find_version(struct efile *f, const uint8_t *p, size_t n)
{
	const uint8_t *q = p, *end = p + n;

	while (!f->version[0] && q < end) {
		const uint8_t *h = memmem(q, end - q, "OpenSSL ", 8);
		size_t len;

		if (!h)
			break;
		len = strnlen((const char *)h, end - h);
		if (h + len < end && (h == p || h[-1] == 0) && version_like((const char *)h, len) &&
		    len < sizeof(f->version))
			memcpy(f->version, h, len + 1);
		q = h + 1;
	}
}

static void scan_syms(struct efile *f, Elf_Scn *scn, const GElf_Shdr *sh, int kind)
{
	Elf_Data *d = sec_data(f, scn, sh);
	size_t n;

	if (!d || !sh->sh_entsize)
		return;
	n = d->d_size / sizeof(Elf64_Sym);
	for (size_t i = 1; i < n; i++) {
		GElf_Sym s;
		const char *name;

		if (!gelf_getsym(d, (int)i, &s) || s.st_shndx == SHN_UNDEF || !s.st_name)
			continue;
		if (GELF_ST_TYPE(s.st_info) != STT_FUNC)
			continue;
		name = elf_strptr(f->elf, sh->sh_link, s.st_name);
		if (!name)
			continue;
		for (int k = 0; k < NSYM; k++) {
			if (strcmp(name, sym_names[k]))
				continue;
			/* prefer a global definition; .symtab and .dynsym agree on values */
			if (!f->sym[k].found || GELF_ST_BIND(s.st_info) == STB_GLOBAL) {
				f->sym[k].value = s.st_value;
				f->sym[k].size = s.st_size;
				f->sym[k].found = kind;
			}
		}
	}
}

static void scan_rela(struct efile *f, Elf_Scn *scn, const GElf_Shdr *sh)
{
	Elf_Data *d = sec_data(f, scn, sh);
	Elf_Data *symd = NULL;
	size_t n, nsym = 0;

	if (!d)
		return;
	if (sh->sh_link) {
		Elf_Scn *ss = elf_getscn(f->elf, sh->sh_link);
		GElf_Shdr ssh;

		if (ss && gelf_getshdr(ss, &ssh) && ssh.sh_type == SHT_DYNSYM) {
			symd = sec_data(f, ss, &ssh);
			nsym = symd ? symd->d_size / sizeof(Elf64_Sym) : 0;
		}
	}
	n = d->d_size / sizeof(Elf64_Rela);
	for (size_t i = 0; i < n; i++) {
		GElf_Rela r;
		uint64_t val;

		if (!gelf_getrela(d, (int)i, &r))
			continue;
		if (GELF_R_TYPE(r.r_info) == R_X86_64_RELATIVE_) {
			val = r.r_addend;
		} else if (GELF_R_TYPE(r.r_info) == R_X86_64_64_ && symd &&
			   GELF_R_SYM(r.r_info) < nsym) {
			GElf_Sym s;

			if (!gelf_getsym(symd, (int)GELF_R_SYM(r.r_info), &s) ||
			    s.st_shndx == SHN_UNDEF)
				continue;
			val = s.st_value + r.r_addend;
		} else {
			continue;
		}
		if (f->nrel == f->relcap) {
			size_t nc = f->relcap ? f->relcap * 2 : 1024;
			struct rela *nr = realloc(f->rel, nc * sizeof(*nr));

			if (!nr)
				return;
			f->rel = nr;
			f->relcap = nc;
		}
		f->rel[f->nrel].off = r.r_offset;
		f->rel[f->nrel].val = val;
		f->nrel++;
	}
}

static void scan_dynamic(struct efile *f, Elf_Scn *scn, const GElf_Shdr *sh)
{
	Elf_Data *d = sec_data(f, scn, sh);
	size_t n;

	if (!d || !sh->sh_entsize)
		return;
	n = d->d_size / sizeof(Elf64_Dyn);
	for (size_t i = 0; i < n; i++) {
		GElf_Dyn dy;
		const char *s;

		if (!gelf_getdyn(d, (int)i, &dy) || dy.d_tag == DT_NULL)
			break;
		if (dy.d_tag != DT_NEEDED && dy.d_tag != DT_RUNPATH && dy.d_tag != DT_RPATH)
			continue;
		s = elf_strptr(f->elf, sh->sh_link, dy.d_un.d_val);
		if (!s)
			continue;
		if (dy.d_tag == DT_NEEDED && !strncmp(s, "libcrypto.so", 12) && !strchr(s, '/'))
			snprintf(f->needed_crypto, sizeof(f->needed_crypto), "%s", s);
		else if (dy.d_tag == DT_RUNPATH || (dy.d_tag == DT_RPATH && !f->runpath[0]))
			snprintf(f->runpath, sizeof(f->runpath), "%s", s);
	}
}

static void scan_verdef(struct efile *f, Elf_Scn *scn, const GElf_Shdr *sh)
{
	Elf_Data *d = sec_data(f, scn, sh);
	size_t off = 0;

	if (!d)
		return;
	for (unsigned k = 0; k < sh->sh_info && k < 4096; k++) {
		GElf_Verdef vd;
		GElf_Verdaux va;
		const char *name;
		unsigned maj = 0, min = 0;

		if (!gelf_getverdef(d, (int)off, &vd))
			break;
		if (vd.vd_cnt && gelf_getverdaux(d, (int)(off + vd.vd_aux), &va)) {
			name = elf_strptr(f->elf, sh->sh_link, va.vda_name);
			if (name && sscanf(name, "OPENSSL_%u.%u", &maj, &min) == 2 &&
			    (maj > 3 || (maj == 3 && min >= 2)))
				f->new_verdef = 1;
		}
		if (!vd.vd_next || vd.vd_next > d->d_size - off)
			break;
		off += vd.vd_next;
	}
}

static void scan_note(struct efile *f, Elf_Scn *scn, const GElf_Shdr *sh)
{
	Elf_Data *d = sec_data(f, scn, sh);
	size_t off = 0, noff, doff;
	GElf_Nhdr nh;

	if (!d)
		return;
	while ((off = gelf_getnote(d, off, &nh, &noff, &doff)) > 0) {
		if (nh.n_type == NT_GNU_BUILD_ID && nh.n_namesz == 4 &&
		    !memcmp((const char *)d->d_buf + noff, "GNU", 4) && nh.n_descsz >= 1 &&
		    nh.n_descsz <= 20 && doff + nh.n_descsz <= d->d_size) {
			const uint8_t *b = (const uint8_t *)d->d_buf + doff;

			for (size_t i = 0; i < nh.n_descsz; i++)
				snprintf(f->build_id + 2 * i, 3, "%02x", b[i]);
		}
	}
}

static void efile_close(struct efile *f)
{
	if (f->elf)
		elf_end(f->elf);
	free(f->ph);
	free(f->fde);
	free(f->rel);
	free(f->buf);
	memset(f, 0, sizeof(*f));
}

/* Parse everything the analysis needs; -1 with f->why when the file is not usable. */
static int efile_open(struct efile *f, const char *path)
{
	size_t shnum = 0, phnum = 0, shstrndx = 0;
	Elf_Scn *scn = NULL;

	memset(f, 0, sizeof(*f));
	f->path = path;
	if (read_file(f, path))
		return -1;
	if (f->size < EI_NIDENT || memcmp(f->buf, ELFMAG, SELFMAG)) {
		setwhy(f->why, sizeof(f->why), "not an ELF file");
		return -1;
	}
	if (f->buf[EI_CLASS] != ELFCLASS64 || f->buf[EI_DATA] != ELFDATA2LSB) {
		setwhy(f->why, sizeof(f->why), "unsupported ELF class/data: x86-64 only");
		return -1;
	}
	if (f->size < sizeof(Elf64_Ehdr)) {
		setwhy(f->why, sizeof(f->why), "truncated ELF header");
		return -1;
	}
	elf_version(EV_CURRENT);
	f->elf = elf_memory((char *)f->buf, f->size);
	if (!f->elf || elf_kind(f->elf) != ELF_K_ELF || !gelf_getehdr(f->elf, &f->eh)) {
		setwhy(f->why, sizeof(f->why), "malformed ELF: %s", elf_errmsg(-1));
		return -1;
	}
	if (f->eh.e_machine != EM_X86_64) {
		setwhy(f->why, sizeof(f->why), "unsupported machine %u: x86-64 only",
		       (unsigned)f->eh.e_machine);
		return -1;
	}
	if (f->eh.e_type != ET_DYN && f->eh.e_type != ET_EXEC) {
		setwhy(f->why, sizeof(f->why), "not a shared object or executable");
		return -1;
	}
	if (elf_getphdrnum(f->elf, &phnum) || !phnum || phnum > 4096 ||
	    !range_ok(f->size, f->eh.e_phoff, (uint64_t)phnum * sizeof(Elf64_Phdr))) {
		setwhy(f->why, sizeof(f->why), "malformed or truncated program headers");
		return -1;
	}
	f->ph = calloc(phnum, sizeof(*f->ph));
	if (!f->ph) {
		setwhy(f->why, sizeof(f->why), "out of memory");
		return -1;
	}
	for (size_t i = 0; i < phnum; i++)
		if (gelf_getphdr(f->elf, (int)i, &f->ph[f->nph]))
			f->nph++;
	if (elf_getshdrnum(f->elf, &shnum) || !shnum || shnum > 65536 ||
	    !range_ok(f->size, f->eh.e_shoff, (uint64_t)shnum * sizeof(Elf64_Shdr)) ||
	    elf_getshdrstrndx(f->elf, &shstrndx)) {
		setwhy(f->why, sizeof(f->why), "malformed or truncated section headers");
		return -1;
	}
	while ((scn = elf_nextscn(f->elf, scn))) {
		GElf_Shdr sh;
		const char *name;

		if (!gelf_getshdr(scn, &sh))
			continue;
		name = elf_strptr(f->elf, shstrndx, sh.sh_name);
		switch (sh.sh_type) {
		case SHT_SYMTAB:
			scan_syms(f, scn, &sh, 2);
			break;
		case SHT_DYNSYM:
			scan_syms(f, scn, &sh, 1);
			break;
		case SHT_RELA:
			scan_rela(f, scn, &sh);
			break;
		case SHT_DYNAMIC:
			scan_dynamic(f, scn, &sh);
			break;
		case SHT_GNU_verdef:
			scan_verdef(f, scn, &sh);
			break;
		case SHT_NOTE:
			scan_note(f, scn, &sh);
			break;
		case SHT_PROGBITS:
			if (name && !strcmp(name, ".eh_frame") &&
			    range_ok(f->size, sh.sh_offset, sh.sh_size) &&
			    parse_eh_frame(f, f->buf + sh.sh_offset, sh.sh_size, sh.sh_addr)) {
				/* keep what was parsed before the bad entry */
			}
			if ((sh.sh_flags & SHF_ALLOC) && !(sh.sh_flags & SHF_EXECINSTR) &&
			    !f->version[0] && range_ok(f->size, sh.sh_offset, sh.sh_size))
				find_version(f, f->buf + sh.sh_offset, sh.sh_size);
			break;
		default:
			break;
		}
	}
	if (f->nfde)
		qsort(f->fde, f->nfde, sizeof(*f->fde), fde_cmp);
	if (f->nrel)
		qsort(f->rel, f->nrel, sizeof(*f->rel), rela_cmp);
	return 0;
}

/* The 8-byte pointer stored at va once relocated: a RELATIVE/64 relocation, else the file. */
static int read_ptr(const struct efile *f, uint64_t va, uint64_t *out)
{
	size_t lo = 0, hi = f->nrel;
	const uint8_t *p;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (f->rel[mid].off < va)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < f->nrel && f->rel[lo].off == va) {
		*out = f->rel[lo].val;
		return 0;
	}
	if (f->eh.e_type == ET_DYN && f->nrel)
		return -1; /* a PIC table slot without relocation is not a function pointer */
	p = va_ptr(f, va, 8, 0);
	if (!p)
		return -1;
	memcpy(out, p, 8);
	return 0;
}

static int read_u32(const struct efile *f, uint64_t va, uint32_t *out)
{
	const uint8_t *p = va_ptr(f, va, 4, 0);

	if (!p)
		return -1;
	memcpy(out, p, 4);
	return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* Decoding */

enum { F_SEQ, F_JMP, F_JCC, F_CALL, F_RET, F_IJMP, F_ICALL, F_STOP };

struct xop {
	uint8_t type; /* X86_OP_* */
	uint8_t size;
	int8_t reg; /* REG: canonical GPR, RIP_, or -1 */
	int8_t base, index;
	uint8_t seg; /* MEM: 1 when a segment override (fs:, gs:) */
	int64_t v;   /* IMM value, MEM displacement */
};

struct insn {
	uint64_t addr;
	uint64_t target; /* F_JMP/F_JCC/F_CALL */
	uint32_t wmask;	 /* GPRs written (any width) */
	uint16_t id;
	uint8_t size, nop, flow;
	struct xop op[3];
};

static void decode_one(csh h, const cs_insn *ci, struct insn *in)
{
	const cs_x86 *x = &ci->detail->x86;
	cs_regs rr, rw;
	uint8_t nr = 0, nw = 0;

	memset(in, 0, sizeof(*in));
	in->addr = ci->address;
	in->size = (uint8_t)ci->size;
	in->id = (uint16_t)ci->id;
	in->nop = x->op_count > 3 ? 3 : x->op_count;
	for (int i = 0; i < in->nop; i++) {
		const cs_x86_op *o = &x->operands[i];
		struct xop *d = &in->op[i];

		d->type = (uint8_t)o->type;
		d->size = o->size;
		d->reg = d->base = d->index = -1;
		if (o->type == X86_OP_REG) {
			d->reg = (int8_t)gpr_of(o->reg, NULL);
			if (d->reg >= 0 && d->reg < NGPR && (o->access & CS_AC_WRITE))
				in->wmask |= 1u << d->reg;
		} else if (o->type == X86_OP_IMM) {
			d->v = o->imm;
		} else if (o->type == X86_OP_MEM) {
			d->base =
			    o->mem.base == X86_REG_INVALID ? -1 : (int8_t)gpr_of(o->mem.base, NULL);
			if (o->mem.base != X86_REG_INVALID && d->base < 0)
				d->base = -2; /* not a GPR: unknown */
			d->index = o->mem.index == X86_REG_INVALID
				       ? -1
				       : (int8_t)gpr_of(o->mem.index, NULL);
			if (o->mem.index != X86_REG_INVALID && d->index < 0)
				d->index = -2;
			d->seg = o->mem.segment != X86_REG_INVALID;
			d->v = o->mem.disp;
		}
	}
	if (cs_regs_access(h, ci, rr, &nr, rw, &nw) == CS_ERR_OK) {
		for (int i = 0; i < nw; i++) {
			int g = gpr_of((x86_reg)rw[i], NULL);

			if (g >= 0 && g < NGPR)
				in->wmask |= 1u << g;
		}
	}
	switch (ci->id) {
	case X86_INS_JMP:
		in->flow = in->nop == 1 && in->op[0].type == X86_OP_IMM ? F_JMP : F_IJMP;
		in->target = (uint64_t)in->op[0].v;
		break;
	case X86_INS_LJMP:
		in->flow = F_IJMP;
		break;
	case X86_INS_CALL:
		in->flow = in->nop == 1 && in->op[0].type == X86_OP_IMM ? F_CALL : F_ICALL;
		in->target = (uint64_t)in->op[0].v;
		in->wmask |= CALLER_SAVED;
		break;
	case X86_INS_RET:
	case X86_INS_RETF:
	case X86_INS_UD2:
	case X86_INS_HLT:
	case X86_INS_INT3:
		in->flow = ci->id == X86_INS_RET || ci->id == X86_INS_RETF ? F_RET : F_STOP;
		break;
	default:
		if (cs_insn_group(h, ci, CS_GRP_JUMP)) {
			in->flow = F_JCC;
			in->target = in->nop >= 1 && in->op[0].type == X86_OP_IMM
					 ? (uint64_t)in->op[0].v
					 : 0;
		}
		break;
	}
}

/* ------------------------------------------------------------------------------------------ */
/* Symbolic values, hash-consed: equal ids are equal expressions */

enum { V_TOP, V_ENTRY, V_CONST, V_ADD, V_LOAD, V_OPQ, V_PHI };

struct val {
	uint8_t k, size;
	int32_t a; /* ENTRY/OPQ/PHI: register; ADD/LOAD: base id */
	int64_t c; /* CONST value, ADD/LOAD displacement, OPQ/PHI address */
};

struct vtab {
	struct val *v;
	uint32_t n, cap;
	uint32_t *h;
	uint32_t hcap;
};

static uint32_t vhash(int k, int size, int32_t a, int64_t c)
{
	uint64_t x = ((uint64_t)k << 56) ^ ((uint64_t)size << 48) ^ ((uint64_t)(uint32_t)a << 16) ^
		     (uint64_t)c * 0x9e3779b97f4a7c15ull;

	x ^= x >> 29;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 32;
	return (uint32_t)x;
}

static int vt_grow(struct vtab *t)
{
	uint32_t nh = t->hcap ? t->hcap * 2 : 1024;
	uint32_t *h = calloc(nh, sizeof(*h));

	if (!h)
		return -1;
	for (uint32_t i = 1; i < t->n; i++) {
		const struct val *v = &t->v[i];
		uint32_t j = vhash(v->k, v->size, v->a, v->c) & (nh - 1);

		while (h[j])
			j = (j + 1) & (nh - 1);
		h[j] = i;
	}
	free(t->h);
	t->h = h;
	t->hcap = nh;
	return 0;
}

/* Id of the value; insert when asked. 0 (TOP) when absent or out of memory. */
static uint32_t vt_get(struct vtab *t, int k, int size, int32_t a, int64_t c, int insert)
{
	uint32_t j;

	if (!t->hcap || (t->n + 1) * 2 > t->hcap) {
		if (!insert && !t->hcap)
			return 0;
		if (insert && vt_grow(t))
			return 0;
	}
	j = vhash(k, size, a, c) & (t->hcap - 1);
	while (t->h[j]) {
		const struct val *v = &t->v[t->h[j]];

		if (v->k == k && v->size == size && v->a == a && v->c == c)
			return t->h[j];
		j = (j + 1) & (t->hcap - 1);
	}
	if (!insert)
		return 0;
	if (t->n == t->cap) {
		uint32_t nc = t->cap ? t->cap * 2 : 1024;
		struct val *nv = realloc(t->v, nc * sizeof(*nv));

		if (!nv)
			return 0;
		t->v = nv;
		t->cap = nc;
		if (t->n == 0)
			t->n = 1; /* id 0 is TOP */
	}
	t->v[t->n] = (struct val){(uint8_t)k, (uint8_t)size, a, c};
	t->h[j] = t->n;
	return t->n++;
}

static void vt_free(struct vtab *t)
{
	free(t->v);
	free(t->h);
	memset(t, 0, sizeof(*t));
}

static const struct val *V(const struct vtab *t, uint32_t id)
{
	static const struct val top = {V_TOP, 0, 0, 0};

	return id && id < t->n ? &t->v[id] : &top;
}

static uint32_t v_const(struct vtab *t, int64_t c)
{
	return vt_get(t, V_CONST, 8, 0, c, 1);
}

static uint32_t v_opq(struct vtab *t, uint64_t addr, int reg)
{
	return vt_get(t, V_OPQ, 8, reg, (int64_t)addr, 1);
}

static uint32_t v_add(struct vtab *t, uint32_t b, int64_t d)
{
	const struct val *v = V(t, b);

	if (!b)
		return 0;
	if (!d)
		return b;
	if (v->k == V_CONST)
		return v_const(t, v->c + d);
	if (v->k == V_ADD)
		return v->c + d ? vt_get(t, V_ADD, 8, v->a, v->c + d, 1) : (uint32_t)v->a;
	return vt_get(t, V_ADD, 8, (int32_t)b, d, 1);
}

/* Split b into (base, disp). */
static uint32_t v_split(const struct vtab *t, uint32_t b, int64_t *d)
{
	const struct val *v = V(t, b);

	if (v->k == V_ADD) {
		*d = v->c;
		return (uint32_t)v->a;
	}
	*d = 0;
	return b;
}

static uint32_t v_load(struct vtab *t, uint32_t b, int64_t d, int size, int insert)
{
	int64_t d0;
	uint32_t base;

	if (!b)
		return 0;
	base = v_split(t, b, &d0);
	return vt_get(t, V_LOAD, size, (int32_t)base, d0 + d, insert);
}

/* Is id a LOAD of size from [base'+disp] with base' == base (base 0: any)? */
static int is_load(const struct vtab *t, uint32_t id, uint32_t base, int size, int64_t *disp,
		   uint32_t *out_base)
{
	const struct val *v = V(t, id);

	if (v->k != V_LOAD || (size && v->size != size) || (base && (uint32_t)v->a != base))
		return 0;
	if (disp)
		*disp = v->c;
	if (out_base)
		*out_base = (uint32_t)v->a;
	return 1;
}

/* ------------------------------------------------------------------------------------------ */
/* Abstract state and interpretation of one function */

#define NSLOT 48

struct slot {
	int32_t off;
	uint32_t v;
	uint8_t size;
};

struct st {
	uint32_t r[NGPR];
	uint8_t ns;
	struct slot s[NSLOT];
};

struct blk {
	int first, last; /* instruction indexes */
	int succ[2], nsucc;
	int ijmp;   /* ends in an indirect jump */
	int orphan; /* no direct predecessor: reached through a jump table, if at all */
	int visited, inq;
	struct st in;
};

struct fn {
	const struct efile *f;
	uint64_t start, end;
	struct insn *ins;
	int nins;
	struct blk *b;
	int nb;
	struct vtab vt;
	uint32_t entry_rsp;
	char why[160];
};

static void fn_free(struct fn *fn)
{
	free(fn->ins);
	free(fn->b);
	vt_free(&fn->vt);
	memset(fn, 0, sizeof(*fn));
}

static int insn_at(const struct fn *fn, uint64_t addr)
{
	int lo = 0, hi = fn->nins;

	while (lo < hi) {
		int mid = (lo + hi) / 2;

		if (fn->ins[mid].addr < addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < fn->nins && fn->ins[lo].addr == addr ? lo : -1;
}

static int blk_of_insn(const struct fn *fn, int idx)
{
	int lo = 0, hi = fn->nb;

	while (lo < hi) {
		int mid = (lo + hi) / 2;

		if (fn->b[mid].last < idx)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < fn->nb && fn->b[lo].first <= idx ? lo : -1;
}

/* Stack offset of an address value relative to the entry rsp. */
static int stack_off(const struct fn *fn, uint32_t addr, int32_t *off)
{
	int64_t d;
	uint32_t base = v_split(&fn->vt, addr, &d);

	if (!addr || base != fn->entry_rsp || d < -(1 << 20) || d > (1 << 20))
		return 0;
	*off = (int32_t)d;
	return 1;
}

static void slot_store(struct st *s, int32_t off, int size, uint32_t v)
{
	int j = 0;

	for (int i = 0; i < s->ns; i++) {
		const struct slot *x = &s->s[i];

		if (x->off < off + size && off < x->off + x->size)
			continue; /* overlapped: forget */
		s->s[j++] = *x;
	}
	s->ns = (uint8_t)j;
	if (!v || size <= 0)
		return;
	if (s->ns == NSLOT) {
		memmove(&s->s[0], &s->s[1], (NSLOT - 1) * sizeof(s->s[0]));
		s->ns--;
	}
	s->s[s->ns++] = (struct slot){off, v, (uint8_t)size};
}

static uint32_t slot_load(const struct st *s, int32_t off, int size)
{
	for (int i = 0; i < s->ns; i++)
		if (s->s[i].off == off && s->s[i].size == size)
			return s->s[i].v;
	return 0;
}

/* Address value of a memory operand, 0 when unknown (index, segment, non-GPR base). */
static uint32_t mem_addr(struct fn *fn, const struct st *s, const struct insn *in,
			 const struct xop *o)
{
	if (o->seg || o->index != -1 || o->base == -2)
		return 0;
	if (o->base == RIP_)
		return v_const(&fn->vt, (int64_t)(in->addr + in->size) + o->v);
	if (o->base == -1)
		return v_const(&fn->vt, o->v);
	return v_add(&fn->vt, s->r[(int)o->base], o->v);
}

/* Value loaded by a memory operand (0 when unknown). */
static uint32_t mem_load(struct fn *fn, const struct st *s, const struct insn *in,
			 const struct xop *o, int size)
{
	uint32_t a = mem_addr(fn, s, in, o);
	int32_t off;

	if (!a)
		return 0;
	if (stack_off(fn, a, &off))
		return slot_load(s, off, size);
	return v_load(&fn->vt, a, 0, size, 1);
}

static void mem_store(struct fn *fn, struct st *s, const struct insn *in, const struct xop *o,
		      uint32_t v)
{
	uint32_t a = mem_addr(fn, s, in, o);
	int32_t off;

	if (a && stack_off(fn, a, &off))
		slot_store(s, off, o->size, v);
	else if (!a && o->base == RSP)
		s->ns = 0; /* unknown stack write: forget the frame */
}

/* Value of an operand as a source, width w. */
static uint32_t src_val(struct fn *fn, const struct st *s, const struct insn *in,
			const struct xop *o, int w)
{
	if (o->type == X86_OP_IMM)
		return v_const(&fn->vt, w == 4 ? (int64_t)(uint32_t)o->v : o->v);
	if (o->type == X86_OP_MEM)
		return mem_load(fn, s, in, o, w);
	if (o->type == X86_OP_REG && o->reg >= 0 && o->reg < NGPR) {
		uint32_t v = s->r[(int)o->reg];
		const struct val *x = V(&fn->vt, v);

		if (w == 8)
			return v;
		/* a 32-bit copy keeps values that already fit in 32 bits */
		if (w == 4 && ((x->k == V_LOAD && x->size <= 4) ||
			       (x->k == V_CONST && (uint64_t)x->c <= 0xffffffffu)))
			return v;
	}
	return 0;
}

static void set_reg(struct fn *fn, struct st *s, const struct insn *in, int r, uint32_t v)
{
	if (r < 0 || r >= NGPR)
		return;
	s->r[r] = v ? v : v_opq(&fn->vt, in->addr, r);
}

/* Abstract effect of one instruction on s. */
static void transfer(struct fn *fn, struct st *s, const struct insn *in)
{
	const struct xop *o0 = &in->op[0], *o1 = &in->op[1];
	uint32_t done = 0;
	int w = o0->size;

	switch (in->id) {
	case X86_INS_MOV:
	case X86_INS_MOVABS:
		if (in->nop != 2)
			break;
		if (o0->type == X86_OP_REG && o0->reg >= 0 && o0->reg < NGPR) {
			set_reg(fn, s, in, o0->reg, w >= 4 ? src_val(fn, s, in, o1, w) : 0);
			done = 1u << o0->reg;
		} else if (o0->type == X86_OP_MEM) {
			mem_store(fn, s, in, o0,
				  o1->type == X86_OP_MEM ? 0 : src_val(fn, s, in, o1, w));
		}
		break;
	case X86_INS_MOVZX:
		if (in->nop == 2 && o0->type == X86_OP_REG && o0->reg >= 0 && o0->reg < NGPR) {
			uint32_t v = o1->type == X86_OP_MEM ? mem_load(fn, s, in, o1, o1->size) : 0;

			set_reg(fn, s, in, o0->reg, w >= 4 ? v : 0);
			done = 1u << o0->reg;
		}
		break;
	case X86_INS_LEA:
		if (in->nop == 2 && o0->type == X86_OP_REG && o0->reg >= 0 && o0->reg < NGPR) {
			uint32_t v = w == 8 ? mem_addr(fn, s, in, o1) : 0;

			set_reg(fn, s, in, o0->reg, v);
			done = 1u << o0->reg;
		}
		break;
	case X86_INS_ADD:
	case X86_INS_SUB:
		if (in->nop == 2 && o0->type == X86_OP_REG && o0->reg >= 0 && o0->reg < NGPR) {
			uint32_t v = 0;

			if (o1->type == X86_OP_IMM && w == 8)
				v = v_add(&fn->vt, s->r[(int)o0->reg],
					  in->id == X86_INS_ADD ? o1->v : -o1->v);
			else if (in->id == X86_INS_SUB && o1->type == X86_OP_REG &&
				 o1->reg == o0->reg && w >= 4)
				v = v_const(&fn->vt, 0);
			set_reg(fn, s, in, o0->reg, v);
			done = 1u << o0->reg;
		}
		break;
	case X86_INS_XOR:
		if (in->nop == 2 && o0->type == X86_OP_REG && o1->type == X86_OP_REG &&
		    o0->reg == o1->reg && o0->reg >= 0 && o0->reg < NGPR && w >= 4) {
			set_reg(fn, s, in, o0->reg, v_const(&fn->vt, 0));
			done = 1u << o0->reg;
		}
		break;
	case X86_INS_PUSH: {
		uint32_t v = in->nop == 1 ? src_val(fn, s, in, o0, 8) : 0;
		int32_t off;

		s->r[RSP] = v_add(&fn->vt, s->r[RSP], -8);
		if (s->r[RSP] && stack_off(fn, s->r[RSP], &off))
			slot_store(s, off, 8, v ? v : v_opq(&fn->vt, in->addr, NGPR));
		if (!s->r[RSP])
			s->r[RSP] = v_opq(&fn->vt, in->addr, RSP);
		done = 1u << RSP;
		break;
	}
	case X86_INS_POP: {
		int32_t off;
		uint32_t v = 0;

		if (stack_off(fn, s->r[RSP], &off))
			v = slot_load(s, off, 8);
		s->r[RSP] = v_add(&fn->vt, s->r[RSP], 8);
		if (!s->r[RSP])
			s->r[RSP] = v_opq(&fn->vt, in->addr, RSP);
		done = 1u << RSP;
		if (in->nop == 1 && o0->type == X86_OP_REG && o0->reg >= 0 && o0->reg < NGPR) {
			set_reg(fn, s, in, o0->reg, o0->reg == RSP ? 0 : v);
			done |= 1u << o0->reg;
		}
		break;
	}
	case X86_INS_CALL:
		/* the callee pops its return address: rsp is unchanged, caller-saved are lost */
		for (int r = 0; r < NGPR; r++)
			if (CALLER_SAVED & (1u << r))
				set_reg(fn, s, in, r, 0);
		done = CALLER_SAVED | (1u << RSP);
		break;
	default:
		break;
	}
	for (int r = 0; r < NGPR; r++) {
		if (!(in->wmask & (1u << r)) || (done & (1u << r)))
			continue;
		set_reg(fn, s, in, r, 0);
		if (r == RSP)
			s->ns = 0;
	}
}

static int st_join(struct fn *fn, struct st *dst, const struct st *src, uint64_t baddr)
{
	int changed = 0, j = 0;

	for (int r = 0; r < NGPR; r++) {
		if (dst->r[r] == src->r[r])
			continue;
		uint32_t phi = vt_get(&fn->vt, V_PHI, 8, r, (int64_t)baddr, 1);

		if (dst->r[r] != phi) {
			dst->r[r] = phi;
			changed = 1;
		}
	}
	for (int i = 0; i < dst->ns; i++) {
		const struct slot *x = &dst->s[i];
		int keep = 0;

		for (int k = 0; k < src->ns; k++)
			if (src->s[k].off == x->off && src->s[k].size == x->size &&
			    src->s[k].v == x->v)
				keep = 1;
		if (keep)
			dst->s[j++] = *x;
		else
			changed = 1;
	}
	dst->ns = (uint8_t)j;
	return changed;
}

/* Disassemble [start, end), build the CFG, run the fixpoint. */
static int fn_analyze(struct fn *fn, const struct efile *f, csh h, uint64_t start, uint64_t end)
{
	const uint8_t *code;
	uint64_t addr = start;
	size_t left;
	cs_insn *ci;
	int cap = 0, *leader = NULL, *queue = NULL, qh = 0, qt = 0, steps = 0, rc = -1;

	memset(fn, 0, sizeof(*fn));
	fn->f = f;
	fn->start = start;
	fn->end = end;
	if (end <= start || end - start > MAX_FN_SIZE) {
		setwhy(fn->why, sizeof(fn->why), "function bounds 0x%llx..0x%llx not plausible",
		       (unsigned long long)start, (unsigned long long)end);
		return -1;
	}
	code = va_ptr(f, start, end - start, 1);
	if (!code) {
		setwhy(fn->why, sizeof(fn->why), "function 0x%llx not in an executable segment",
		       (unsigned long long)start);
		return -1;
	}
	left = end - start;
	ci = cs_malloc(h);
	if (!ci)
		return -1;
	while (left) {
		if (!cs_disasm_iter(h, &code, &left, &addr, ci)) {
			setwhy(fn->why, sizeof(fn->why), "undecodable instruction at 0x%llx",
			       (unsigned long long)addr);
			goto out;
		}
		if (fn->nins == cap) {
			int nc = cap ? cap * 2 : 512;
			struct insn *ni = realloc(fn->ins, nc * sizeof(*ni));

			if (!ni)
				goto out;
			fn->ins = ni;
			cap = nc;
		}
		decode_one(h, ci, &fn->ins[fn->nins++]);
	}
	if (!fn->nins)
		goto out;

	/* leaders */
	leader = calloc(fn->nins, sizeof(*leader));
	if (!leader)
		goto out;
	leader[0] = 1;
	for (int i = 0; i < fn->nins; i++) {
		const struct insn *in = &fn->ins[i];

		if (in->flow == F_JMP || in->flow == F_JCC) {
			int t = insn_at(fn, in->target);

			if (t >= 0)
				leader[t] = 1;
		}
		if (in->flow != F_SEQ && in->flow != F_CALL && in->flow != F_ICALL &&
		    i + 1 < fn->nins)
			leader[i + 1] = 1;
	}
	for (int i = 0; i < fn->nins; i++)
		fn->nb += leader[i];
	fn->b = calloc(fn->nb, sizeof(*fn->b));
	queue = calloc(fn->nb, sizeof(*queue));
	if (!fn->b || !queue)
		goto out;
	for (int i = 0, k = -1; i < fn->nins; i++) {
		if (leader[i])
			fn->b[++k].first = i;
		fn->b[k].last = i;
	}
	for (int k = 0; k < fn->nb; k++) {
		struct blk *b = &fn->b[k];
		const struct insn *in = &fn->ins[b->last];
		int t;

		if ((in->flow == F_JMP || in->flow == F_JCC) && (t = insn_at(fn, in->target)) >= 0)
			b->succ[b->nsucc++] = blk_of_insn(fn, t);
		if (in->flow != F_JMP && in->flow != F_RET && in->flow != F_IJMP &&
		    in->flow != F_STOP && k + 1 < fn->nb)
			b->succ[b->nsucc++] = k + 1;
		b->ijmp = in->flow == F_IJMP;
	}

	/* fixpoint from the entry; blocks without a direct predecessor (switch-table targets)
	 * are successors of every indirect jump */
	for (int k = 1; k < fn->nb; k++)
		fn->b[k].orphan = 1;
	for (int k = 0; k < fn->nb; k++)
		for (int j = 0; j < fn->b[k].nsucc; j++)
			fn->b[fn->b[k].succ[j]].orphan = 0;
	for (int r = 0; r < NGPR; r++)
		fn->b[0].in.r[r] = vt_get(&fn->vt, V_ENTRY, 8, r, 0, 1);
	fn->entry_rsp = fn->b[0].in.r[RSP];
	fn->b[0].visited = fn->b[0].inq = 1;
	queue[qt++ % fn->nb] = 0;
	while (qh != qt) {
		int k = queue[qh++ % fn->nb], ns;
		struct blk *b = &fn->b[k];
		struct st s = b->in;

		b->inq = 0;
		if (++steps > fn->nb * 64 + 4096) {
			setwhy(fn->why, sizeof(fn->why), "no fixpoint in 0x%llx",
			       (unsigned long long)start);
			goto out;
		}
		for (int i = b->first; i <= b->last; i++)
			transfer(fn, &s, &fn->ins[i]);
		ns = b->ijmp ? fn->nb : b->nsucc;
		for (int j = 0; j < ns; j++) {
			int tk = b->ijmp ? j : b->succ[j], ch;
			struct blk *t = &fn->b[tk];

			if (b->ijmp && !t->orphan)
				continue;
			if (!t->visited) {
				t->in = s;
				t->visited = ch = 1;
			} else {
				ch = st_join(fn, &t->in, &s, fn->ins[t->first].addr);
			}
			if (ch && !t->inq) {
				t->inq = 1;
				queue[qt++ % fn->nb] = tk;
			}
		}
	}
	rc = 0;
out:
	cs_free(ci, 1);
	free(leader);
	free(queue);
	return rc;
}

/* Calls cb(fn, idx, state before insn idx, ctx) for every instruction in a reached block. */
typedef int (*walk_cb)(struct fn *fn, int idx, const struct st *s, void *ctx);

static int fn_walk(struct fn *fn, walk_cb cb, void *ctx)
{
	for (int k = 0; k < fn->nb; k++) {
		const struct blk *b = &fn->b[k];
		struct st s;

		if (!b->visited)
			continue;
		s = b->in;
		for (int i = b->first; i <= b->last; i++) {
			int rc = cb(fn, i, &s, ctx);

			if (rc)
				return rc;
			transfer(fn, &s, &fn->ins[i]);
		}
	}
	return 0;
}

/* State before instruction idx. */
static int state_at(struct fn *fn, int idx, struct st *out)
{
	int k = blk_of_insn(fn, idx);

	if (k < 0 || !fn->b[k].visited)
		return -1;
	*out = fn->b[k].in;
	for (int i = fn->b[k].first; i < idx; i++)
		transfer(fn, out, &fn->ins[i]);
	return 0;
}

/* Target value of a call/jmp: the register or the loaded pointer. */
static uint32_t call_target(struct fn *fn, const struct st *s, const struct insn *in)
{
	const struct xop *o = &in->op[0];

	if (in->nop != 1)
		return 0;
	if (o->type == X86_OP_REG && o->reg >= 0 && o->reg < NGPR)
		return s->r[(int)o->reg];
	if (o->type == X86_OP_MEM)
		return mem_load(fn, s, in, o, 8);
	return 0;
}

static int is_const(const struct fn *fn, uint32_t id, int64_t c)
{
	const struct val *v = V(&fn->vt, id);

	return v->k == V_CONST && v->c == c;
}

/* ------------------------------------------------------------------------------------------ */
/* Queries */

/* Indirect calls of the form msg_callback(write_p, version, 21, buf, 2, s, arg). */
struct mcb_site {
	int idx;
	uint32_t target, ver, buf, ssl;
};

struct mcb_ctx {
	int write_p;
	int n;
	struct mcb_site site[4];
};

static int mcb_cb(struct fn *fn, int idx, const struct st *s, void *vctx)
{
	struct mcb_ctx *c = vctx;
	const struct insn *in = &fn->ins[idx];

	if (in->flow != F_ICALL)
		return 0;
	if (!is_const(fn, s->r[RDI], c->write_p) || !is_const(fn, s->r[RDX], SSL3_RT_ALERT) ||
	    !is_const(fn, s->r[R8], 2))
		return 0;
	if (c->n < 4)
		c->site[c->n] =
		    (struct mcb_site){idx, call_target(fn, s, in), s->r[RSI], s->r[RCX], s->r[R9]};
	c->n++;
	return 0;
}

/* Indirect calls/jumps through a loaded method pointer: target LOAD(LOAD(B, m, 8), k, 8). */
struct mcall_ctx {
	int n;
	int64_t m[16], k[16];
};

static int mcall_cb(struct fn *fn, int idx, const struct st *s, void *vctx)
{
	struct mcall_ctx *c = vctx;
	const struct insn *in = &fn->ins[idx];
	uint32_t t, mb;
	int64_t k, m;

	if (in->flow != F_ICALL && in->flow != F_IJMP)
		return 0;
	t = call_target(fn, s, in);
	if (!is_load(&fn->vt, t, 0, 8, &k, &mb) || !is_load(&fn->vt, mb, 0, 8, &m, NULL))
		return 0;
	if (c->n < 16) {
		c->m[c->n] = m;
		c->k[c->n] = k;
		c->n++;
	}
	return 0;
}

/* Values in rax at each ret: LOAD(entry rdi, d, size). */
struct ret_ctx {
	int size;
	int n, conflict;
	int64_t d;
};

static int ret_cb(struct fn *fn, int idx, const struct st *s, void *vctx)
{
	struct ret_ctx *c = vctx;
	const struct insn *in = &fn->ins[idx];
	uint32_t rdi0 = vt_get(&fn->vt, V_ENTRY, 8, RDI, 0, 0);
	int64_t d;

	if (in->flow != F_RET)
		return 0;
	if (!is_load(&fn->vt, s->r[RAX], rdi0, c->size, &d, NULL))
		return 0;
	if (c->n && d != c->d)
		c->conflict = 1;
	c->d = d;
	c->n++;
	return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* The analysis */

struct ctx {
	struct efile *f;
	struct oh_result *r;
	csh h;
	uint64_t fn_tls_rb, fn_dtls_rb, fn_tls_da, fn_dtls_da, fn_shut;
	uint64_t tls_table, dtls_table;
	char layout_why[160];
	int64_t shutdown_off; /* from SSL_get_shutdown */
	int shutdown_seen;    /* ssl3_shutdown loads it too */
};

/* Function bounds for a start address: FDE first, else the symbol size. */
static int fn_bounds(const struct efile *f, uint64_t start, uint64_t symsize, uint64_t *end,
		     char *why, size_t n)
{
	const struct fde *d = fde_at(f, start);

	if (d) {
		*end = d->end;
		return 0;
	}
	if (symsize) {
		*end = start + symsize;
		return 0;
	}
	setwhy(why, n, "0x%llx is not the start of an .eh_frame FDE (not a function)",
	       (unsigned long long)start);
	return -1;
}

static int run_fn(struct ctx *c, struct fn *fn, uint64_t start, uint64_t symsize, char *why,
		  size_t n)
{
	uint64_t end;

	if (fn_bounds(c->f, start, symsize, &end, why, n))
		return -1;
	if (fn_analyze(fn, c->f, c->h, start, end)) {
		setwhy(why, n, "%s", fn->why[0] ? fn->why : "disassembly failed");
		fn_free(fn);
		return -1;
	}
	return 0;
}

/* lea rax,[rip+X]; ret (after endbr64) -> X. mov eax,imm32; ret in non-PIC code. */
static int getter_table(struct ctx *c, uint64_t va, uint64_t *table)
{
	const uint8_t *code = va_ptr(c->f, va, 1, 1);
	uint64_t off, addr = va;
	size_t left;
	cs_insn *ci;
	int n = 0, rc = -1;
	uint64_t t = 0;

	if (!code || va2off(c->f, va, 1, &off, 1))
		return -1;
	left = c->f->size - off < 32 ? c->f->size - off : 32;
	ci = cs_malloc(c->h);
	if (!ci)
		return -1;
	while (n < 4 && cs_disasm_iter(c->h, &code, &left, &addr, ci)) {
		const cs_x86 *x = &ci->detail->x86;

		n++;
		if (ci->id == X86_INS_ENDBR64 && !t)
			continue;
		if (!t && ci->id == X86_INS_LEA && x->op_count == 2 &&
		    x->operands[0].type == X86_OP_REG && x->operands[0].reg == X86_REG_RAX &&
		    x->operands[1].mem.base == X86_REG_RIP &&
		    x->operands[1].mem.index == X86_REG_INVALID) {
			t = ci->address + ci->size + x->operands[1].mem.disp;
			continue;
		}
		if (!t && ci->id == X86_INS_MOV && x->op_count == 2 &&
		    x->operands[0].type == X86_OP_REG &&
		    (x->operands[0].reg == X86_REG_RAX || x->operands[0].reg == X86_REG_EAX) &&
		    x->operands[1].type == X86_OP_IMM) {
			t = (uint64_t)x->operands[1].imm;
			continue;
		}
		if (t && ci->id == X86_INS_RET) {
			*table = t;
			rc = 0;
		}
		break;
	}
	cs_free(ci, 1);
	return rc;
}

/* Does ssl3_shutdown call through the method table at the layout's two slots? -> off_method */
static int confirm_layout(struct ctx *c, uint64_t shut, const struct mlayout *L, int64_t *m_out,
			  char *why, size_t n)
{
	struct fn fn;
	struct mcall_ctx mc = {0};
	int rb = 0, da = 0;
	int64_t m = -1;

	if (run_fn(c, &fn, shut, 0, why, n))
		return -1;
	fn_walk(&fn, mcall_cb, &mc);
	/* ssl3_shutdown reads s->shutdown: confirms SSL_get_shutdown's offset */
	for (uint32_t i = 1; i < fn.vt.n && c->shutdown_off >= 0; i++)
		if (fn.vt.v[i].k == V_LOAD && fn.vt.v[i].size == 4 &&
		    fn.vt.v[i].c == c->shutdown_off)
			c->shutdown_seen = 1;
	for (int i = 0; i < mc.n; i++) {
		if (mc.k[i] == L->read_bytes) {
			rb = 1;
			m = mc.m[i];
		}
		if (mc.k[i] == L->dispatch)
			da = 1;
	}
	for (int i = 0; i < mc.n; i++)
		if ((mc.k[i] == L->read_bytes || mc.k[i] == L->dispatch) && mc.m[i] != m)
			rb = 0; /* the two calls must go through the same SSL field */
	fn_free(&fn);
	if (!rb || !da) {
		setwhy(why, n, "ssl3_shutdown candidate 0x%llx does not call method+0x%x and +0x%x",
		       (unsigned long long)shut, L->read_bytes, L->dispatch);
		return -1;
	}
	*m_out = m;
	return 0;
}

static void set_probe(struct ctx *c, struct oh_probe *p, uint64_t va)
{
	uint64_t off;

	p->vaddr = va;
	if (va2off(c->f, va, 1, &off, 1)) {
		p->ok = 0;
		WHY(p, "0x%llx is not in an executable PT_LOAD segment", (unsigned long long)va);
		return;
	}
	p->file_off = off;
	p->ok = 1;
	p->why[0] = 0;
}

/* Dispatch function: msg_callback(1, s->version, 21, &send_alert, 2, s, arg) gives the
 * send_alert offset (through s3 in 1.1.1) and the version offset. */
static void analyse_dispatch(struct ctx *c, struct oh_probe *p, uint64_t va, uint64_t symsize,
			     const char *name, int64_t *send, int64_t *s3, int64_t *ver)
{
	struct fn fn;
	struct mcb_ctx mc = {.write_p = 1};
	uint32_t base, inner;
	int64_t d;
	const struct val *bv;

	*send = *s3 = *ver = -2;
	if (run_fn(c, &fn, va, symsize, p->why, sizeof(p->why))) {
		p->ok = 0;
		return;
	}
	fn_walk(&fn, mcb_cb, &mc);
	if (mc.n != 1) {
		WHY(p, "%s 0x%llx: %d msg_callback(1, v, 21, buf, 2) calls, expected 1", name,
		    (unsigned long long)va, mc.n);
		p->ok = 0;
		goto out;
	}
	base = v_split(&fn.vt, mc.site[0].buf, &d);
	bv = V(&fn.vt, base);
	if (!base || d <= 0 || d > 0x10000 || bv->k == V_CONST) {
		WHY(p, "%s: send_alert argument is not a field address", name);
		p->ok = 0;
		goto out;
	}
	*send = d;
	*s3 = -1;
	if (is_load(&fn.vt, base, 0, 8, &d, &inner) && d >= 0 && d < 0x10000)
		*s3 = d; /* 1.1.1: &s->s3->send_alert[0] */
	if (is_load(&fn.vt, mc.site[0].ver, 0, 4, &d, NULL))
		*ver = d;
	set_probe(c, p, va);
out:
	fn_free(&fn);
}

struct guard_ctx {
	uint32_t tested;
};

/* Receive probe inside read_bytes: see the file comment. */
static void analyse_read(struct ctx *c, struct oh_read_probe *rp, uint64_t va, uint64_t symsize,
			 const char *name)
{
	struct oh_probe *p = &rp->p;
	struct fn fn;
	struct mcb_ctx mc = {.write_p = 0};
	const struct insn *call;
	uint32_t buf, ssl, conn = 0, bytes;
	int64_t d;
	int ci, j, gb, g_first;
	uint64_t skip;
	struct st s;

	p->ok = 0;
	rp->alert_reg = rp->ssl_reg = -1;
	if (run_fn(c, &fn, va, symsize, p->why, sizeof(p->why)))
		return;
	rp->func = va;
	rp->func_end = fn.end;
	fn_walk(&fn, mcb_cb, &mc);
	if (mc.n != 1) {
		WHY(p, "%s 0x%llx: %d msg_callback(0, v, 21, buf, 2) calls, expected 1", name,
		    (unsigned long long)va, mc.n);
		goto out;
	}
	ci = mc.site[0].idx;
	call = &fn.ins[ci];
	buf = mc.site[0].buf;
	ssl = mc.site[0].ssl;
	if (!buf || !ssl) {
		WHY(p, "%s: alert buffer or SSL* unknown at the msg_callback call 0x%llx", name,
		    (unsigned long long)call->addr);
		goto out;
	}
	/* the guard: nearest conditional branch before the call that jumps past it, with only
	 * straight-line code in between */
	for (j = ci - 1; j >= 0; j--) {
		const struct insn *in = &fn.ins[j];

		if (in->flow == F_JCC && in->target > call->addr)
			break;
		if (in->flow != F_SEQ) {
			j = -1;
			break;
		}
	}
	if (j < 0) {
		WHY(p, "%s: msg_callback call 0x%llx is not behind a conditional branch", name,
		    (unsigned long long)call->addr);
		goto out;
	}
	for (int i = j + 1; i <= ci; i++) {
		int k = blk_of_insn(&fn, i);

		if (k >= 0 && fn.b[k].first == i && i != j + 1) {
			WHY(p, "%s: another path enters the msg_callback block at 0x%llx", name,
			    (unsigned long long)fn.ins[i].addr);
			goto out;
		}
	}
	/* both branches must meet after the call: only straight-line code up to the target */
	skip = fn.ins[j].target;
	for (int i = ci + 1; i < fn.nins && fn.ins[i].addr < skip; i++) {
		if (fn.ins[i].flow != F_SEQ) {
			WHY(p, "%s: the msg_callback branch does not rejoin at 0x%llx", name,
			    (unsigned long long)skip);
			goto out;
		}
	}
	if (insn_at(&fn, skip) < 0) {
		WHY(p, "%s: guard target 0x%llx is not an instruction", name,
		    (unsigned long long)skip);
		goto out;
	}
	/* the guard tests the called pointer: test R,R / cmp X,0 on the call target's value */
	gb = blk_of_insn(&fn, j);
	g_first = fn.b[gb].first;
	{
		int tested_ok = 0;

		for (int i = j - 1; i >= g_first; i--) {
			const struct insn *in = &fn.ins[i];
			uint32_t tv = 0;

			if (!(in->id == X86_INS_TEST || in->id == X86_INS_CMP))
				continue;
			if (state_at(&fn, i, &s))
				break;
			if (in->id == X86_INS_TEST && in->nop == 2 &&
			    in->op[0].type == X86_OP_REG && in->op[1].type == X86_OP_REG &&
			    in->op[0].reg == in->op[1].reg && in->op[0].reg >= 0 &&
			    in->op[0].reg < NGPR && in->op[0].size == 8)
				tv = s.r[(int)in->op[0].reg];
			else if (in->id == X86_INS_CMP && in->nop == 2 &&
				 in->op[1].type == X86_OP_IMM && in->op[1].v == 0 &&
				 in->op[0].size == 8)
				tv = src_val(&fn, &s, in, &in->op[0], 8);
			tested_ok = tv && tv == mc.site[0].target;
			break;
		}
		if (!tested_ok) {
			WHY(p, "%s: the branch before msg_callback does not test the callback",
			    name);
			goto out;
		}
	}
	if (!fn.b[gb].visited) {
		WHY(p, "%s: guard block unreachable from the entry", name);
		goto out;
	}
	/* the earliest point of the guard block where registers hold buf (or the two bytes) and
	 * SSL*, neither written again before the call */
	bytes = v_load(&fn.vt, buf, 0, 2, 0);
	/* 3.2+: the callback and the version are read from the SSL_CONNECTION, which for a TLS or
	 * DTLS connection is the SSL itself (ssl_connection_st starts with its ssl_st); a register
	 * holding that base stands for SSL* when the SSL* argument itself sits on the stack */
	if (is_load(&fn.vt, mc.site[0].target, 0, 8, &d, &conn) &&
	    !is_load(&fn.vt, mc.site[0].ver, conn, 4, &d, NULL))
		conn = 0;
	for (int pi = g_first; pi <= j; pi++) {
		int areg = -1, isptr = 1, sreg = -1;
		uint32_t written = 0;

		if (state_at(&fn, pi, &s))
			break;
		for (int i = pi; i < ci; i++)
			written |= fn.ins[i].wmask;
		for (int pass = 0; pass < 2 && areg < 0; pass++) {
			uint32_t want = pass ? bytes : buf;
			static const int pref[NGPR] = {RCX, R12, R13, R14, R15, RBX, RBP, RAX,
						       RDX, RSI, RDI, R8,  R9,	R10, R11, RSP};

			if (!want)
				continue;
			for (int k = 0; k < NGPR && areg < 0; k++)
				if (pref[k] != RSP && s.r[pref[k]] == want &&
				    !(written & (1u << pref[k]))) {
					areg = pref[k];
					isptr = !pass;
				}
		}
		for (int pass = 0; pass < 2 && sreg < 0; pass++) {
			uint32_t want = pass ? conn : ssl;

			for (int k = 0; k < NGPR && sreg < 0 && want; k++) {
				/* callee-saved first: they survive calls made after the probe */
				static const int pref[NGPR] = {R13, R12, RBX, RBP, R14, R15,
							       R9,  RDI, RSI, RDX, RCX, RAX,
							       R8,  R10, R11, RSP};

				if (pref[k] != RSP && s.r[pref[k]] == want &&
				    !(written & (1u << pref[k]))) {
					sreg = pref[k];
					rp->ssl_is_conn = pass;
				}
			}
		}
		if (areg < 0 || sreg < 0)
			continue;
		rp->alert_reg = gpr_ptregs[areg];
		rp->alert_is_ptr = isptr;
		rp->ssl_reg = gpr_ptregs[sreg];
		snprintf(rp->alert_reg_name, sizeof(rp->alert_reg_name), "%s", gpr_name[areg]);
		snprintf(rp->ssl_reg_name, sizeof(rp->ssl_reg_name), "%s", gpr_name[sreg]);
		if (c->f->nfde && (!fde_containing(c->f, fn.ins[pi].addr) ||
				   fde_containing(c->f, fn.ins[pi].addr)->start != va)) {
			WHY(p, "%s: probe 0x%llx outside the function's FDE", name,
			    (unsigned long long)fn.ins[pi].addr);
			goto out;
		}
		set_probe(c, p, fn.ins[pi].addr);
		goto out;
	}
	WHY(p, "%s: no register holds both the alert and SSL* in the guard block 0x%llx", name,
	    (unsigned long long)fn.ins[g_first].addr);
out:
	fn_free(&fn);
}

/* off_version from SSL_version, off_method from SSL_get_ssl_method, off_shutdown from
 * SSL_get_shutdown: rax at every ret is a load from the argument at one offset. */
static int64_t getter_field(struct ctx *c, int sym, int size)
{
	struct fn fn;
	struct ret_ctx rc = {.size = size};
	char why[160];

	if (!c->f->sym[sym].found)
		return -1;
	if (run_fn(c, &fn, c->f->sym[sym].value, c->f->sym[sym].size, why, sizeof(why)))
		return -1;
	fn_walk(&fn, ret_cb, &rc);
	fn_free(&fn);
	return rc.n && !rc.conflict ? rc.d : -1;
}

/* ------------------------------------------------------------------------------------------ */
/* libcrypto: the fatal fallback */

static int file_exists(const char *p)
{
	struct stat st;

	return !stat(p, &st) && S_ISREG(st.st_mode);
}

/* Copy cand to out when it names a regular file that fits. */
static int try_path(const char *cand, char *out, size_t n)
{
	size_t len = strlen(cand);

	if (len >= n || !file_exists(cand))
		return -1;
	memcpy(out, cand, len + 1);
	return 0;
}

static int find_crypto(const struct efile *f, const char *path, const char *root, char *out,
		       size_t n)
{
	static const char *const std_dirs[] = {"/lib/x86_64-linux-gnu",
					       "/usr/lib/x86_64-linux-gnu",
					       "/lib64",
					       "/usr/lib64",
					       "/lib",
					       "/usr/lib",
					       "/usr/local/lib64",
					       "/usr/local/lib"};
	char dir[PATH_MAX], cand[PATH_MAX + 256];
	const char *slash = strrchr(path, '/');

	if (!f->needed_crypto[0])
		return -1;
	snprintf(dir, sizeof(dir), "%.*s", slash ? (int)(slash - path) : 1, slash ? path : ".");
	/* DT_RUNPATH/DT_RPATH with $ORIGIN first, then the library's own directory */
	if (f->runpath[0]) {
		char rp[sizeof(f->runpath)], *save = NULL, *tok;

		snprintf(rp, sizeof(rp), "%s", f->runpath);
		for (tok = strtok_r(rp, ":", &save); tok; tok = strtok_r(NULL, ":", &save)) {
			if (!strncmp(tok, "$ORIGIN", 7))
				snprintf(cand, sizeof(cand), "%s%s/%s", dir, tok + 7,
					 f->needed_crypto);
			else if (!strncmp(tok, "${ORIGIN}", 9))
				snprintf(cand, sizeof(cand), "%s%s/%s", dir, tok + 9,
					 f->needed_crypto);
			else
				snprintf(cand, sizeof(cand), "%s%s/%s", root, tok,
					 f->needed_crypto);
			if (!try_path(cand, out, n))
				return 0;
		}
	}
	snprintf(cand, sizeof(cand), "%s/%s", dir, f->needed_crypto);
	if (!try_path(cand, out, n))
		return 0;
	if (root[0] && strncmp(path, root, strlen(root))) {
		snprintf(cand, sizeof(cand), "%s%s/%s", root, dir, f->needed_crypto);
		if (!try_path(cand, out, n))
			return 0;
	}
	for (size_t i = 0; i < sizeof(std_dirs) / sizeof(std_dirs[0]); i++) {
		snprintf(cand, sizeof(cand), "%s%s/%s", root, std_dirs[i], f->needed_crypto);
		if (!try_path(cand, out, n))
			return 0;
	}
	return -1;
}

static int err_probe_in(struct efile *f, struct oh_result *r)
{
	int k = f->sym[S_ERR_vset_error].found	? S_ERR_vset_error
		: f->sym[S_ERR_put_error].found ? S_ERR_put_error
						: -1;
	uint64_t va, off;

	if (k < 0)
		return -1;
	va = f->sym[k].value;
	r->err_kind = k == S_ERR_vset_error ? OH_ERR_VSET : OH_ERR_PUT;
	r->err.vaddr = va;
	if (f->nfde && !fde_at(f, va)) {
		WHY(&r->err, "%s at 0x%llx is not an FDE start", sym_names[k],
		    (unsigned long long)va);
		return 0;
	}
	if (va2off(f, va, 1, &off, 1)) {
		WHY(&r->err, "%s at 0x%llx is not in an executable segment", sym_names[k],
		    (unsigned long long)va);
		return 0;
	}
	r->err.file_off = off;
	r->err.ok = 1;
	return 0;
}

static void analyse_err(struct ctx *c, const char *path, const char *root)
{
	struct oh_result *r = c->r;
	struct efile cf;

	if (!err_probe_in(c->f, r)) {
		snprintf(r->err_path, sizeof(r->err_path), "%s", path);
		return;
	}
	if (find_crypto(c->f, path, root, r->err_path, sizeof(r->err_path))) {
		if (c->f->needed_crypto[0])
			WHY(&r->err, "%s not found under the library's directory or root",
			    c->f->needed_crypto);
		else
			WHY(&r->err, "no ERR_vset_error/ERR_put_error and no libcrypto dependency");
		r->err_path[0] = 0;
		return;
	}
	if (efile_open(&cf, r->err_path)) {
		WHY(&r->err, "%s: %s", r->err_path, cf.why);
		efile_close(&cf);
		return;
	}
	if (err_probe_in(&cf, r))
		WHY(&r->err, "%s exports neither ERR_vset_error nor ERR_put_error", r->err_path);
	if (!r->version[0] && cf.version[0]) {
		snprintf(r->version, sizeof(r->version), "%s", cf.version);
		snprintf(r->version_src, sizeof(r->version_src), "libcrypto");
	}
	efile_close(&cf);
}

/* ------------------------------------------------------------------------------------------ */

static void locate_functions(struct ctx *c)
{
	struct efile *f = c->f;
	struct oh_result *r = c->r;
	static const int need[] = {S_ssl3_dispatch_alert, S_dtls1_dispatch_alert, S_ssl3_read_bytes,
				   S_dtls1_read_bytes};
	int all = 1;
	char why[160] = "";

	for (size_t i = 0; i < sizeof(need) / sizeof(need[0]); i++)
		all &= f->sym[need[i]].found != 0;
	if (f->sym[S_TLS_method].found &&
	    getter_table(c, f->sym[S_TLS_method].value, &c->tls_table) == 0)
		r->tls_method = c->tls_table;
	if (f->sym[S_DTLS_method].found &&
	    getter_table(c, f->sym[S_DTLS_method].value, &c->dtls_table) == 0)
		r->dtls_method = c->dtls_table;

	/* layout: try the hinted one first, accept the first the code confirms */
	{
		int first =
		    f->new_verdef || (r->version[0] && strncmp(r->version, "OpenSSL 1.", 10) &&
				      strncmp(r->version, "OpenSSL 3.0.", 12) &&
				      strncmp(r->version, "OpenSSL 3.1.", 12));

		if (f->new_verdef || r->version[0])
			r->layout_hint = layouts[first].id;

		for (int t = 0; t < 2 && !r->layout; t++) {
			const struct mlayout *L = &layouts[t ? !first : first];
			uint64_t shut = 0;
			int64_t m;

			if (f->sym[S_ssl3_shutdown].found)
				shut = f->sym[S_ssl3_shutdown].value;
			else if (!c->tls_table || read_ptr(f, c->tls_table + L->shutdown, &shut))
				continue;
			if (confirm_layout(c, shut, L, &m, why, sizeof(why)))
				continue;
			r->layout = L->id;
			r->ssl.off_method = (int)m;
			c->fn_shut = shut;
			r->shutdown_fn = shut;
		}
		if (!r->layout)
			snprintf(c->layout_why, sizeof(c->layout_why),
				 "SSL_METHOD layout not confirmed: %.120s",
				 why[0] ? why : "no TLS_method table and no ssl3_shutdown symbol");
	}

	if (all) {
		r->from_symbols = 1;
		c->fn_tls_da = f->sym[S_ssl3_dispatch_alert].value;
		c->fn_dtls_da = f->sym[S_dtls1_dispatch_alert].value;
		c->fn_tls_rb = f->sym[S_ssl3_read_bytes].value;
		c->fn_dtls_rb = f->sym[S_dtls1_read_bytes].value;
		return;
	}
	if (!r->layout)
		return;
	{
		const struct mlayout *L = r->layout == 320 ? &layouts[1] : &layouts[0];
		uint32_t v;

		if (c->tls_table && !read_u32(f, c->tls_table, &v) && v == TLS_ANY_VERSION) {
			read_ptr(f, c->tls_table + L->read_bytes, &c->fn_tls_rb);
			read_ptr(f, c->tls_table + L->dispatch, &c->fn_tls_da);
		}
		if (c->dtls_table && !read_u32(f, c->dtls_table, &v) && v == DTLS_ANY_VERSION) {
			read_ptr(f, c->dtls_table + L->read_bytes, &c->fn_dtls_rb);
			read_ptr(f, c->dtls_table + L->dispatch, &c->fn_dtls_da);
		}
	}
}

static void check_entry(struct ctx *c, struct oh_probe *p, uint64_t va, const char *name)
{
	if (!va) {
		WHY(p, "%s not found", name);
		return;
	}
	if (c->f->nfde && !fde_at(c->f, va)) {
		WHY(p, "%s candidate 0x%llx is not an FDE start", name, (unsigned long long)va);
		p->vaddr = va;
		return;
	}
}

int oh_analyze(const char *path, const char *root, struct oh_result *r)
{
	struct efile f;
	struct ctx c = {0};
	int64_t send1, s31, ver1, send2, s32, ver2, v;
	int rc = -1;

	memset(r, 0, sizeof(*r));
	r->ssl.off_version = r->ssl.off_method = r->ssl.off_send_alert = r->ssl.off_s3 = -1;
	r->ssl.off_shutdown = -1;
	r->read.alert_reg = r->read.ssl_reg = r->dtls_read.alert_reg = r->dtls_read.ssl_reg = -1;
	if (!root)
		root = "";
	if (!path || strlen(path) >= sizeof(r->path)) {
		snprintf(r->why, sizeof(r->why), "bad path");
		r->rc = -1;
		return -1;
	}
	snprintf(r->path, sizeof(r->path), "%s", path);
	if (efile_open(&f, path)) {
		snprintf(r->why, sizeof(r->why), "%s", f.why);
		efile_close(&f);
		r->rc = -1;
		return -1;
	}
	snprintf(r->build_id, sizeof(r->build_id), "%s", f.build_id);
	if (f.version[0]) {
		snprintf(r->version, sizeof(r->version), "%s", f.version);
		snprintf(r->version_src, sizeof(r->version_src), "file");
	}
	if (!f.sym[S_TLS_method].found && !f.sym[S_SSL_CTX_new].found) {
		snprintf(r->why, sizeof(r->why),
			 "not an OpenSSL library: defines neither TLS_method nor SSL_CTX_new");
		goto out;
	}
	if (cs_open(CS_ARCH_X86, CS_MODE_64, &c.h) != CS_ERR_OK) {
		snprintf(r->why, sizeof(r->why), "capstone: cannot open an x86-64 disassembler");
		goto out;
	}
	cs_option(c.h, CS_OPT_DETAIL, CS_OPT_ON);
	c.f = &f;
	c.r = r;
	rc = 0;

	/* libcrypto first: it may supply the version that hints the layout */
	analyse_err(&c, path, root);
	c.shutdown_off = getter_field(&c, S_SSL_get_shutdown, 4);
	locate_functions(&c);
	r->ssl.off_method_version = -1;

	check_entry(&c, &r->dispatch, c.fn_tls_da, "ssl3_dispatch_alert");
	check_entry(&c, &r->dtls_dispatch, c.fn_dtls_da, "dtls1_dispatch_alert");
	send1 = send2 = s31 = s32 = ver1 = ver2 = -2;
	if (c.fn_tls_da && !r->dispatch.why[0])
		analyse_dispatch(&c, &r->dispatch, c.fn_tls_da, f.sym[S_ssl3_dispatch_alert].size,
				 "ssl3_dispatch_alert", &send1, &s31, &ver1);
	if (c.fn_dtls_da && !r->dtls_dispatch.why[0])
		analyse_dispatch(&c, &r->dtls_dispatch, c.fn_dtls_da,
				 f.sym[S_dtls1_dispatch_alert].size, "dtls1_dispatch_alert", &send2,
				 &s32, &ver2);
	if (!c.fn_tls_rb)
		WHY(&r->read.p, "ssl3_read_bytes not found");
	else
		analyse_read(&c, &r->read, c.fn_tls_rb, f.sym[S_ssl3_read_bytes].size,
			     "ssl3_read_bytes");
	if (!c.fn_dtls_rb)
		WHY(&r->dtls_read.p, "dtls1_read_bytes not found");
	else
		analyse_read(&c, &r->dtls_read, c.fn_dtls_rb, f.sym[S_dtls1_read_bytes].size,
			     "dtls1_read_bytes");

	/* SSL field offsets, each from two places where possible */
	{
		struct oh_layout *L = &r->ssl;
		int64_t gv = getter_field(&c, S_SSL_version, 4);
		int64_t gm = getter_field(&c, S_SSL_get_ssl_method, 8);
		uint32_t tv = 0, dv = 0;

		L->off_shutdown = c.shutdown_seen ? (int)c.shutdown_off : -1;
		if (send1 >= 0 || send2 >= 0) {
			L->off_send_alert = (int)(send1 >= 0 ? send1 : send2);
			L->off_s3 = (int)(send1 >= 0 ? s31 : s32);
		}
		v = ver1 >= 0 ? ver1 : ver2;
		L->off_version = (int)(gv >= 0 ? gv : v);
		if (L->off_method < 0 && gm >= 0)
			L->off_method = (int)gm;
		/* SSL_METHOD.version is the first field: the tables start with the ANY versions */
		if ((c.tls_table && !read_u32(&f, c.tls_table, &tv) && tv == TLS_ANY_VERSION) ||
		    (c.dtls_table && !read_u32(&f, c.dtls_table, &dv) && dv == DTLS_ANY_VERSION))
			L->off_method_version = 0;

		if (send1 >= 0 && send2 >= 0 && (send1 != send2 || s31 != s32))
			WHY(L, "send_alert: TLS and DTLS dispatch disagree (+0x%llx, +0x%llx)",
			    (unsigned long long)send1, (unsigned long long)send2);
		else if (ver1 >= 0 && ver2 >= 0 && ver1 != ver2)
			WHY(L, "version: TLS and DTLS dispatch disagree (+0x%llx, +0x%llx)",
			    (unsigned long long)ver1, (unsigned long long)ver2);
		else if (gv >= 0 && v >= 0 && gv != v)
			WHY(L, "version: SSL_version reads +0x%llx, dispatch passes +0x%llx",
			    (unsigned long long)gv, (unsigned long long)v);
		else if (gm >= 0 && r->layout && gm != L->off_method)
			WHY(L, "method: SSL_get_ssl_method reads +0x%llx, ssl3_shutdown uses +0x%x",
			    (unsigned long long)gm, L->off_method);
		else if (!r->layout)
			WHY(L, "%s", c.layout_why);
		else if (L->off_method_version < 0)
			WHY(L, "method tables do not start with TLS_ANY_VERSION/DTLS_ANY_VERSION");
		else if (L->off_version < 0 || L->off_method < 0 || L->off_send_alert < 0)
			WHY(L, "not found: version %d, method %d, send_alert %d", L->off_version,
			    L->off_method, L->off_send_alert);
		else
			L->ok = 1;
	}
out:
	if (c.h)
		cs_close(&c.h);
	efile_close(&f);
	r->rc = rc;
	return rc;
}

/* ------------------------------------------------------------------------------------------ */
/* Cache: one analysis per distinct file for the life of the process */

struct cache_ent {
	struct cache_ent *next;
	char key[PATH_MAX + 96];
	struct oh_result r;
};

static struct cache_ent *cache_head;
static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;

static int cache_key(const char *path, const char *root, char *key, size_t n)
{
	struct efile f;
	struct stat st;

	/* build-id when the file has one (cheap compared with the analysis), else dev+inode */
	memset(&f, 0, sizeof(f));
	if (stat(path, &st))
		return -1;
	if (!efile_open(&f, path) && f.build_id[0])
		snprintf(key, n, "b:%s:%s", f.build_id, root);
	else
		snprintf(key, n, "i:%llx:%llx:%lld:%s", (unsigned long long)st.st_dev,
			 (unsigned long long)st.st_ino, (long long)st.st_mtime, root);
	efile_close(&f);
	return 0;
}

const struct oh_result *oh_analyze_cached(const char *path, const char *root)
{
	char key[sizeof(((struct cache_ent *)0)->key)];
	struct cache_ent *e;

	if (!root)
		root = "";
	if (!path || cache_key(path, root, key, sizeof(key)))
		return NULL;
	pthread_mutex_lock(&cache_lock);
	for (e = cache_head; e; e = e->next)
		if (!strcmp(e->key, key))
			break;
	if (!e) {
		e = calloc(1, sizeof(*e));
		if (e) {
			snprintf(e->key, sizeof(e->key), "%s", key);
			oh_analyze(path, root, &e->r);
			e->next = cache_head;
			cache_head = e;
		}
	}
	pthread_mutex_unlock(&cache_lock);
	return e ? &e->r : NULL;
}
