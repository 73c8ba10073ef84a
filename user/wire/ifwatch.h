/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Interfaces that come and go: the interfaces -i names (ifaces.h) attached at start and, for a
 * pattern, "all" and the default, followed after start through rtnetlink notifications (libnl-3:
 * RTNLGRP_LINK; the default also RTNLGRP_IPV4_ROUTE and RTNLGRP_IPV6_ROUTE). A new interface that
 * matches is attached when its notification is read, one renamed out of the pattern or deleted is
 * let go. Every change is one line on stderr, or one {"type":"interface",...} object with -j.
 *
 *	ifw_open(&w, spec, &ops, json, quiet, err, n);	the spec checked, the first dump
 *	ifw_start(w, err, n);				attach what matches now
 *	ifw_report_start(w);				and say so
 *	epoll on ifw_fd(w) -> ifw_handle(w);		the changes
 *	ifw_close(w);
 */
#ifndef AT_IFWATCH_H
#define AT_IFWATCH_H

#include <stdbool.h>
#include <stddef.h>

struct ifwatch;

struct ifw_ops {
	/* Attach to ifindex; l3: its packets start at the IP header. 0 or -errno, one line in
	 * err. */
	int (*attach)(void *ctx, int ifindex, bool l3, char *err, size_t errlen);
	void (*detach)(void *ctx, int ifindex, bool l3);
	void *ctx;
};

/* spec: -i's argument or NULL. An unknown plain name, or one whose device carries neither an
 * Ethernet nor an IP header, is an error. 0 or -errno with one line in err. */
int ifw_open(struct ifwatch **w, const char *spec, const struct ifw_ops *ops, bool json,
	     bool quiet, char *err, size_t errlen);
/* Attach every interface that matches now; a failure is an error at start. What it attached is
 * said by ifw_report_start(), once the whole start went well (an error at start is its one
 * line). */
int ifw_start(struct ifwatch *w, char *err, size_t errlen);
void ifw_report_start(struct ifwatch *w);
/* The netlink socket to poll, or -1 when nothing is followed (plain names only). */
int ifw_fd(const struct ifwatch *w);
/* Read the notifications waiting and follow them. */
void ifw_handle(struct ifwatch *w);
/* Interfaces attached now. */
int ifw_attached(const struct ifwatch *w);
/* Forget everything (the caller detaches the filters). Accepts NULL. */
void ifw_close(struct ifwatch *w);

#endif
