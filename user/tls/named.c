// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The files the user named with --lib (libpath.h's libs_hook_named): looked at before the host,
 * and each must end hooked. A path named explicitly that cannot be hooked is an error at start,
 * not a line in the coverage report that a running tracer leaves behind.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include "discover.h"
#include "libpath.h"
#include "libpath_local.h"
#include "strutil.h"

/* Why the file a --lib named is not hooked, or NULL when at least one of its hooks is. */
static const char *named_failure(struct lib_tracer *lt, const char *path, char *why, size_t n)
{
	struct disc_fent *f;
	struct stat st;
	struct lib *l;
	char e[64];
	int h;

	if (stat(path, &st) < 0) {
		snprintf(why, n, "cannot open: %s", errtext(errno, e, sizeof(e)));
		return why;
	}
	f = disc_find(&lt->disc, st.st_dev, st.st_ino);
	if (!f || f->val < 0 || f->val >= lt->nlibs)
		return "it could not be analysed (it changed while read, or too many libraries)";
	l = lt->libs[f->val];
	if (l->refused)
		return l->plan.why;
	if (l->nlinks > 0)
		return NULL;
	for (h = 0; h < l->plan.nhooks && !l->why[h][0]; h++)
		;
	snprintf(why, n, "no hook could be placed%s%s%s", h < l->plan.nhooks ? " (" : "",
		 h < l->plan.nhooks ? l->why[h] : "", h < l->plan.nhooks ? ")" : "");
	return why;
}

int libs_hook_named(struct lib_tracer *lt, char *msg, size_t n)
{
	char why[300], buf[PATH_MAX + 64];
	const char *w;
	int i;

	if (!lt)
		return -EINVAL;
	if (lt->named_done)
		return 0;
	lt->named_done = true;
	for (i = 0; lt->extra[i]; i++)
		lp_scan_extra(lt, lt->extra[i]);
	for (i = 0; lt->extra[i]; i++) {
		w = named_failure(lt, lt->extra[i], why, sizeof(why));
		if (!w)
			continue;
		snprintf(msg, n, "--lib '%s' cannot be hooked: %s: give a TLS library (libssl, "
			 "libgnutls), a program that links one, or a Go program",
			 text_safe(lt->extra[i], buf, sizeof(buf)), w);
		return -EINVAL;
	}
	return 0;
}
