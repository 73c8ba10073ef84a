#!/bin/bash
# dist/Containerfile and dist/daemonset.yaml. Podman (Debian's, rootful, vfs storage under
# /var/tmp/alerttrace-podman, runc: this VM's crun refuses its hybrid cgroups, and its root lacks
# CAP_SYS_RESOURCE, so the test lowers the container's rlimits) builds the image FROM scratch
# on alerttrace-static and runs `--selftest` in it with the host's pid and network namespaces,
# --privileged (the selftest makes a namespace and enters the host's root for its peers: more
# than the DaemonSet's set). Witnesses: podman's exit status and image listing, the selftest's
# lines (each source ok), python3's YAML parser on the manifest.
. "$(dirname "$0")/lib/common.sh"
need_root container
for c in podman runc python3; do
	command -v $c >/dev/null || { fail container_tools "$c not found: run make deps"; exit 1; }
done
S="$TOP/alerttrace-static"
[ -x "$S" ] || { fail container_build "no $S: run make static"; exit 1; }
P="podman --runtime runc --storage-driver vfs --root /var/tmp/alerttrace-podman/root \
--runroot /var/tmp/alerttrace-podman/run"
IMG=localhost/alerttrace-test:$$
mkdir -p "$T/ctx" && cp "$S" "$T/ctx/alerttrace-static"
if $P build -q -f "$TOP/dist/Containerfile" -t $IMG "$T/ctx" >"$T/build.out" 2>&1; then
	pass container_image_builds
else
	fail container_image_builds "$(tail -3 "$T/build.out")"; exit 1
fi
check container_image_is_one_layer_of_the_binary 1 "$($P image inspect $IMG --format '{{len .RootFS.Layers}}')"
timeout 120 $P run --rm --ulimit nofile=1024:1024 --ulimit nproc=1024:1024 --pid=host \
	--network=host --privileged -v /sys/kernel/btf:/sys/kernel/btf:ro $IMG --selftest \
	>"$T/st.out" 2>&1
check container_selftest_exit_0 0 $?
check container_selftest_sources_ok "openssl gnutls go wire" \
	"$(grep -o '^[a-z]*: ok' "$T/st.out" | sed 's/: ok//' | tr '\n' ' ' | sed 's/ $//')"
$P rmi -f $IMG >/dev/null 2>&1

# The manifest: parses, and names what the README lists.
python3 - "$TOP/dist/daemonset.yaml" "$TOP/README.md" <<'PY'
import re, sys, yaml
d = yaml.safe_load(open(sys.argv[1]))
# The capability set README.md documents ("The capability set: `CAP_...`").
m = re.search(r"The capability set: `([A-Z_ ]+)`", open(sys.argv[2]).read())
doc_caps = m.group(1).split() if m else ["(none documented)"]
def res(name, ok, why):
    print(("PASS %s" % name) if ok else ("FAIL %s: %s" % (name, why)))
spec = d["spec"]["template"]["spec"]
c = spec["containers"][0]
res("daemonset_kind", d["kind"] == "DaemonSet", d["kind"])
res("daemonset_host_pid_network", spec.get("hostPID") is True and spec.get("hostNetwork") is True,
    "hostPID/hostNetwork not both true")
caps = sorted(c["securityContext"]["capabilities"]["add"])
want = sorted(c[len("CAP_"):] for c in doc_caps)
res("daemonset_capabilities", caps == want, "expected %s, got %s" % (want, caps))
res("daemonset_drops_all_else", c["securityContext"]["capabilities"].get("drop") == ["ALL"], "no drop ALL")
mounts = {m["mountPath"]: m for m in c["volumeMounts"]}
res("daemonset_btf_read_only", mounts.get("/sys/kernel/btf", {}).get("readOnly") is True, str(mounts))
res("daemonset_run_alerttrace", "/run/alerttrace" in mounts, str(mounts))
vols = {v["name"]: v for v in spec["volumes"]}
cgm = [m for m in c["volumeMounts"] if vols.get(m["name"], {}).get("hostPath", {}).get("path") == "/sys/fs/cgroup"]
res("daemonset_host_cgroup_read_only", len(cgm) == 1 and cgm[0].get("readOnly") is True, str(mounts))
ports = [p["containerPort"] for p in c["ports"]]
res("daemonset_metrics_port", ports == [9800] and "0.0.0.0:9800" in c["args"], str(ports))
rp = c.get("readinessProbe", {}).get("httpGet", {})
res("daemonset_readiness_on_metrics", rp.get("path") == "/metrics" and rp.get("port") == 9800, str(rp))
lim = c.get("resources", {}).get("limits", {})
res("daemonset_resource_limits", "cpu" in lim and "memory" in lim, str(lim))
PY
