#!/bin/busybox sh
# The guest's init (run-guest.sh puts it in the initrd): bind edu and
# e1000e to vfio-pci, start schemed with irq: numbers for their vectors,
# then for each device mode run scheme-irqdrv and guestcheck under the
# preload.  Ends with GUEST_END and powers off.
/bin/busybox --install -s /bin
mount -t proc p /proc
mount -t sysfs s /sys
mount -t devtmpfs d /dev
export PATH=/opt/scheme/bin:/bin SCHEME_SOCKET=/run/scheme.sock

for m in irqbypass iommufd vfio vfio_virqfd vfio_iommu_type1 vfio-pci-core \
	vfio-pci; do
	[ -f /lib/modules/$m.ko ] || continue
	p=""
	[ $m = vfio-pci ] && p="ids=1234:11e8,8086:10d3"
	insmod /lib/modules/$m.ko $p || echo "GUEST insmod $m failed"
done
# vfio-pci built in (the cdev kernel): the ids go in through sysfs
if [ ! -f /lib/modules/vfio-pci.ko ]; then
	echo 1234 11e8 >/sys/bus/pci/drivers/vfio-pci/new_id
	echo 8086 10d3 >/sys/bus/pci/drivers/vfio-pci/new_id
fi
EDU= E1K=
for d in /sys/bus/pci/devices/*; do
	case "$(cat $d/vendor):$(cat $d/device)" in
	0x1234:0x11e8) EDU=${d##*/} ;;
	0x8086:0x10d3) E1K=${d##*/} ;;
	esac
done
echo "GUEST kernel $(uname -r) edu=$EDU e1000e=$E1K vfio=$(cat /vfio-path)"

schemed --vfio "$(cat /vfio-path)" \
	--irq 0=pci/$EDU/intx/0 --irq 1=pci/$EDU/msi/0 \
	--irq 2=pci/$E1K/msix/0 --irq 3=pci/$E1K/msix/1 2>/tmp/schemed.log &
BROKER=$!
i=0
until schemectl list >/dev/null 2>&1; do
	i=$((i + 1))
	[ $i -lt 100 ] || { echo "CHECK FAIL broker did not start"; cat /tmp/schemed.log; break; }
	sleep 0.1
done
sed 's/^/GUEST schemed: /' /tmp/schemed.log

# driver NAME ARGS...: start scheme-irqdrv, wait for its scheme
driver() {
	name=$1
	shift
	schemerun scheme-irqdrv --name "$name" --timeout 300 "$@" 2>/tmp/drv.log &
	DRV=$!
	i=0
	until schemectl list | grep -qx "$name"; do
		i=$((i + 1))
		[ $i -lt 100 ] || { echo "CHECK FAIL $name: the driver did not start"; break; }
		sleep 0.1
	done
	sed 's/^/GUEST driver: /' /tmp/drv.log
}
stop_driver() {
	kill $DRV
	wait $DRV
	st=$?
	echo "GUEST driver $1 exited $st"
	[ $st -eq 0 ] || sed 's/^/GUEST driver: /' /tmp/drv.log
}
check() { schemerun guestcheck "$@"; }

# edu, INTx: irq:0 (automasked; the driver acks the device, then irq:)
driver edu --model edu irq:0
check edu-intx raise edu 0 100
check edu-intx-timeout timeout edu 0 300
check edu-intx-loopback loopback edu 0 0
stop_driver edu-intx

# edu, MSI: irq:1 -- the same device, now with MSI (INTx was disabled
# when its last file closed)
driver edu --model edu irq:1
check edu-msi raise edu 0 100
check edu-msi-loopback loopback edu 0 1
stop_driver edu-msi

# edu, MSI, named directly
driver edu --model edu irq:pci/$EDU/msi/0
check edu-msi-direct raise edu 0 50
stop_driver edu-msi-direct

# e1000e, MSI-X: two vectors; QEMU 7.2's e1000e needs a pause between
# raises (1 ms) or it sends an extra interrupt on the other vector
driver e1k --model e1000e irq:2 irq:3
check e1000e-msix-0 raise e1k 0 50 1000
check e1000e-msix-1 raise e1k 1 50 1000
check e1000e-msix-loopback loopback e1k 1 3
stop_driver e1000e-msix

schemectl stop
wait $BROKER
st=$?
echo "GUEST broker exited $st"
[ $st -eq 0 ] || sed 's/^/GUEST schemed: /' /tmp/schemed.log
echo "GUEST_END uptime=$(cut -d' ' -f1 /proc/uptime)"
poweroff -f
