/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The one diagnostic sink of every module (bpftool's p_err/p_info from main.h): one line per
 * message on stderr, a JSON object with -j so a consumer can parse stderr too.
 *
 *                text                      -j
 *   p_err        alerttrace: MSG           {"error":"MSG"}    something failed or was lost
 *   p_info       MSG                       {"info":"MSG"}     a notice (start, clean-up)
 *   p_debug      MSG (only with -v)        MSG (only with -v) diagnostics for a human
 *
 * p_debug stays text with -j: libbpf's log and the verifier's output arrive through it in
 * fragments of lines and pages of text that no one JSON object per line could carry, and whoever
 * adds -v asks for a human's diagnostics. MSG is formatted without a trailing newline (p_debug
 * prints exactly what it is given, newlines included).
 */
#ifndef AT_LOG_H
#define AT_LOG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>

void log_set_json(bool json);
void log_set_verbose(bool verbose);
bool log_verbose(void);
/* Where messages go; NULL: stderr (the default). For tests. */
void log_set_file(FILE *f);

void __attribute__((format(printf, 1, 2))) p_err(const char *fmt, ...);
void __attribute__((format(printf, 1, 2))) p_info(const char *fmt, ...);
void __attribute__((format(printf, 1, 2))) p_debug(const char *fmt, ...);
/* p_debug for a va_list, for libbpf_set_print; returns what vfprintf returns, 0 without -v. */
int p_vdebug(const char *fmt, va_list ap);

#endif
