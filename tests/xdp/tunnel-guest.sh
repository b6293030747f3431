#!/bin/sh
# Runs in the QEMU guest (tests/xdp_tunnel_qemu.rs): a client, a router, the director
# with lvsc's XDP program on l0, and two reals that decapsulate IP-in-IP on tunl0 and
# IPv6-in-IPv6 on ip6tnl0.
#
#   c (10.2.0.2, fd00:2::2) -- r (router) -- l (director, 10.1.0.2, fd00:1::2; XDP on l0)
#                               |      \
#         t1 (10.3.0.2, fd00:3::2)      t2 (10.4.0.2, fd00:4::2)
#
# Both reals hold the VIPs 10.9.0.100 and fd00:9::100 on lo.
# Client -> VIP goes to the director; XDP encapsulates towards a real and sends it back
# to the router; the real decapsulates and answers the client directly.
set -u
IP=/usr/sbin/ip
modprobe ipip
modprobe ip6_tunnel
# `ip netns exec` remounts /sys: pins live on a bpffs of their own.
mkdir -p /run/bpffs && mount -t bpf bpf /run/bpffs
for n in r c l t1 t2; do
  $IP netns add "$n"
  $IP -n "$n" link set lo up
done
$IP link add rl netns r type veth peer name l0 netns l
$IP link add rc netns r type veth peer name c0 netns c
$IP link add rt1 netns r type veth peer name e0 netns t1
$IP link add rt2 netns r type veth peer name e0 netns t2
$IP -n r addr add 10.1.0.1/24 dev rl
$IP -n r addr add 10.2.0.1/24 dev rc
$IP -n r addr add 10.3.0.1/24 dev rt1
$IP -n r addr add 10.4.0.1/24 dev rt2
i=1
for d in rl rc rt1 rt2; do
  $IP -n r addr add "fd00:$i::1/64" dev "$d" nodad
  $IP -n r link set "$d" up
  i=$((i + 1))
done
$IP netns exec r sysctl -qw net.ipv4.ip_forward=1
$IP netns exec r sysctl -qw net.ipv6.conf.all.forwarding=1
$IP -n r route add 10.9.0.100/32 via 10.1.0.2
$IP -n r route add fd00:9::100/128 via fd00:1::2
$IP -n c addr add 10.2.0.2/24 dev c0
$IP -n c addr add fd00:2::2/64 dev c0 nodad
$IP -n c link set c0 up
$IP -n c route add default via 10.2.0.1
$IP -n c route add default via fd00:2::1
$IP -n l addr add 10.1.0.2/24 dev l0
$IP -n l addr add fd00:1::2/64 dev l0 nodad
$IP -n l link set l0 up
$IP -n l route add default via 10.1.0.1
$IP -n l route add default via fd00:1::1
for t in 1 2; do
  $IP -n "t$t" addr add "10.$((2 + t)).0.2/24" dev e0
  $IP -n "t$t" link set e0 up
  $IP -n "t$t" addr add "fd00:$((2 + t))::2/64" dev e0 nodad
  $IP -n "t$t" route add default via "10.$((2 + t)).0.1"
  $IP -n "t$t" route add default via "fd00:$((2 + t))::1"
  $IP -n "t$t" link set tunl0 up
  $IP -n "t$t" link set ip6tnl0 up
  $IP -n "t$t" addr add 10.9.0.100/32 dev lo
  $IP -n "t$t" addr add fd00:9::100/128 dev lo nodad
  # The inner source (the client) arrives on tunl0 but is routed out of e0.
  for k in all default tunl0 e0; do
    $IP netns exec "t$t" sysctl -qw "net.ipv4.conf.$k.rp_filter=0"
  done
  printf '#!/bin/sh\necho t%s\n' "$t" >"/tmp/name-t$t.sh"
  chmod +x "/tmp/name-t$t.sh"
  $IP netns exec "t$t" nc -ll -p 7000 -e "/tmp/name-t$t.sh" &
done
sleep 1
echo "@@APPLY"
$IP netns exec l /test/lvsc apply /test/tunnel.lvs --backend ebpf --iface l0 --xdp-mode generic \
  --pin-dir /run/bpffs 2>&1
echo "@@APPLY-EXIT $?"
$IP -n l link show l0
echo "@@ANSWERS"
i=0
while [ "$i" -lt 20 ]; do
  $IP netns exec c timeout 3 nc 10.9.0.100 7000 </dev/null || echo lost
  i=$((i + 1))
done
echo "@@ANSWERS6"
i=0
while [ "$i" -lt 20 ]; do
  $IP netns exec c timeout 3 nc fd00:9::100 7000 </dev/null || echo lost
  i=$((i + 1))
done
echo "@@STATS"
$IP netns exec l /test/lvsc stats --iface l0 --pin-dir /run/bpffs --json
# Packets the reals decapsulated (`ip netns exec` mounts the namespace's /sys).
for t in 1 2; do
  echo "@@TUNL0 t$t $($IP netns exec "t$t" cat /sys/class/net/tunl0/statistics/rx_packets)"
  echo "@@IP6TNL0 t$t $($IP netns exec "t$t" cat /sys/class/net/ip6tnl0/statistics/rx_packets)"
done
