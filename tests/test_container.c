// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Container identity (user/out/container.c): cgroup paths written from the runtimes' documented
 * naming (Docker's and Kubernetes' cgroup driver docs, containerd's CRI plugin, CRI-O, podman,
 * systemd's escaping of '-' as '_' in slice names), not from alerttrace's output; then ct_lookup
 * on cgroups this test makes, by file handle and by the directory walk, and after they are gone.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testlib.h"
#include "container.h"

#define ID "4a1c9e0d2f3b8a7c6d5e4f30291817161514131211100f0e0d0c0b0a09080706"
#define ID2 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define UID "8f3e2d1c-0b9a-4c8d-9e7f-6a5b4c3d2e1f"
#define UID_ "8f3e2d1c_0b9a_4c8d_9e7f_6a5b4c3d2e1f"

struct pcase {
	const char *name, *path, *runtime, *id, *uid, *qos;
};

static const struct pcase cases[] = {
	/* Docker, systemd driver; cgroupfs driver */
	{"docker_systemd", "/system.slice/docker-" ID ".scope", "docker", ID, "", NULL},
	{"docker_cgroupfs", "/docker/" ID, "docker", ID, "", NULL},
	{"docker_nested_init", "/system.slice/docker-" ID ".scope/init.scope", "docker", ID, "",
	 NULL},
	/* Kubernetes, systemd driver: QoS slices, the pod UID escaped by systemd */
	{"k8s_burstable_containerd",
	 "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" UID_
	 ".slice/cri-containerd-" ID ".scope",
	 "containerd", ID, UID, "burstable"},
	{"k8s_besteffort_crio",
	 "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" UID_
	 ".slice/crio-" ID ".scope",
	 "crio", ID, UID, "besteffort"},
	{"k8s_guaranteed", "/kubepods.slice/kubepods-pod" UID_ ".slice/cri-containerd-" ID ".scope",
	 "containerd", ID, UID, "guaranteed"},
	{"k8s_crio_conmon",
	 "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" UID_
	 ".slice/crio-conmon-" ID ".scope",
	 "crio", ID, UID, "burstable"},
	{"k8s_crio_container_subgroup",
	 "/kubepods.slice/kubepods-pod" UID_ ".slice/crio-" ID ".scope/container", "crio", ID, UID,
	 "guaranteed"},
	{"k8s_pod_only", "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" UID_
	 ".slice", NULL, "", UID, "burstable"},
	/* Kubernetes, cgroupfs driver: the runtime is not in the name */
	{"k8s_cgroupfs_burstable", "/kubepods/burstable/pod" UID "/" ID, "cri", ID, UID,
	 "burstable"},
	{"k8s_cgroupfs_besteffort_crio", "/kubepods/besteffort/pod" UID "/crio-" ID, "crio", ID, UID,
	 "besteffort"},
	{"k8s_cgroupfs_guaranteed", "/kubepods/pod" UID "/" ID, "cri", ID, UID, "guaranteed"},
	/* kind: a pod in a node that is itself a docker container; the innermost wins */
	{"kind_nested",
	 "/system.slice/docker-" ID2 ".scope/kubelet.slice/kubelet-kubepods.slice/"
	 "kubelet-kubepods-besteffort.slice/kubelet-kubepods-besteffort-pod" UID_
	 ".slice/cri-containerd-" ID ".scope",
	 "containerd", ID, UID, "besteffort"},
	/* podman: systemd (rootful, rootless), conmon, cgroupfs */
	{"podman_machine", "/machine.slice/libpod-" ID ".scope", "podman", ID, "", NULL},
	{"podman_rootless",
	 "/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-" ID ".scope", "podman",
	 ID, "", NULL},
	{"podman_conmon", "/machine.slice/libpod-conmon-" ID ".scope", "podman", ID, "", NULL},
	{"podman_cgroupfs", "/libpod_parent/libpod-" ID, "podman", ID, "", NULL},
	/* not containers */
	{"root", "/", NULL, "", "", NULL},
	{"empty", "", NULL, "", "", NULL},
	{"docker_daemon", "/system.slice/docker.service", NULL, "", "", NULL},
	{"containerd_daemon", "/system.slice/containerd.service", NULL, "", "", NULL},
	{"session", "/user.slice/user-0.slice/session-3.scope", NULL, "", "", NULL},
	{"short_id", "/system.slice/docker-4a1c9e0d2f3b.scope", NULL, "", "", NULL},
	{"uppercase_id", "/system.slice/docker-4A1C9E0D2F3B8A7C6D5E4F30291817161514131211100F0E0D0C0B"
	 "0A09080706.scope", NULL, "", "", NULL},
	{"id_65", "/docker/" ID "0", NULL, "", "", NULL},
	{"bare_id_elsewhere", "/system.slice/" ID, NULL, "", "", NULL},
	{"qos_slice_only", "/kubepods.slice/kubepods-burstable.slice", NULL, "", "", NULL},
	{"pod_outside_kubepods", "/pod" UID "/" ID, NULL, "", "", NULL},
	{"bad_uid", "/kubepods/burstable/pod8f3e2d1c-0b9a-4c8d-9e7f-6a5b4c3d2e1g/" ID, NULL, "", "",
	 NULL},
	{"docker_wrong_suffix", "/system.slice/docker-" ID ".service", NULL, "", "", NULL},
};

static void check_case(const struct pcase *c)
{
	struct ct_info ci;
	char name[96];
	int ok = 1;

	ct_parse_path(c->path, &ci);
	snprintf(name, sizeof(name), "parse_%s", c->name);
	ok &= CHECK_STR(name, c->runtime ? c->runtime : "(none)", ci.runtime ? ci.runtime : "(none)");
	ok &= CHECK_STR(name, c->id, ci.id);
	ok &= CHECK_STR(name, c->uid, ci.pod_uid);
	ok &= CHECK_STR(name, c->qos ? c->qos : "(none)", ci.qos ? ci.qos : "(none)");
	if (ok)
		PASS(name);
}

/* Make MNT/at_test_ct.PID/system.slice/docker-ID.scope and look it up; mode: handle or walk. */
static void lookup_case(const char *mnt, bool walk_only)
{
	const char *mode = walk_only ? "walk" : "handle";
	char base[512], d1[600], d2[700], rel[700], name[64];
	const struct ct_entry *e;
	__u64 id;

	snprintf(base, sizeof(base), "%s/at_test_ct.%d", mnt, getpid());
	snprintf(d1, sizeof(d1), "%s/system.slice", base);
	snprintf(d2, sizeof(d2), "%s/docker-" ID ".scope", d1);
	snprintf(rel, sizeof(rel), "/at_test_ct.%d/system.slice/docker-" ID ".scope", getpid());
	snprintf(name, sizeof(name), "lookup_%s_mkdir", mode);
	if (mkdir(base, 0755) || mkdir(d1, 0755) || mkdir(d2, 0755)) {
		FAILF(name, "cannot make %s: %s", d2, strerror(errno));
		goto out;
	}
	ct_set_root(mnt, walk_only);
	id = tl_ino(d2);
	e = ct_lookup(id);
	snprintf(name, sizeof(name), "lookup_%s_path", mode);
	if (!e || !e->path)
		FAILF(name, "no entry for cgroup %llu (%s)", (unsigned long long)id, d2);
	else if (CHECK_STR(name, rel, e->path) & CHECK_STR(name, ID, e->info.id))
		PASS(name);
	snprintf(name, sizeof(name), "lookup_%s_root", mode);
	e = ct_lookup(tl_ino(mnt));
	if (e && CHECK_STR(name, "/", e->path) && CHECK_STR(name, "", e->info.id))
		PASS(name);
	else if (!e)
		FAILF(name, "no entry for the root cgroup");
	rmdir(d2);
	/* Gone: the cached entry stays, so events printed after the container exited still say. */
	snprintf(name, sizeof(name), "lookup_%s_cached_after_rmdir", mode);
	e = ct_lookup(id);
	if (e && e->path && CHECK_STR(name, ID, e->info.id))
		PASS(name);
	else if (!e || !e->path)
		FAILF(name, "the entry of cgroup %llu was lost", (unsigned long long)id);
	if (!walk_only) {
		/* An id never resolved whose cgroup is gone: an entry without path. */
		mkdir(d2, 0755);
		id = tl_ino(d2);
		rmdir(d2);
		e = ct_lookup(id);
		snprintf(name, sizeof(name), "lookup_%s_gone", mode);
		if (e && !e->path)
			PASS(name);
		else
			FAILF(name, "expected an entry without path, got %s",
			      e ? e->path : "no entry");
	}
out:
	rmdir(d2);
	rmdir(d1);
	rmdir(base);
}

int main(void)
{
	char mbuf[2048];
	const char *mnt;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		check_case(&cases[i]);
	CHECK_EQ("lookup_zero", 1, ct_lookup(0) == NULL) && (PASS("lookup_zero"), 1);
	if (!tl_need_root("lookup"))
		return tl_failed;
	mnt = tl_cgroup2_mount(mbuf, sizeof(mbuf));
	if (!mnt) {
		FAILF("lookup", "no cgroup2 hierarchy mounted");
		return 1;
	}
	lookup_case(mnt, false);
	lookup_case(mnt, true);
	ct_set_root(NULL, false);
	return tl_failed;
}
