#!/bin/sh
# Installs what alerttrace needs to build and test, from Debian's archive only.
# Idempotent and quick when everything is already there: apt-get runs only for missing packages.
set -eu
PKGS="clang llvm libbpf-dev bpftool libelf-dev zlib1g-dev libzstd-dev pkg-config make gcc \
iproute2 openssl tshark libcapstone-dev libevent-dev gnutls-bin python3 curl \
libssl-dev libgnutls28-dev libnl-3-dev debootstrap prometheus podman runc python3-yaml ca-certificates debian-archive-keyring binutils wget golang-go \
strace groff-base man-db systemd libcap2-bin passwd \
iperf3 tcpdump bpftrace bpfcc-tools \
python3-cryptography ngtcp2-client ngtcp2-server nginx haproxy"
[ "${1:-}" = "--list" ] && { echo $PKGS; exit 0; }
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
	echo "deps: missing packages:$missing; run as root (sudo make ...) to install them" >&2
	exit 1
fi
echo "deps: installing:$missing" >&2
export DEBIAN_FRONTEND=noninteractive
echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
# prometheus is wanted only for promtool, nginx and haproxy only as test peers: do not leave
# their daemons running on the host.
if echo "$missing" | grep -Eq 'prometheus|nginx|haproxy' && [ ! -e /usr/sbin/policy-rc.d ]; then
	printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d; rmprc=1
fi
apt-get update -qq >/dev/null || true
apt-get install -y -qq --no-install-recommends $missing >/dev/null
[ "${rmprc:-0}" = 1 ] && rm -f /usr/sbin/policy-rc.d
exit 0
