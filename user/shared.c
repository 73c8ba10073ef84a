// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
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
