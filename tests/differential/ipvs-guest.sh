#!/bin/sh
# Runs in the QEMU guest (tests/it/differential_qemu.rs): the differential test's
# cluster on a real IPVS table, the same namespaces as the native part:
#
#   cl (10.77.0.1, 100 client addresses 10.200.N.1-2) --+
#   lb (10.77.0.2, lvsc apply, VIPs on lo)            --+-- br0 in sw
#   r1..r4 (10.77.0.11-14, lvsc-flows serving)        --+
#
# Prints tagged blocks (@@BEGIN tag ... @@EXIT status / @@END) that the test reads; it
# asserts nothing itself. Every wait is bounded.
set -u
# shellcheck source=tests/guest/nat-lan.sh
. /test/lib/nat-lan.sh

nat_lan "r1 r2 r3 r4" "100 101 102 103"
$IP -n cl -batch /test/addrs
$IP -n cl route add 10.77.0.96/27 via 10.77.0.2
for name in r1 r2 r3 r4; do
  a="10.77.0.1${name#r}"
  $IP netns exec "$name" /test/lvsc-flows serve "$name" 80,81 "$a:53,$a:123" >/dev/null &
done
sleep 1

begin apply
$IP netns exec lb /test/lvsc apply /test/cluster.lvs 2>&1
end $?
begin table
$IP netns exec lb ipvsadm -Ln
end $?
begin flows
$IP netns exec cl timeout 600 /test/lvsc-flows send /test/flows 2000
end $?
begin apply-changed
$IP netns exec lb /test/lvsc apply /test/changed.lvs 2>&1
end $?
begin table-changed
$IP netns exec lb ipvsadm -Ln
end $?
begin flows-after
$IP netns exec cl timeout 600 /test/lvsc-flows send /test/flows-after 2000
end $?
