#!/bin/sh
# Installs the Debian 12 packages the build, the demo and the tests use,
# those that are missing only (systemd for systemd-socket-activate in
# test_systemd; build-essential, debhelper and lintian for test_package;
# gdb for test_fork's backtraces of a hung child; sqlite3 for test_locks;
# strace for test_walk's count of a call's round trips).
# Root runs apt-get itself; others via sudo.
set -eu

pkgs="cmake gcc make libc6-dev pkg-config libbsd-dev check libffi-dev
	python3 valgrind qemu-system-x86 busybox cpio xz-utils
	flex bison bc libelf-dev clang libclang-rt-14-dev libfuse3-dev fuse3
	libseccomp-dev libseccomp2 man-db groff-base systemd build-essential
	debhelper lintian gdb golang-go git sqlite3 rsync strace nodejs rustc"
missing=""
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
		grep -q "ok installed" || missing="$missing $p"
done

# busybox-static conflicts with busybox (test_compat runs the dynamic
# one under the preload), so test_static's static busybox is taken out
# of its package, not installed: /usr/local/bin/busybox-static.
bbstatic() {
	[ -x /usr/local/bin/busybox-static ] && return 0
	d=$(mktemp -d) && chmod 755 "$d" &&
		(cd "$d" && $sudo apt-get download busybox-static) &&
		dpkg-deb --fsys-tarfile "$d"/busybox-static_*.deb |
		tar -x -O ./bin/busybox >"$d/busybox" &&
		$sudo install -m 755 "$d/busybox" /usr/local/bin/busybox-static
	rm -rf "$d"
}

sudo=""
if [ "$(id -u)" -ne 0 ] && { [ -n "$missing" ] ||
	[ ! -x /usr/local/bin/busybox-static ]; }; then
	command -v sudo >/dev/null ||
		{ echo "install-deps: need root or sudo for:$missing busybox-static" >&2; exit 1; }
	sudo=sudo
fi
export DEBIAN_FRONTEND=noninteractive
# A fresh machine may have no package lists yet.
if [ -n "$missing" ]; then
	$sudo apt-get install -y --no-install-recommends $missing ||
		{ $sudo apt-get update && $sudo apt-get install -y --no-install-recommends $missing; }
fi
bbstatic || { $sudo apt-get update && bbstatic; }
