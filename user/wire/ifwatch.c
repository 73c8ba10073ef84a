// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Interfaces that come and go: see ifwatch.h. */
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <net/if.h>
#include <sys/socket.h>
#include <linux/rtnetlink.h>
#include <netlink/netlink.h>
#include <netlink/msg.h>
#include <netlink/attr.h>
#include <netlink/socket.h>
#include "ifaces.h"
#include "ifwatch.h"
#include "jsonw.h"
#include "log.h"
#include "strutil.h"

#define MAX_DEFAULT 64
#define AT_IFW_RCVBUF (1 << 20)
/* Notification batches read per ifw_handle(): the rest wait for the next poll. */
#define MAX_BATCHES 256

enum link_state { L_IDLE, L_ATTACHED, L_SKIPPED };

struct ifw_link {
	int ifindex;
	unsigned short type;		/* ARPHRD_* */
	char name[IF_NAMESIZE];
	char attached_as[IF_NAMESIZE];	/* its name when attached */
	unsigned short attached_type;	/* and its link type */
	bool present;			/* in the last dump or notification */
	bool pinned;			/* a plain name of -i, resolved at start */
	enum link_state st;
};

struct ifwatch {
	struct if_spec spec;
	struct ifw_ops ops;
	struct nl_sock *sk;		/* notifications; NULL when nothing is followed */
	struct ifw_link *links;
	int n, cap;
	int dflt[MAX_DEFAULT], ndflt;	/* default-route interfaces */
	bool json, quiet, resync, dirty;
	FILE *held;			/* the start's report, until ifw_report_start() */
	char *held_buf;
	size_t held_len;
};

static struct ifw_link *find(struct ifwatch *w, int ifindex)
{
	int i;

	for (i = 0; i < w->n; i++)
		if (w->links[i].ifindex == ifindex)
			return &w->links[i];
	return NULL;
}

static void link_seen(struct ifwatch *w, int ifindex, unsigned short type, const char *name,
		      bool present)
{
	struct ifw_link *l = find(w, ifindex), *nl;

	if (!l && !present)
		return;
	if (!l) {
		if (w->n == w->cap) {
			nl = realloc(w->links, (w->cap ? w->cap * 2 : 16) * sizeof(*nl));
			if (!nl)
				return; /* seen again at the next notification */
			w->links = nl;
			w->cap = w->cap ? w->cap * 2 : 16;
		}
		l = &w->links[w->n++];
		memset(l, 0, sizeof(*l));
		l->ifindex = ifindex;
	}
	l->type = type;
	l->present = present;
	if (strcmp(l->name, name) && l->st == L_SKIPPED)
		l->st = L_IDLE; /* a new name: judged again */
	snprintf(l->name, sizeof(l->name), "%s", name);
}

/* One rtnetlink message: a link (AF_UNSPEC only: a bridge's AF_BRIDGE RTM_DELLINK removes a
 * port, not the device) or a route to 0/0. */
static int on_msg(struct nl_msg *msg, void *arg)
{
	struct nlmsghdr *nh = nlmsg_hdr(msg);
	struct ifwatch *w = arg;

	w->dirty = true;
	if (nh->nlmsg_type == RTM_NEWLINK || nh->nlmsg_type == RTM_DELLINK) {
		struct nlattr *tb[IFLA_MAX + 1];
		struct ifinfomsg *ifi = nlmsg_data(nh);
		char name[IF_NAMESIZE];

		if (nlmsg_datalen(nh) < (int)sizeof(*ifi) || ifi->ifi_family != AF_UNSPEC ||
		    nlmsg_parse(nh, sizeof(*ifi), tb, IFLA_MAX, NULL) < 0 || !tb[IFLA_IFNAME])
			return NL_OK;
		nla_strlcpy(name, tb[IFLA_IFNAME], sizeof(name));
		link_seen(w, ifi->ifi_index, ifi->ifi_type, name, nh->nlmsg_type == RTM_NEWLINK);
	} else if (nh->nlmsg_type == RTM_NEWROUTE || nh->nlmsg_type == RTM_DELROUTE) {
		struct rtmsg *rt = nlmsg_data(nh);

		if (nlmsg_datalen(nh) >= (int)sizeof(*rt) && !rt->rtm_dst_len)
			w->ndflt = -1; /* read again */
	}
	return NL_OK;
}

