/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Which container: from an event's cgroup id (bpf_get_current_cgroup_id(), or the socket owner's)
 * to the cgroup v2 path, and from the path to the container runtime's id and the Kubernetes pod.
 * No runtime or API server is asked: the runtimes name their cgroups after the container.
 *
 *   docker      docker-<id>.scope (systemd driver), /docker/<id> (cgroupfs driver)
 *   containerd  cri-containerd-<id>.scope (CRI, systemd driver)
 *   crio        crio-<id>.scope, crio-conmon-<id>.scope (its monitor), crio-<id> (cgroupfs)
 *   podman      libpod-<id>.scope, libpod-conmon-<id>.scope, /libpod_parent/libpod-<id>
 *   kubernetes  kubepods.slice/kubepods-{burstable,besteffort}.slice/
 *               kubepods-{burstable,besteffort}-pod<uid, '-' as '_'>.slice/<container>
 *               kubepods.slice/kubepods-pod<uid>.slice/<container> (guaranteed);
 *               cgroupfs: /kubepods/{burstable,besteffort}/pod<uid>/<id>, /kubepods/pod<uid>/<id>
 *
 * <id> is 64 lowercase hex digits for every runtime. The innermost container of a path wins
 * (a pod in a kind node, itself a docker container, is the pod's container).
 */
#ifndef AT_CONTAINER_H
#define AT_CONTAINER_H

#include <stdbool.h>
#include <linux/types.h>

#define CT_ID_LEN 64	/* hex digits of a container id */
#define CT_UID_LEN 36	/* a pod UID: 8-4-4-4-12 */

struct ct_info {
	const char *runtime;		/* "docker", "containerd", "crio", "podman"; NULL: none */
	char id[CT_ID_LEN + 1];		/* "" outside containers */
	char pod_uid[CT_UID_LEN + 1];	/* with dashes; "" outside a pod */
	const char *qos;		/* "guaranteed", "burstable", "besteffort"; NULL: no pod */
};

/* Parse a cgroup v2 path ("/system.slice/docker-<id>.scope"); fields empty when it names no
 * container or pod. */
void ct_parse_path(const char *path, struct ct_info *ci);

struct ct_entry {
	__u64 cgroup_id;
	char *path;		/* the cgroup's path in the v2 hierarchy; NULL: not found */
	struct ct_info info;
};

/*
 * The cgroup of id: cached; a miss asks the kernel for the directory by file handle (the cgroup
 * id is its kernfs node id: open_by_handle_at, CAP_DAC_READ_SEARCH) or, where that is refused,
 * walks the v2 hierarchy (at most once a second). The cgroup2 mount used is the one that shows
 * most of the hierarchy; paths are as our cgroup namespace sees them (as /proc/PID/cgroup here
 * shows them: "/../../kubepods.slice/..." for a cgroup outside it). NULL for id 0 or when no
 * cgroup v2 hierarchy is mounted; an entry with path NULL when the cgroup is gone. The pointer is valid until the
 * next call. Not thread-safe: the main thread's.
 */
const struct ct_entry *ct_lookup(__u64 cgroup_id);

/* Tests: use this directory as the cgroup v2 mount instead of the one in /proc/self/mountinfo
 * (NULL: that one again), forget the cache; walk_only: never ask by file handle. */
void ct_set_root(const char *mnt, bool walk_only);

#endif
