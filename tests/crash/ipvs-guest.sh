#!/bin/sh
# Runs in the QEMU guest (tests/it/crash_ipvs_qemu.rs): `lvsc apply` of 1,000 IPVS
# services killed (SIGKILL) at the moments listed in /test/kills (fractions of one
# unkilled apply's duration), with 250 services installed and a client busy on one of
# them. After each kill: plan (its exit status), apply (status), plan again (status),
# back to the 250 services. The NAT LAN of tests/guest/nat-lan.sh.
#
# Prints tagged blocks (@@BEGIN tag ... @@EXIT status / @@END) that the test reads; it
# asserts nothing itself. Every wait is bounded.
set -u
# shellcheck source=tests/guest/nat-lan.sh
. /test/lib/nat-lan.sh
uptime_cs() { # the uptime in hundredths of a second
  read -r up _ </proc/uptime
  echo "${up%.*}${up#*.}"
}

nat_lan "r1 r2 r3" 100
$IP -n cl addr add 10.200.0.1/32 dev c0
$IP -n cl route add 10.77.0.96/27 via 10.77.0.2 src 10.200.0.1
for name in r1 r2 r3; do
  $IP netns exec "$name" /test/lvsc-flows serve "$name" 80 - >/dev/null &
done
sleep 1

lb() { $IP netns exec lb /test/lvsc "$@"; }
begin setup
lb apply /test/half.lvs >/dev/null 2>&1 || exit 1
t0=$(uptime_cs)
lb apply /test/full.lvs >/dev/null 2>&1 || exit 1
t1=$(uptime_cs)
window=$((t1 - t0))
lb apply /test/half.lvs >/dev/null 2>&1
back=$?
echo "window_cs $window"
end "$back"

$IP netns exec cl /test/lvsc-flows load 10.77.0.100:80 3600 20 5 >/tmp/load.json 2>/tmp/load.err &
client=$!
sleep 1

k=0
while read -r frac; do
  k=$((k + 1))
  delay=$(awk -v w="$window" -v f="$frac" 'BEGIN { printf "%.2f", w * f / 100 }')
  $IP netns exec lb /test/lvsc apply /test/full.lvs >/dev/null 2>&1 &
  pid=$!
  sleep "$delay"
  kill -9 "$pid" 2>/dev/null
  wait "$pid"
  killed=$?
  lb plan /test/full.lvs >/dev/null 2>&1
  plan=$?
  lb apply /test/full.lvs >/dev/null 2>&1
  apply=$?
  lb plan /test/full.lvs >/dev/null 2>&1
  after=$?
  lb apply /test/half.lvs >/dev/null 2>&1
  back=$?
  begin "kill-$k"
  echo "delay $delay apply_status $killed plan $plan apply $apply plan_after $after back $back"
  end 0
done </test/kills

kill "$client"
begin client-errors
cat /tmp/load.err
end 0
