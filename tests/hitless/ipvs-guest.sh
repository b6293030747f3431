#!/bin/sh
# Runs in the QEMU guest (tests/it/hitless_qemu.rs): the hitless test's changes on a
# real IPVS table, each applied by `lvsc apply` while the client keeps 10 connections
# alive and opens new ones. The NAT LAN of tests/guest/nat-lan.sh.
#
# Prints tagged blocks (@@BEGIN tag ... @@EXIT status / @@END) that the test reads; it
# asserts nothing itself. Every wait is bounded.
set -u
# shellcheck source=tests/guest/nat-lan.sh
. /test/lib/nat-lan.sh

nat_lan "r1 r2 r3 r4" "100 104 105"
$IP -n cl addr add 10.200.0.1/32 dev c0
$IP -n cl route add 10.77.0.96/27 via 10.77.0.2 src 10.200.0.1
for name in r1 r2 r3 r4; do
  $IP netns exec "$name" /test/lvsc-flows serve "$name" 80 - >/dev/null &
done
sleep 1

begin apply-base
$IP netns exec lb /test/lvsc apply /test/step0.lvs 2>&1
end $?
for step in 1 2 3 4 5; do
  $IP netns exec cl /test/lvsc-flows load 10.77.0.100:80 4 50 10 \
    >"/tmp/load$step.json" 2>"/tmp/load$step.err" &
  pid=$!
  sleep 1
  begin "apply-$step"
  $IP netns exec lb /test/lvsc apply "/test/step$step.lvs" 2>&1
  end $?
  wait "$pid"
  begin "load-$step"
  cat "/tmp/load$step.json"
  end $?
  begin "load-$step-errors"
  cat "/tmp/load$step.err"
  end 0
done
