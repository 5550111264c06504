#!/bin/sh
# Boots a Linux guest under QEMU (TCG, no KVM) with an emulated VT-d IOMMU
# (interrupt remapping on) and QEMU's edu (INTx, MSI) and e1000e (MSI-X)
# devices bound to vfio-pci, and runs our broker, scheme-irqdrv and
# guestcheck inside it.  The serial console goes to stdout; the checks
# print "CHECK PASS|FAIL label ..." lines and the guest ends with GUEST_END.
#
#	run-guest.sh BUILD_DIR WORK_DIR [VFIO_PATH]
#
# BUILD_DIR is a build tree (bin/, lib/).  WORK_DIR keeps the unpacked
# kernel between runs.  VFIO_PATH (auto, group, cdev) goes to schemed
# --vfio.  The kernel is the Debian 12 image package, downloaded with
# apt-get and unpacked, not installed; $SCHEME_VFIO_KERNEL may name
# another unpacked tree instead (boot/vmlinuz-*, lib/modules/*).
# It installs what it needs first (tools/install-deps.sh: qemu-system-x86,
# busybox, cpio, xz-utils).
set -eu
build=$(cd "$1" && pwd)
work=$2
vfio_path=${3:-auto}
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$work"
work=$(cd "$work" && pwd)
sh "$here/../../tools/install-deps.sh" >&2

# 1. The kernel: Debian's, unpacked once into $work/kernel.
kernel=${SCHEME_VFIO_KERNEL:-$work/kernel}
if [ ! -d "$kernel/lib/modules" ]; then
	pkg=$(apt-cache depends linux-image-amd64 2>/dev/null |
		awk '/Depends: linux-image-[0-9]/{print $2; exit}')
	if [ -z "$pkg" ] && [ "$(id -u)" -eq 0 ]; then # no package lists yet
		apt-get update -q >&2
		pkg=$(apt-cache depends linux-image-amd64 |
			awk '/Depends: linux-image-[0-9]/{print $2; exit}')
	fi
	[ -n "$pkg" ] || { echo "run-guest: no linux-image package known to apt" >&2; exit 1; }
	rm -rf "$work/deb" "$kernel.tmp"
	mkdir -p "$work/deb"
	(cd "$work/deb" && apt-get download -q "$pkg" >/dev/null 2>&1) ||
		{ echo "run-guest: apt-get download $pkg failed" >&2; exit 1; }
	dpkg -x "$work"/deb/*.deb "$kernel.tmp"
	mv "$kernel.tmp" "$kernel"
	rm -rf "$work/deb"
fi
kv=$(ls "$kernel/lib/modules" | head -n 1)
vmlinuz=$kernel/boot/vmlinuz-$kv

# 2. The root: busybox (Debian's, dynamic) for the init script; our
# programs; and the shared libraries they all load, at their paths here.
root=$work/root
rm -rf "$root"
mkdir -p "$root/bin" "$root/lib/modules" "$root/opt/scheme" "$root/proc" \
	"$root/sys" "$root/dev" "$root/tmp" "$root/run"
cp /bin/busybox "$root/bin/"
for m in virt/lib/irqbypass drivers/iommu/iommufd/iommufd drivers/vfio/vfio \
	drivers/vfio/vfio_virqfd drivers/vfio/vfio_iommu_type1 \
	drivers/vfio/pci/vfio-pci-core drivers/vfio/pci/vfio-pci; do
	f=$(ls "$kernel/lib/modules/$kv/kernel/$m".ko* 2>/dev/null || true)
	[ -n "$f" ] || continue # built in, or absent from this kernel
	case $f in
	*.xz) xz -dc "$f" ;;
	*.zst) zstd -dcq "$f" ;;
	*) cat "$f" ;;
	esac >"$root/lib/modules/$(basename "$m").ko"
done
mkdir -p "$root/opt/scheme/bin" "$root/opt/scheme/lib"
for p in schemed schemerun schemectl scheme-irqdrv guestcheck; do
	cp "$build/bin/$p" "$root/opt/scheme/bin/"
done
cp "$build"/lib/libscheme-preload.so "$root/opt/scheme/lib/"
for f in /bin/busybox "$root"/opt/scheme/bin/* "$root"/opt/scheme/lib/*; do
	ldd "$f" | awk '/=> \//{print $3} /^\t\/.*ld-linux/{print $1}'
done | sort -u | while read -r lib; do
	# by the name it is asked for, and by its real name (the sanitizer
	# runtime is preloaded by that)
	for f in "$lib" "$(readlink -f "$lib")"; do
		mkdir -p "$root$(dirname "$f")"
		cp -L "$f" "$root$f"
	done
done
[ -e "$root/lib64" ] || { mkdir -p "$root/lib64"; cp -L /lib64/ld-linux-x86-64.so.2 "$root/lib64/"; }
cp "$here/guest-init.sh" "$root/init"
chmod +x "$root/init"
echo "$vfio_path" >"$root/vfio-path"
(cd "$root" && find . | cpio -o -H newc 2>/dev/null | gzip -1) >"$work/initrd.gz"

# 3. Boot.  intremap=on: VFIO's MSI needs interrupt remapping (or the
# unsafe-interrupts module option).  -no-reboot + panic=-1: a panic ends
# QEMU instead of looping.
exec timeout 600 qemu-system-x86_64 -accel tcg -cpu max -machine q35 -m 768 \
	-smp 1 -nodefaults -display none -serial stdio -no-reboot \
	-device intel-iommu,intremap=on -device edu -device e1000e,romfile= \
	-kernel "$vmlinuz" -initrd "$work/initrd.gz" \
	-append "console=ttyS0 quiet intel_iommu=on panic=-1"
