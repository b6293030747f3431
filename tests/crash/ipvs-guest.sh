#!/bin/sh
# Runs in the QEMU guest (tests/it/crash_ipvs_qemu.rs): `lvsc apply` of 1,000 IPVS
# services killed (SIGKILL) at the moments listed in /test/kills (fractions of one
# unkilled apply's duration), with 250 services installed and a client busy on one of
# them. After each kill: plan (its exit status), apply (status), plan again (status),
# back to the 250 services. Namespaces as the hitless test's guest (NAT).
#
# Prints tagged blocks (@@BEGIN tag ... @@EXIT status / @@END) that the test reads; it
# asserts nothing itself. Every wait is bounded.
set -u
IP=/usr/sbin/ip
begin() { echo "@@BEGIN $1"; }
end() { echo "@@EXIT ${1:-0}"; echo "@@END"; }
uptime_cs() { # the uptime in hundredths of a second
  read -r up _ </proc/uptime
  echo "${up%.*}${up#*.}"
}

for n in sw cl lb r1 r2 r3; do
  $IP netns add "$n"
  $IP -n "$n" link set lo up
done
$IP -n sw link add br0 type bridge
$IP -n sw link set br0 up
plug() { # NS DEV ADDR
  $IP link add "$2" netns "$1" type veth peer name "p-$1" netns sw
  $IP -n sw link set "p-$1" master br0 up
  $IP -n "$1" addr add "$3" dev "$2"
  $IP -n "$1" link set "$2" up
}
plug cl c0 10.77.0.1/24
plug lb l0 10.77.0.2/24
$IP -n cl addr add 10.200.0.1/32 dev c0
$IP -n cl route add 10.77.0.96/27 via 10.77.0.2 src 10.200.0.1
$IP netns exec lb sysctl -qw net.ipv4.ip_forward=1
for k in all default l0; do $IP netns exec lb sysctl -qw "net.ipv4.conf.$k.send_redirects=0"; done
$IP -n lb route add 10.200.0.0/16 via 10.77.0.1
$IP -n lb addr add 10.77.0.100/32 dev lo
for n in r1:11 r2:12 r3:13; do
  name=${n%%:*}
  plug "$name" e0 "10.77.0.${n#*:}/24"
  $IP -n "$name" route add 10.200.0.0/16 via 10.77.0.2
  $IP netns exec "$name" sysctl -qw net.ipv4.conf.all.accept_redirects=0
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
