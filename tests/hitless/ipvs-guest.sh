#!/bin/sh
# Runs in the QEMU guest (tests/it/hitless_qemu.rs): the hitless test's changes on a
# real IPVS table, each applied by `lvsc apply` while the client keeps 10 connections
# alive and opens new ones. Namespaces as the differential test's guest (NAT).
#
# Prints tagged blocks (@@BEGIN tag ... @@EXIT status / @@END) that the test reads; it
# asserts nothing itself. Every wait is bounded.
set -u
IP=/usr/sbin/ip
begin() { echo "@@BEGIN $1"; }
end() { echo "@@EXIT ${1:-0}"; echo "@@END"; }

for n in sw cl lb r1 r2 r3 r4; do
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
for v in 100 104 105; do $IP -n lb addr add "10.77.0.$v/32" dev lo; done
for n in r1:11 r2:12 r3:13 r4:14; do
  name=${n%%:*}
  plug "$name" e0 "10.77.0.${n#*:}/24"
  $IP -n "$name" route add 10.200.0.0/16 via 10.77.0.2
  $IP netns exec "$name" sysctl -qw net.ipv4.conf.all.accept_redirects=0
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
