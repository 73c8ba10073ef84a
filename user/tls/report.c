// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The coverage report (libpath.h's libs_report): one block or JSON object per library file. */
#include <limits.h>
#include <stdio.h>
#include "jsonw.h"
#include "libpath.h"
#include "libpath_local.h"
#include "strutil.h"

static const char *provider_name(const struct lib *l)
{
	return l->pv >= 0 ? tls_providers[l->pv]->name : "none";
}

static void report_json(FILE *f, const struct lib *l)
{
	const struct tp_plan *p = &l->plan;
	struct jsonw w;
	int h;

	jsonw_init(&w, f);
	jsonw_start_object(&w);
	jsonw_string_field(&w, "type", "library");
	jsonw_uint_field(&w, "lib_id", l->id);
	jsonw_string_field(&w, "provider", provider_name(l));
	jsonw_string_field(&w, "path", l->path);
	jsonw_string_field(&w, "build_id", p->build_id);
	jsonw_string_field(&w, "version", p->version);
	for (h = 0; h < p->nhooks; h++)
		jsonw_bool_field(&w, p->hooks[h].key, l->on[h]);
	if (!l->refused)
		jsonw_uint_field(&w, "analysis_us", (__u64)(l->ms * 1000));
	jsonw_bool_field(&w, "cached", l->cached);
	jsonw_name(&w, "reasons");
	jsonw_start_object(&w);
	if (l->refused)
		jsonw_string_field(&w, "analysis", p->why);
	for (h = 0; h < p->nhooks && !l->refused; h++)
		if (!l->on[h] && l->why[h][0])
			jsonw_string_field(&w, p->hooks[h].key, l->why[h]);
	jsonw_end_object(&w);
	jsonw_end_object(&w);
}

static void report_text(FILE *f, const struct lib *l)
{
	const struct tp_plan *p = &l->plan;
	char buf[PATH_MAX + 64];
	int h;

	/* Paths and the version string come from the traced host: print them defanged. */
	fprintf(f, "library %u: %s\n", l->id, text_safe(l->path, buf, sizeof(buf)));
	if (l->refused) {
		fprintf(f, "    not hooked: %s\n", text_safe(p->why, buf, sizeof(buf)));
		return;
	}
	fprintf(f, "    %s, build-id %s%s\n",
		p->version[0] ? text_safe(p->version, buf, sizeof(buf)) : "unknown version",
		p->build_id[0] ? p->build_id : "none", p->detail);
	fprintf(f, "    hooks:");
	for (h = 0; h < p->nhooks; h++)
		fprintf(f, "%s %s %s", h ? "," : "", p->hooks[h].name, l->on[h] ? "yes" : "no");
	fprintf(f, "\n");
	for (h = 0; h < p->nhooks; h++)
		if (!l->on[h] && l->why[h][0])
			fprintf(f, "    %s: %s\n", p->hooks[h].name,
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
		fprintf(f, "libs: no TLS library found (name one with --lib PATH)\n");
	fflush(f);
}

