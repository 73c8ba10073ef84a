// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include "log.h"
#include "shared.h"

int shared_create(struct at_shared *s, __u32 ringbuf_size)
{
	s->events_fd = bpf_map_create(BPF_MAP_TYPE_RINGBUF, "events", 0, 0, ringbuf_size, NULL);
	s->hist_fd = bpf_map_create(BPF_MAP_TYPE_HASH, "hist", sizeof(struct at_hist_key),
				    sizeof(__u64), AT_HIST_MAX, NULL);
	s->owners_fd = bpf_map_create(BPF_MAP_TYPE_LRU_HASH, "owners", sizeof(struct at_sock_key),
				      sizeof(struct at_owner), AT_OWNERS_MAX, NULL);
	if (s->events_fd < 0 || s->hist_fd < 0 || s->owners_fd < 0) {
		int err = -errno;

		shared_close(s);
		return err;
	}
	return 0;
}

int shared_reuse(struct bpf_object *obj, const struct at_shared *s)
{
	static const char *names[] = {"events", "hist", "owners"};
	const int fds[] = {s->events_fd, s->hist_fd, s->owners_fd};
	struct bpf_map *m;
	int i, err;

	for (i = 0; i < 3; i++) {
		m = bpf_object__find_map_by_name(obj, names[i]);
		if (!m)
			continue;
		err = bpf_map__reuse_fd(m, fds[i]);
		if (err)
			return err;
	}
	return 0;
}

void shared_close(struct at_shared *s)
{
	if (s->events_fd >= 0)
		close(s->events_fd);
	if (s->hist_fd >= 0)
		close(s->hist_fd);
	if (s->owners_fd >= 0)
		close(s->owners_fd);
	s->events_fd = s->hist_fd = s->owners_fd = -1;
}

double shared_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/*
 * Each program's time is from its load_time (boot time when its BPF_PROG_LOAD began) to the
 * next one's, the last one's to t1: the verifier's, and libbpf's between two loads.
 */
void shared_report_load(const char *what, const struct bpf_object *obj, double t0, double t1)
{
	struct timespec ts;
	struct bpf_program *p;
	char line[1024];
	__u64 prev = 0, end;
	size_t n = 0;
	int fd;

	if (!log_verbose())
		return;
	/* t1 in boot time: CLOCK_MONOTONIC and CLOCK_BOOTTIME differ by the time suspended. */
	clock_gettime(CLOCK_BOOTTIME, &ts);
	end = ts.tv_sec * 1000000000ULL + ts.tv_nsec - (__u64)((shared_now_ms() - t1) * 1e6);
	line[0] = 0;
	bpf_object__for_each_program(p, obj) {
		struct bpf_prog_info info = {};
		__u32 len = sizeof(info);

		fd = bpf_program__fd(p);
		if (fd < 0 || bpf_obj_get_info_by_fd(fd, &info, &len))
			continue;
		if (prev && n < sizeof(line))
			n += snprintf(line + n, sizeof(line) - n, " %.1f ms,",
				      (info.load_time - prev) / 1e6);
		if (n < sizeof(line))
			n += snprintf(line + n, sizeof(line) - n, " %s %u insns verified", info.name,
				      info.verified_insns);
		prev = info.load_time;
	}
	if (prev && n < sizeof(line))
		snprintf(line + n, sizeof(line) - n, " %.1f ms", (double)(__s64)(end - prev) / 1e6);
	p_debug("start-up: %s loaded in %.1f ms:%s\n", what, t1 - t0, line);
}

static void *bgload_run(void *arg)
{
	struct bgload *b = arg;

	b->t0 = shared_now_ms();
	b->err = bpf_object__load_skeleton(b->s);
	b->t1 = shared_now_ms();
	return NULL;
}

void bgload_start(struct bgload *b, struct bpf_object_skeleton *s)
{
	b->s = s;
	b->err = 0;
	b->running = !pthread_create(&b->th, NULL, bgload_run, b);
	if (!b->running)
		bgload_run(b);
}

int bgload_wait(struct bgload *b)
{
	if (b->running) {
		pthread_join(b->th, NULL);
		b->running = false;
	}
	return b->err;
}
