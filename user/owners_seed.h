/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The last resort of attribution: TCP sockets that existed before alerttrace started (a server
 * that has been listening for days) are invisible to bpf/sock.bpf.c, which sees connect() and
 * listen() as they happen. At start, /proc tells who owns them: /proc/PID/net/tcp{,6} of every
 * network namespace gives socket inodes and their ends, /proc/PID/fd gives the inodes' owners.
 */
#ifndef AT_OWNERS_SEED_H
#define AT_OWNERS_SEED_H

/* Add the owners of existing TCP listeners and connections to the owners map (never replacing
 * what the kernel side recorded). Returns the number of sockets added, or -errno. */
int owners_seed(int owners_fd);

#endif
