// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The fatal-receive fallback: ERR_vset_error (3.x) or ERR_put_error (1.1.1), and the BIO layout
 * (ossl_bio.c), in the libcrypto the library depends on, found the way ld.so would (DT_RUNPATH/DT_RPATH, then the standard
 * directories) under the process's root; or in the file itself when it links libcrypto in.
 */
#include "ossl_local.h"

#include <limits.h>
#include <string.h>
#include <sys/stat.h>

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

static int find_crypto(const struct ofile *f, const char *path, const char *root, char *out,
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
	if (f->e.runpath[0]) {
		char rp[sizeof(f->e.runpath)], *save = NULL, *tok;

		snprintf(rp, sizeof(rp), "%s", f->e.runpath);
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

static int err_probe_in(const struct ofile *f, struct oh_result *r)
{
	int k = f->sym[S_ERR_vset_error]  ? S_ERR_vset_error
		: f->sym[S_ERR_put_error] ? S_ERR_put_error
					  : -1;
	uint64_t va, off;

	if (k < 0)
		return -1;
	va = f->sym[k]->value;
	r->err_kind = k == S_ERR_vset_error ? OH_ERR_VSET : OH_ERR_PUT;
	r->err.vaddr = va;
	if (f->fdes.n && !bin_fde_at(&f->fdes, va)) {
		WHY(&r->err, "%s at 0x%llx is not an FDE start", ossl_names[k],
		    (unsigned long long)va);
		return 0;
	}
	if (bin_elf_va2off(&f->e, va, 1, &off, 1)) {
		WHY(&r->err, "%s at 0x%llx is not in an executable segment", ossl_names[k],
		    (unsigned long long)va);
		return 0;
	}
	r->err.file_off = off;
	r->err.ok = 1;
	return 0;
}

void ossl_analyse_err(struct ofile *f, struct oh_result *r, const char *path, const char *root)
{
	struct ofile cf;

	if (!err_probe_in(f, r)) {
		snprintf(r->err_path, sizeof(r->err_path), "%s", path);
		ossl_analyse_bio_crypto(f, r); /* libcrypto linked in */
		return;
	}
	if (find_crypto(f, path, root, r->err_path, sizeof(r->err_path))) {
		if (f->needed_crypto[0])
			WHY(&r->err, "%s not found under the library's directory or root",
			    f->needed_crypto);
		else
			WHY(&r->err, "no ERR_vset_error/ERR_put_error and no libcrypto dependency");
		r->err_path[0] = 0;
		return;
	}
	if (ofile_open(&cf, r->err_path)) {
		WHY(&r->err, "%s: %s", r->err_path, cf.e.why);
		ofile_close(&cf);
		return;
	}
	if (err_probe_in(&cf, r))
		WHY(&r->err, "%s exports neither ERR_vset_error nor ERR_put_error", r->err_path);
	ossl_analyse_bio_crypto(&cf, r);
	if (!r->version[0] && cf.version[0]) {
		snprintf(r->version, sizeof(r->version), "%s", cf.version);
		snprintf(r->version_src, sizeof(r->version_src), "libcrypto");
	}
	ofile_close(&cf);
}
