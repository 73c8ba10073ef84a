// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include "jsonw.h"
#include "log.h"

static bool json_mode, verbose_mode;
static FILE *log_file;

void log_set_json(bool json)
{
	json_mode = json;
}

void log_set_verbose(bool verbose)
{
	verbose_mode = verbose;
}

bool log_verbose(void)
{
	return verbose_mode;
}

void log_set_file(FILE *f)
{
	log_file = f;
}

static FILE *out(void)
{
	return log_file ? log_file : stderr;
}

/* One line: "PREFIX MSG" in text, {"KEY":"MSG"} with -j. */
static void emit(const char *key, const char *prefix, const char *fmt, va_list ap)
{
	char msg[512];
	struct jsonw w;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (!json_mode) {
		fprintf(out(), "%s%s\n", prefix, msg);
		return;
	}
	jsonw_init(&w, out());
	jsonw_start_object(&w);
	jsonw_string_field(&w, key, msg);
	jsonw_end_object(&w);
}

void p_err(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	emit("error", "alerttrace: ", fmt, ap);
	va_end(ap);
}

void p_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	emit("info", "", fmt, ap);
	va_end(ap);
}

int p_vdebug(const char *fmt, va_list ap)
{
	return verbose_mode ? vfprintf(out(), fmt, ap) : 0;
}

void p_debug(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	p_vdebug(fmt, ap);
	va_end(ap);
}
