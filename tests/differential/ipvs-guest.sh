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
$IP -n cl -batch /test/addrs
$IP -n cl route add 10.77.0.96/27 via 10.77.0.2
$IP netns exec lb sysctl -qw net.ipv4.ip_forward=1
# Replies of NAT reals leave the director on the interface they came in on: no ICMP
# redirect may send a real's replies straight to the client, around the NAT.
for k in all default l0; do $IP netns exec lb sysctl -qw "net.ipv4.conf.$k.send_redirects=0"; done
$IP -n lb route add 10.200.0.0/16 via 10.77.0.1
for v in 100 101 102 103; do $IP -n lb addr add "10.77.0.$v/32" dev lo; done
for n in r1:11 r2:12 r3:13 r4:14; do
  name=${n%%:*}
  plug "$name" e0 "10.77.0.${n#*:}/24"
  $IP -n "$name" route add 10.200.0.0/16 via 10.77.0.2
  $IP netns exec "$name" sysctl -qw net.ipv4.conf.all.accept_redirects=0
  $IP netns exec "$name" /test/lvsc-flows serve "$name" 80,81 "10.77.0.${n#*:}:53,10.77.0.${n#*:}:123" >/dev/null &
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