/* Every link as the kernel has it now, on a socket of its own (the notifications' socket is
 * non-blocking). Links not in the dump are gone. 0 or a libnl error. */
static int dump_links(struct ifwatch *w)
{
	struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC};
	struct nl_sock *sk = nl_socket_alloc();
	int err, i;

	if (!sk)
		return -NLE_NOMEM;
	err = nl_connect(sk, NETLINK_ROUTE);
	if (!err)
		err = nl_socket_modify_cb(sk, NL_CB_VALID, NL_CB_CUSTOM, on_msg, w);
	for (i = 0; !err && i < w->n; i++)
		w->links[i].present = false;
	if (!err)
		err = nl_send_simple(sk, RTM_GETLINK, NLM_F_DUMP, &ifi, sizeof(ifi));
	if (err >= 0)
		err = nl_recvmsgs_default(sk);
	nl_socket_free(sk);
	return err < 0 ? err : 0;
}

static void report(struct ifwatch *w, const struct ifw_link *l, const char *event,
		   const char *reason)
{
	FILE *f = w->held ? w->held : stderr;
	char b1[80], b2[600];
	struct timespec ts;
	struct jsonw j;

	if (w->quiet)
		return;
	if (!w->json) {
		fprintf(f, "interface %s (ifindex %d): %s: %s\n", text_safe(l->name, b1, sizeof(b1)),
			l->ifindex, event, text_safe(reason, b2, sizeof(b2)));
		return;
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	jsonw_init(&j, f);
	jsonw_start_object(&j);
	jsonw_string_field(&j, "type", "interface");
	jsonw_uint_field(&j, "ts", ts.tv_sec * 1000000000ULL + ts.tv_nsec);
	jsonw_string_field(&j, "ifname", l->name);
	jsonw_int_field(&j, "ifindex", l->ifindex);
	jsonw_string_field(&j, "event", event);
	jsonw_uint_field(&j, "link_type", l->type);
	jsonw_string_field(&j, "header", if_hdr_name(if_hdr_of(l->type)));
	jsonw_string_field(&j, "reason", reason);
	jsonw_end_object(&j);
	fflush(f);
}

static bool is_default(struct ifwatch *w, int ifindex)
{
	int i;

	if (w->ndflt < 0)
		w->ndflt = if_default_routes(w->dflt, MAX_DEFAULT);
	for (i = 0; i < w->ndflt; i++)
		if (w->dflt[i] == ifindex)
			return true;
	return false;
}

/* Whether -i wants l now, and why (into why). */
static bool wanted(struct ifwatch *w, const struct ifw_link *l, char *why, size_t n)
{
	const char *pat;

	if (!l->present)
		return false;
	if (l->pinned) {
		snprintf(why, n, "named by -i");
		return true;
	}
	if (w->spec.all) {
		snprintf(why, n, "-i all");
		return true;
	}
	if (w->spec.dflt && !strcmp(l->name, "lo")) {
		snprintf(why, n, "the default: loopback");
		return true;
	}
	if (w->spec.dflt && is_default(w, l->ifindex)) {
		snprintf(why, n, "the default: a default route leaves through it");
		return true;
	}
	pat = if_spec_pattern_match(&w->spec, l->name);
	if (pat)
		snprintf(why, n, "matches -i pattern '%s'", pat);
	return pat;
}

/* Why l, attached, is let go. */
static void gone_why(struct ifwatch *w, const struct ifw_link *l, char *why, size_t n)
{
	if (!l->present)
		snprintf(why, n, "the device was deleted or left this network namespace");
	else if (strcmp(l->name, l->attached_as))
		snprintf(why, n, "renamed from %s to a name -i does not match", l->attached_as);
	else
		snprintf(why, n, "no default route leaves through it any more");
}

/* Attach what is wanted and not attached, let go what is attached and not wanted, drop the links
 * that are gone. At start (strict) a failure to attach is an error. */
static int sync_links(struct ifwatch *w, bool strict, char *err, size_t errlen)
{
	char why[160], msg[256], out[448];
	int i, ret;

	for (i = 0; i < w->n; i++) {
		struct ifw_link *l = &w->links[i];
		enum if_hdr h = if_hdr_of(l->type);
		bool want = wanted(w, l, why, sizeof(why));

		/* A tun's type may change while it is down (TUNSETLINK): judged again. */
		if (l->st == L_ATTACHED && l->present && l->type != l->attached_type) {
			w->ops.detach(w->ops.ctx, l->ifindex, if_hdr_of(l->attached_type) == IF_HDR_IP);
			snprintf(msg, sizeof(msg), "its link type changed from %u to %u",
				 l->attached_type, l->type);
			report(w, l, "detached", msg);
			l->st = L_IDLE;
		}
		if (want && l->st == L_IDLE && h == IF_HDR_NONE) {
			snprintf(out, sizeof(out), "%s, but its link type %u carries neither an "
				 "Ethernet nor an IP header", why, l->type);
			report(w, l, "skipped", out);
			l->st = L_SKIPPED;
		} else if (want && l->st == L_IDLE) {
			msg[0] = 0;
			ret = w->ops.attach(w->ops.ctx, l->ifindex, h == IF_HDR_IP, msg, sizeof(msg));
			if (ret && strict) {
				snprintf(err, errlen, "%s", msg);
				return ret;
			}
			if (ret) {
				snprintf(out, sizeof(out), "%s, but %s", why, msg);
				report(w, l, "skipped", out);
				l->st = L_SKIPPED;
				continue;
			}
			snprintf(l->attached_as, sizeof(l->attached_as), "%s", l->name);
			l->attached_type = l->type;
			report(w, l, "attached", why);
			l->st = L_ATTACHED;
		} else if (!want && l->st == L_ATTACHED) {
			w->ops.detach(w->ops.ctx, l->ifindex, if_hdr_of(l->attached_type) == IF_HDR_IP);
			gone_why(w, l, why, sizeof(why));
			report(w, l, "detached", why);
			l->st = L_IDLE;
		} else if (!want && l->st == L_SKIPPED) {
			l->st = L_IDLE; /* judged again when it is wanted again */
		}
		if (!l->present)
			w->links[i--] = w->links[--w->n];
	}
	return 0;
}

/* The notifications first, then the dump: nothing that happens in between is missed. */
static int subscribe(struct ifwatch *w)
{
	int err;

	w->sk = nl_socket_alloc();
	if (!w->sk)
		return -NLE_NOMEM;
	nl_socket_disable_seq_check(w->sk);
	err = nl_socket_modify_cb(w->sk, NL_CB_VALID, NL_CB_CUSTOM, on_msg, w);
	if (!err)
		err = nl_connect(w->sk, NETLINK_ROUTE);
	if (!err)
		err = nl_socket_add_memberships(w->sk, RTNLGRP_LINK, 0);
	if (!err && w->spec.dflt)
		err = nl_socket_add_memberships(w->sk, RTNLGRP_IPV4_ROUTE, RTNLGRP_IPV6_ROUTE, 0);
	if (!err)
		err = nl_socket_set_nonblocking(w->sk);
	/* A burst of container veths fits; an overflow (ENOBUFS) dumps again. FORCE (CAP_NET_ADMIN,
	 * which the wire source has) passes net.core.rmem_max, 208 KiB by default. */
	if (!err && setsockopt(nl_socket_get_fd(w->sk), SOL_SOCKET, SO_RCVBUFFORCE,
			       &(int){AT_IFW_RCVBUF}, sizeof(int)))
		nl_socket_set_buffer_size(w->sk, AT_IFW_RCVBUF, 0);
	return err;
}

/* Plain names are resolved once, at start: unknown ones and those of no header are errors. */
static int pin_names(struct ifwatch *w, char *err, size_t errlen)
{
	struct ifw_link *l;
	int i;

	for (i = 0; i < w->spec.ntoks; i++) {
		const char *tok = w->spec.toks[i];
		int ifindex;

		if (if_is_pattern(tok))
			continue;
		ifindex = if_nametoindex(tok);
		l = ifindex ? find(w, ifindex) : NULL;
		if (!l) {
			snprintf(err, errlen, "unknown interface '%s': see 'ip link'", tok);
			return -ENODEV;
		}
		if (if_hdr_of(l->type) == IF_HDR_NONE) {
			snprintf(err, errlen, "cannot trace %s: its link type %u carries neither an "
				 "Ethernet nor an IP header", tok, l->type);
			return -EPROTONOSUPPORT;
		}
		l->pinned = true;
	}
	return 0;
}

int ifw_open(struct ifwatch **wp, const char *spec, const struct ifw_ops *ops, bool json,
	     bool quiet, char *err, size_t errlen)
{
	struct ifwatch *w = calloc(1, sizeof(*w));
	int ret;

	*wp = NULL;
	if (!w)
		return -ENOMEM;
	w->ops = *ops;
	w->json = json;
	w->quiet = quiet;
	w->ndflt = -1;
	ret = if_spec_parse(spec, &w->spec, err, errlen);
	if (ret)
		goto fail;
	if (w->spec.follow) {
		ret = subscribe(w);
		if (ret) {
			snprintf(err, errlen, "cannot follow interfaces through rtnetlink: %s",
				 nl_geterror(ret));
			ret = -EIO;
			goto fail;
		}
	}
	ret = dump_links(w);
	if (ret) {
		snprintf(err, errlen, "cannot list the interfaces through rtnetlink: %s",
			 nl_geterror(ret));
		ret = -EIO;
		goto fail;
	}
	ret = pin_names(w, err, errlen);
	if (ret)
		goto fail;
	*wp = w;
	return 0;
fail:
	ifw_close(w);
	return ret;
}

static bool matches_any(const struct ifwatch *w, const char *pat)
{
	int i;

	for (i = 0; i < w->n; i++)
		if (!fnmatch(pat, w->links[i].name, 0))
			return true;
	return false;
}

int ifw_start(struct ifwatch *w, char *err, size_t errlen)
{
	w->held = open_memstream(&w->held_buf, &w->held_len);
	return sync_links(w, true, err, errlen);
}

void ifw_report_start(struct ifwatch *w)
{
	int i;

	if (!w || !w->held)
		return;
	fclose(w->held);
	w->held = NULL;
	fwrite(w->held_buf, 1, w->held_len, stderr);
	fflush(stderr);
	free(w->held_buf);
	w->held_buf = NULL;
	for (i = 0; i < w->spec.ntoks; i++)
		if (if_is_pattern(w->spec.toks[i]) && !matches_any(w, w->spec.toks[i]) && !w->quiet)
			p_info("-i: no interface matches '%s' yet: interfaces that appear and "
			       "match will be attached", w->spec.toks[i]);
}

int ifw_fd(const struct ifwatch *w)
{
	return w && w->sk ? nl_socket_get_fd(w->sk) : -1;
}

void ifw_handle(struct ifwatch *w)
{
	struct nl_cb *cb;
	char err[256];
	int i, r = 0;

	if (!w || !w->sk)
		return;
	cb = nl_socket_get_cb(w->sk);
	for (i = 0; i < MAX_BATCHES; i++) {
		r = nl_recvmsgs_report(w->sk, cb);
		if (r <= 0)
			break;
	}
	nl_cb_put(cb);
	/* The socket overflowed (ENOBUFS): notifications were lost, ask for everything again. */
	if (r == -NLE_NOMEM && !w->quiet)
		p_info("interface notifications overflowed the netlink socket: listing the "
		       "interfaces again");
	if (r == -NLE_NOMEM || w->resync) {
		w->resync = dump_links(w) != 0;
		w->ndflt = -1;
		w->dirty = true;
	}
	if (w->dirty)
		sync_links(w, false, err, sizeof(err));
	w->dirty = false;
}

int ifw_attached(const struct ifwatch *w)
{
	int i, n = 0;

	for (i = 0; w && i < w->n; i++)
		n += w->links[i].st == L_ATTACHED;
	return n;
}

void ifw_close(struct ifwatch *w)
{
	if (!w)
		return;
	if (w->sk)
		nl_socket_free(w->sk);
	if (w->held)
		fclose(w->held);
	free(w->held_buf);
	if_spec_free(&w->spec);
	free(w->links);
	free(w);
}
