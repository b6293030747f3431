#!/bin/sh
# Runs in the QEMU guest (tests/it/failover_qemu.rs): the hot standby, run. Two director
# namespaces run the real keepalived with the keepalived.conf lvsc built for each (VRRP,
# IPVS virtual servers, the sync daemon), reals with the VIP on loopback (direct
# routing), a client. The master dies (keepalived killed, its link down); the backup
# must hold the VIP within 3 x advert + skew and, with connections synchronised, the
# client's established connections go on. Then the master comes back.
#
# Prints tagged blocks (@@BEGIN tag ... @@EXIT status / @@END) that the test reads; it
# asserts nothing itself. Every wait is bounded.
set -u
IP=/usr/sbin/ip
VIP=10.77.0.100
begin() { echo "@@BEGIN $1"; }
end() { echo "@@EXIT ${1:-0}"; echo "@@END"; }
uptime_cs() { # the uptime in hundredths of a second
  read -r up _ </proc/uptime
  echo "${up%.*}${up#*.}"
}
has_vip() { $IP -n "$1" -4 addr show dev l0 | grep -q "inet $VIP/"; }
# Polls CMD (a shell string) every 100 ms for up to SECONDS; status 0 once it holds.
until_true() {
  limit=$(($1 * 10))
  shift
  k=0
  while [ "$k" -lt "$limit" ]; do
    if eval "$1"; then return 0; fi
    sleep 0.1
    k=$((k + 1))
  done
  return 1
}
CONF=/test
keepalived_in() { # NS: keepalived in the foreground of a background job, pids in /run
  $IP netns exec "$1" /usr/sbin/keepalived -n -l -D -f "$CONF/$1/keepalived.conf" \
    -p "/run/ka-$1.pid" -r "/run/ka-$1-vrrp.pid" -c "/run/ka-$1-check.pid" \
    >>"/tmp/ka-$1.log" 2>&1 &
}
keepalived_kill() { # NS: as a crash does (no goodbye advert)
  # The parent first, in the same kill: it respawns a child it sees die.
  kill -9 "$(cat "/run/ka-$1.pid")" "$(cat "/run/ka-$1-vrrp.pid")" \
    "$(cat "/run/ka-$1-check.pid")" 2>/dev/null
  # A stale pid file whose number was reused makes keepalived think it runs already.
  rm -f "/run/ka-$1.pid" "/run/ka-$1-vrrp.pid" "/run/ka-$1-check.pid"
}

# keepalived looks up the script user.
mkdir -p /etc /run
echo 'root:x:0:0:root:/root:/bin/sh' >/etc/passwd
echo 'root:x:0:' >/etc/group

for n in sw cl lb1 lb2 r1 r2; do
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
plug lb1 l0 10.77.0.2/24
plug lb2 l0 10.77.0.3/24
for n in r1:11 r2:12; do
  name=${n%%:*}
  plug "$name" e0 "10.77.0.${n#*:}/24"
  $IP netns exec "$name" sysctl -qw net.ipv4.conf.all.arp_ignore=1
  $IP netns exec "$name" sysctl -qw net.ipv4.conf.all.arp_announce=2
  $IP -n "$name" addr add "$VIP/32" dev lo
  $IP netns exec "$name" /test/lvsc-flows serve "$name" 80 - >/dev/null &
done
keepalived_in lb1
keepalived_in lb2

begin master
until_true 30 "has_vip lb1"
up=$?
has_vip lb2 && echo "both hold the VIP"
$IP netns exec lb2 ipvsadm -Ln
end "$up"

# Established connections, and steady traffic, before the master dies.
$IP netns exec cl /test/lvsc-flows hold "$VIP:80" 20 /tmp/failed-over >/tmp/hold.out 2>&1 &
hold=$!
until_true 20 "grep -q held /tmp/hold.out"
$IP netns exec cl /test/lvsc-flows load "$VIP:80" 12 10 5 >/tmp/load.json 2>/tmp/load.err &
load=$!
sleep 3
begin synced
$IP netns exec lb2 ipvsadm -Lnc | grep -c ESTABLISHED
end 0

begin failover
t0=$(uptime_cs)
keepalived_kill lb1
$IP -n lb1 link set l0 down
until_true 20 "has_vip lb2"
took=$?
t1=$(uptime_cs)
echo "took_cs $((t1 - t0)) status $took"
end "$took"

sleep 2
touch /tmp/failed-over
wait "$hold"
wait "$load"
begin survived
cat /tmp/hold.out
end 0
begin load
cat /tmp/load.json
end 0
begin load-errors
cat /tmp/load.err
end 0

# The master comes back: without nopreempt it takes the VIP again.
$IP -n lb1 link set l0 up
keepalived_in lb1
begin back
until_true 30 "has_vip lb1 && ! has_vip lb2"
end $?

# Again with `nopreempt` written in the file: the master, back, must leave the VIP where
# it is. Both start as BACKUP (keepalived's rule with nopreempt); priority elects lb1.
keepalived_kill lb1
keepalived_kill lb2
$IP -n lb1 addr flush dev l0 to "$VIP/32" 2>/dev/null
$IP -n lb2 addr flush dev l0 to "$VIP/32" 2>/dev/null
CONF=/test/nopreempt
sleep 1
keepalived_in lb1
keepalived_in lb2
begin nopreempt-master
until_true 30 "has_vip lb1"
end $?
keepalived_kill lb1
$IP -n lb1 link set l0 down
begin nopreempt-failover
until_true 20 "has_vip lb2"
end $?
$IP -n lb1 link set l0 up
keepalived_in lb1
# Well past 3 x advert + skew: lb1 has seen lb2's adverts and stays backup.
sleep 6
begin nopreempt-back
if has_vip lb2 && ! has_vip lb1; then stays=0; else stays=1; fi
echo "lb2 keeps the VIP: $stays"
end "$stays"
begin keepalived-logs
cat /tmp/ka-lb1.log /tmp/ka-lb2.log
end 0
