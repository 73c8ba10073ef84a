/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* What metrics.c (render, textfile) and metrics_http.c (the HTTP server) share. */
#ifndef AT_METRICS_LOCAL_H
#define AT_METRICS_LOCAL_H

#include <stddef.h>

#define METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* printf into err (errlen bytes); a no-op when err is NULL. */
void __attribute__((format(printf, 3, 4))) seterr(char *err, size_t errlen, const char *fmt, ...);

#endif
