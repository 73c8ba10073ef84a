/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The library path: find every TLS library on the host and in containers (discover.h), offer each
 * distinct file to the providers (provider.h), analyse it once per build-id, attach its
 * provider's uprobes, keep watching for new ones, and report coverage.
 */
#ifndef AT_LIBS_H
#define AT_LIBS_H

#include <stdbool.h>
#include <stdio.h>
#include <linux/types.h>

struct at_shared;

struct libs_opts {
	const char **extra;	/* --lib PATH, NULL-terminated, may be NULL */
	__u32 *pids;		/* -p filter, npids entries (0: no filter) */
	int npids;
	bool verbose;
	const struct at_shared *shared;	/* the tracer's maps and filters (user/shared.h); NULL:
				 * a private setup with pids and ringbuf_fd (tests) */
	bool err_always;	/* attach the ERR fallback even where the read probe is attached
				 * (tests, diagnostics: fatal received alerts are then seen twice) */
};

struct lib_tracer;

/* Open and load bpf/ossl.bpf.c sharing the ring buffer map ringbuf_fd. Returns 0 or -errno. */
int libs_open(struct lib_tracer **lt, const struct libs_opts *o, int ringbuf_fd);
/* The files of --lib (libs_opts.extra) first: each must end with at least one hook attached.
 * 0, or -EINVAL with one line in msg naming the first that cannot be hooked and why. libs_scan
 * looks at them itself when this was not called. */
int libs_hook_named(struct lib_tracer *lt, char *msg, size_t n);
/* Scan /proc/PID/maps (and the linker cache on the first call); hook new files.
 * Returns the number of libraries hooked by this call, or -errno when /proc cannot be read. */
int libs_scan(struct lib_tracer *lt);
struct execwatch;
/* Tell the library path about discovery at exec (execwatch.h) before the first scan: every file
 * looked at is marked seen there, and dynamic linkers get their hook. */
void libs_set_execwatch(struct lib_tracer *lt, struct execwatch *ew);
/* One process now (it just ran exec or mapped a new file). Returns the libraries hooked. */
int libs_scan_pid(struct lib_tracer *lt, int pid);
/* The binary directories' programs a child prepared since the last call, hooked: returns how
 * many (the first scan hands it those whose look or analysis needs a file read). */
int libs_prepared(struct lib_tracer *lt);
/* Coverage report on f (stderr): one block per library, or JSON lines; each library is reported
 * once: later calls report what rescans added (hooked or refused). */
void libs_report(struct lib_tracer *lt, FILE *f, bool json);
/* Path of the library for an event's lib_id, "?" when unknown. */
const char *libs_path(struct lib_tracer *lt, __u32 lib_id);
/* Libraries with at least one hook attached; 0 for NULL. */
int libs_hooked(struct lib_tracer *lt);
/* Ring-buffer reserve failures counted by the uprobes. */
__u64 libs_lost(struct lib_tracer *lt);
/* Alerts the uprobes could not count because the histogram map is full. */
__u64 libs_hist_lost(struct lib_tracer *lt);
/* Detach and free; accepts NULL. */
void libs_close(struct lib_tracer *lt);

#endif
