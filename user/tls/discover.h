/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Discovery for the library path: which files processes on this host and in containers map
 * (/proc/PID/maps), plus the dynamic linker's cache, the standard library directories and the
 * standard binary directories at the first scan. Every executable file mapping whose (device, inode) is new is offered to the
 * library path once; the set of files seen (with what became of each) lives here.
 *
 * Files in other mount namespaces are reached as /proc/PID/root/PATH, files replaced on disk or
 * behind a private mount as /proc/PID/map_files/RANGE.
 */
#ifndef AT_DISCOVER_H
#define AT_DISCOVER_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>
#include <linux/types.h>

struct disc_fent {
	__u64 dev, ino;
	int val;		/* the library path's verdict: >= 0 a library index, -1 not a TLS file */
	bool used;
};

struct disc {
	/* Offer one file. path: how to open it from here; root: its process's root ("" ours);
	 * mdev/mino: the key of the maps line that named it (0/0 when none); named: the user
	 * named it or its base name is a TLS library's. Returns 1 when a library was hooked. */
	int (*consider)(void *ctx, const char *path, const char *root, __u64 mdev, __u64 mino,
			bool named);
	/* Analyse a program of the standard binary directories for the cache, without hooking it
	 * or marking it seen (it is hooked when it runs); NULL: not done. */
	void (*prepare)(void *ctx, const char *path);
	/* A base name a provider claims (libssl.so.3): the linker cache and directories. */
	bool (*named)(const char *base);
	void *ctx;
	/* internal */
	struct disc_fent *set;
	size_t setcap, setn;
	__u64 self_mntns;
	struct stat self_root;
	char *buf;		/* /proc/PID/maps contents */
	size_t bufcap;
};

/* Returns 0 or -errno (cannot stat /). */
int disc_init(struct disc *d);
void disc_free(struct disc *d);
/* The set of files seen, keyed by (device, inode). */
struct disc_fent *disc_find(struct disc *d, __u64 dev, __u64 ino);
int disc_put(struct disc *d, __u64 dev, __u64 ino, int val);
/* The linker cache and the standard library directories (first scan; the programs of the
 * standard binary directories are only prepared). Returns libraries hooked. */
int disc_scan_static(struct disc *d);
/* Every process. Returns libraries hooked, or -errno when /proc cannot be listed. */
int disc_scan_procs(struct disc *d, int *nprocs, int *nfiles);
/* One process (an exec, a new mapping). Returns libraries hooked; *nfiles counts new files. */
int disc_scan_pid(struct disc *d, int pid, int *nfiles);

#endif
