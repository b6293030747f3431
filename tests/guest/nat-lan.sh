# shellcheck shell=sh
# Sourced by the QEMU guests' scripts (tests/*/ipvs-guest.sh); Guest::run copies it to
# /test/lib. The output protocol the tests read, and the NAT LAN most of them use:
#
#   cl (10.77.0.1)                                    --+
#   lb (10.77.0.2, NAT director, VIPs 10.77.0.V on lo) --+-- br0 in namespace sw
#   rN (10.77.0.1N, replies routed back through lb)   --+
#
# Clients live in 10.200.0.0/16 on cl; each script adds its own addresses and servers.
IP=/usr/sbin/ip

# Tagged blocks: @@BEGIN tag, the lines, @@EXIT status, @@END.
begin() { echo "@@BEGIN $1"; }
end() { echo "@@EXIT ${1:-0}"; echo "@@END"; }

# plug NS DEV ADDR: a veth from namespace NS to the bridge, with ADDR on DEV.
plug() {
  $IP link add "$2" netns "$1" type veth peer name "p-$1" netns sw
  $IP -n sw link set "p-$1" master br0 up
  $IP -n "$1" addr add "$3" dev "$2"
  $IP -n "$1" link set "$2" up
}

# nat_lan "r1 r2 ..." "100 101 ...": the namespaces above, reals r1..r9 only.
nat_lan() {
  for n in sw cl lb $1; do
    $IP netns add "$n"
    $IP -n "$n" link set lo up
  done
  $IP -n sw link add br0 type bridge
  $IP -n sw link set br0 up
  plug cl c0 10.77.0.1/24
  plug lb l0 10.77.0.2/24
  $IP netns exec lb sysctl -qw net.ipv4.ip_forward=1
  # Replies of NAT reals leave the director on the interface they came in on: no ICMP
  # redirect may send a real's replies straight to the client, around the NAT.
  for k in all default l0; do $IP netns exec lb sysctl -qw "net.ipv4.conf.$k.send_redirects=0"; done
  $IP -n lb route add 10.200.0.0/16 via 10.77.0.1
  for v in $2; do $IP -n lb addr add "10.77.0.$v/32" dev lo; done
  for name in $1; do
    plug "$name" e0 "10.77.0.1${name#r}/24"
    $IP -n "$name" route add 10.200.0.0/16 via 10.77.0.2
    $IP netns exec "$name" sysctl -qw net.ipv4.conf.all.accept_redirects=0
  done
}
