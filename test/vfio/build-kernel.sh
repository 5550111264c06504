#!/bin/sh
# Builds a small x86-64 kernel with IOMMUFD and the VFIO device cdev (and
# the legacy group/container VFIO too), for run-guest.sh's cdev path:
#
#	sh build-kernel.sh WORK_DIR
#	SCHEME_VFIO_KERNEL=WORK_DIR/kernel-cdev sh run-guest.sh BUILD WORK cdev
#
# Debian's kernel images are built without CONFIG_IOMMUFD, so this takes
# Debian's linux-source-6.12 from bookworm-backports (apt-get download
# with a private sources list and state: the system's apt configuration
# is neither used for the sources nor changed), configures it as
# `make tinyconfig` + kernel.config (next to this script), builds bzImage
# and installs it as WORK_DIR/kernel-cdev/boot/vmlinuz-VERSION, with an
# empty WORK_DIR/kernel-cdev/lib/modules/VERSION (everything is built in;
# run-guest.sh reads the version from there and finds no modules).  The
# deb and the source tree are deleted afterwards.  Does nothing when
# WORK_DIR/kernel-cdev holds a kernel built from this kernel.config.
#
# Needs (Debian packages): gcc make flex bison bc libelf-dev xz-utils,
# plus apt, dpkg and tar (always there), and network access to
# deb.debian.org (or $DEBIAN_MIRROR).  No libssl-dev: nothing is signed.
# About 150 MB download, 1.7 GB of disk at the peak, ~4 min on 2 cores.
set -eu
[ $# -eq 1 ] || { echo "usage: sh build-kernel.sh WORK_DIR" >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
fragment=$here/kernel.config
mkdir -p "$1"
work=$(cd "$1" && pwd)
out=$work/kernel-cdev
pkg=linux-source-6.12
suite=bookworm-backports
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}

die() { echo "build-kernel: $*" >&2; exit 1; }

# Already built, from this fragment?
for f in "$out"/boot/vmlinuz-*; do
	[ -e "$f" ] && cmp -s "$fragment" "$out/kernel.config" &&
		{ echo "build-kernel: $f is there, nothing to do"; exit 0; }
done

# The tools, before anything is downloaded.
[ "$(uname -m)" = x86_64 ] || die "builds on x86_64 hosts only (no cross compiler set up)"
[ -f "$fragment" ] || die "missing $fragment"
missing=
for t in gcc make flex bison bc xz tar dpkg-deb apt-get; do
	command -v $t >/dev/null 2>&1 || missing="$missing $t"
done
[ -z "$missing" ] || die "missing tools:$missing (apt-get install gcc make flex bison bc libelf-dev xz-utils)"
echo '#include <gelf.h>' | gcc -E -x c - >/dev/null 2>&1 ||
	die "missing <gelf.h> (apt-get install libelf-dev; objtool needs it)"

# Everything temporary lives in $tmp, removed on the way out (also on
# failure; the build log stays in $work/build-kernel.log).
tmp=$work/kernel-cdev.build
log=$work/build-kernel.log
rm -rf "$tmp" "$out.tmp"
trap 'rm -rf "$tmp" "$out.tmp"' EXIT
trap 'exit 1' HUP INT TERM
mkdir -p "$tmp/apt/lists/partial" "$tmp/apt/cache/archives/partial" "$tmp/deb"

# 1. Download the source package with apt, privately.
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
opt=
[ -f "$keyring" ] && opt="[signed-by=$keyring] "
echo "deb $opt$mirror $suite main" >"$tmp/apt/sources.list"
set -- -o "Dir::Etc::SourceList=$tmp/apt/sources.list" \
	-o Dir::Etc::SourceParts=/dev/null \
	-o "Dir::State::Lists=$tmp/apt/lists" \
	-o "Dir::Cache=$tmp/apt/cache" \
	-o Acquire::Languages=none -o APT::Sandbox::User=root
echo "build-kernel: apt-get update ($mirror $suite)"
apt-get "$@" -q update >"$log" 2>&1 ||
	{ cat "$log" >&2; die "apt-get update failed"; }
echo "build-kernel: apt-get download $pkg"
(cd "$tmp/deb" && apt-get "$@" -q download "$pkg") >>"$log" 2>&1 ||
	{ tail -n 20 "$log" >&2; die "apt-get download $pkg failed"; }
deb=$(ls "$tmp"/deb/*.deb)
echo "build-kernel: $(basename "$deb") ($(du -h "$deb" | cut -f1))"

# 2. Unpack: the deb holds /usr/src/linux-source-6.12.tar.xz.
echo "build-kernel: unpacking"
mkdir -p "$tmp/src"
dpkg-deb --fsys-tarfile "$deb" | tar -xOf - "./usr/src/$pkg.tar.xz" |
	tar --no-same-owner -xJf - -C "$tmp/src" || die "unpacking $deb failed"
rm -rf "$tmp/deb" "$tmp/apt"
src=$tmp/src/$pkg
[ -f "$src/Makefile" ] || die "no $pkg/Makefile in $(basename "$deb")"

# 3. Configure: tinyconfig + the fragment, then check that every line of
# the fragment held (merge_config and olddefconfig drop what they cannot
# have without a word).
k() { make --no-print-directory -C "$src" ARCH=x86_64 "$@"; }
echo "build-kernel: configuring (tinyconfig + $(basename "$fragment"))"
{
	k tinyconfig &&
	(cd "$src" && scripts/kconfig/merge_config.sh -m .config "$fragment") &&
	k olddefconfig
} >>"$log" 2>&1 || { tail -n 20 "$log" >&2; die "configuring failed"; }
bad=
while IFS= read -r line; do
	case $line in
	CONFIG_*=*)
		grep -qxF "$line" "$src/.config" ||
			bad="$bad
  wanted $line, got: $(grep -E "^(# )?${line%%=*}[= ]" "$src/.config" || echo absent)"
		;;
	"# CONFIG_"*" is not set")
		name=${line#\# }
		name=${name%% *}
		! grep -qE "^$name=" "$src/.config" ||
			bad="$bad
  wanted $name off, got: $(grep -E "^$name=" "$src/.config")"
		;;
	esac
done <"$fragment"
[ -z "$bad" ] || die "the configuration lost options of $fragment:$bad"

# 4. Build and install.
jobs=$(nproc 2>/dev/null || echo 2)
echo "build-kernel: make -j$jobs bzImage (log: $log)"
k -j"$jobs" bzImage >>"$log" 2>&1 || { tail -n 30 "$log" >&2; die "the kernel build failed"; }
kv=$(k -s kernelrelease)
[ -n "$kv" ] || die "no kernel release"
mkdir -p "$out.tmp/boot" "$out.tmp/lib/modules/$kv"
cp "$src/arch/x86/boot/bzImage" "$out.tmp/boot/vmlinuz-$kv"
cp "$src/.config" "$out.tmp/boot/config-$kv"
cp "$fragment" "$out.tmp/kernel.config"
rm -rf "$out"
mv "$out.tmp" "$out"
echo "build-kernel: installed $out/boot/vmlinuz-$kv"
