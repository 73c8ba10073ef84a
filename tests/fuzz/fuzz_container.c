// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * libFuzzer target: the container names of user/out/container.c on any cgroup path (a process
 * with a delegated cgroup subtree names its cgroups as it likes, so the path is the traced
 * host's word). Beyond not crashing: an id is empty or 64 lowercase hex digits and names a
 * runtime exactly when it is not empty; a pod UID is empty or 8-4-4-4-12 hex digits with dashes
 * and comes with a QoS class exactly when it is not empty; and the id and UID each appear in the
 * path (the UID possibly with systemd's '_' for '-').
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "container.h"

static int hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[4096], uid_[CT_UID_LEN + 1];
	struct ct_info ci;
	size_t i, n = size < sizeof(path) - 1 ? size : sizeof(path) - 1;

	memcpy(path, data, n);
	path[n] = '\0';
	ct_parse_path(path, &ci);
	n = strlen(ci.id);
	if ((n != 0 && n != CT_ID_LEN) || (n != 0) != (ci.runtime != NULL))
		abort();
	for (i = 0; i < n; i++)
		if (!hex(ci.id[i]))
			abort();
	if (n && !strstr(path, ci.id))
		abort();
	n = strlen(ci.pod_uid);
	if ((n != 0 && n != CT_UID_LEN) || (n != 0) != (ci.qos != NULL))
		abort();
	for (i = 0; i < n; i++) {
		int dash = i == 8 || i == 13 || i == 18 || i == 23;

		if (dash ? ci.pod_uid[i] != '-' : !hex(ci.pod_uid[i]))
			abort();
		uid_[i] = dash ? '_' : ci.pod_uid[i];
	}
	uid_[n] = '\0';
	if (n && !strstr(path, ci.pod_uid) && !strstr(path, uid_))
		abort();
	return 0;
}
