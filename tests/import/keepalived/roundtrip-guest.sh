#!/bin/sh
# Runs in the QEMU guest (tests/it/import_keepalived_qemu.rs): the real keepalived, its
# checker only (-C), on each case's original keepalived.conf and then on the one lvsc
# built from the import, each case in a namespace of its own. One namespace `reals`
# holds every real's address and answers every check (HTTP, HTTPS, TCP, UDP; the MISC
# scripts exit 0). Prints each case's settled IPVS table (`ipvsadm -Sn` and
# `ipvsadm -Ln --thresholds`, sorted) as tagged blocks; it asserts nothing itself.
#
#   /test/cases/K/name        the case's name
#   /test/cases/K/orig/main   the original's main file name (in orig/)
#   /test/cases/K/lvsc/keepalived.conf
#   /test/reals.txt           one address per line
#   /test/ports.txt           `plain P,P`, `tls P,P`, `udp P,P`
#   /test/misc.txt            the MISC_CHECK programs
set -u
# shellcheck source=tests/guest/nat-lan.sh
. /test/lib/nat-lan.sh
IPVSADM=/usr/sbin/ipvsadm
KEEPALIVED=/usr/sbin/keepalived

mkdir -p /etc /run /usr/local/bin
echo 'root:x:0:0:root:/root:/bin/sh' >/etc/passwd
echo 'root:x:0:' >/etc/group
while read -r p; do
  mkdir -p "$(dirname "$p")"
  printf '#!/bin/sh\nexit 0\n' >"$p"
  chmod 755 "$p"
done </test/misc.txt

ports() { sed -n "s/^$1 //p" /test/ports.txt; }
$IP netns add reals
$IP -n reals link set lo up
while read -r a; do
  case $a in
  *:*) $IP -n reals addr add "$a/128" dev lo nodad ;;
  *) $IP -n reals addr add "$a/32" dev lo ;;
  esac
done </test/reals.txt
$IP netns exec reals /test/lvsc-flows http "$(ports plain)" "$(ports tls)" \
  /test/cert.pem /test/key.pem >/tmp/http.log 2>&1 &
$IP netns exec reals /test/lvsc-flows serve real - "$(ports udp)" >/tmp/udp.log 2>&1 &

# case_up K: namespace cK, routed through a veth to `reals`.
case_up() {
  $IP netns add "c$1"
  $IP -n "c$1" link set lo up
  $IP link add v0 netns "c$1" type veth peer name "r$1" netns reals
  $IP -n reals addr add "10.254.$1.1/30" dev "r$1"
  $IP -n reals addr add "fd00:254:$1::1/64" dev "r$1" nodad
  $IP -n reals link set "r$1" up
  $IP -n "c$1" addr add "10.254.$1.2/30" dev v0
  $IP -n "c$1" addr add "fd00:254:$1::2/64" dev v0 nodad
  $IP -n "c$1" link set v0 up
  $IP -n "c$1" route add default via "10.254.$1.1"
  $IP -n "c$1" -6 route add default via "fd00:254:$1::1"
}

table() { # K: the settled table, sorted (the order of services is the kernel's hash)
  $IP netns exec "c$1" $IPVSADM -Sn | sort
  echo "--- thresholds"
  $IP netns exec "c$1" $IPVSADM -Ln --thresholds | grep -- '->' | grep -v RemoteAddress | sort
}

# phase orig|lvsc: every case's keepalived at once, until every table has been the same
# for 12 s (at least 30 s, at most 150 s): keepalived spreads the first checks over a
# delay_loop. Polled every 2 s with one `ipvsadm -Sn` per case (processes are dear in an
# emulated guest); the thresholds are read once, at the end.
phase() {
  for d in /test/cases/*; do
    k=${d##*/}
    case_up "$k"
    if [ "$1" = orig ]; then conf="$d/orig/$(cat "$d/orig/main")"; else conf="$d/lvsc/keepalived.conf"; fi
    $IP netns exec "c$k" $KEEPALIVED -n -l -D -C -f "$conf" -p "/run/ka$k.pid" \
      -c "/run/ka$k-check.pid" -r "/run/ka$k-vrrp.pid" >"/tmp/ka-$1-$k.log" 2>&1 &
    echo $! >"/run/job$k"
  done
  t=0
  while [ "$t" -lt 150 ]; do
    sleep 2
    t=$((t + 2))
    settled=1
    for d in /test/cases/*; do
      k=${d##*/}
      $IP netns exec "c$k" $IPVSADM -Sn >"/tmp/now$k"
      if cmp -s "/tmp/now$k" "/tmp/was$k"; then
        s=$(($(cat "/tmp/same$k" 2>/dev/null || echo 0) + 2))
      else
        s=0
      fi
      echo "$s" >"/tmp/same$k"
      mv "/tmp/now$k" "/tmp/was$k"
      [ "$s" -ge 12 ] || settled=0
    done
    if [ "$settled" = 1 ] && [ "$t" -ge 30 ]; then break; fi
  done
  begin "settled-$1"
  echo "$t"
  end 0
  for d in /test/cases/*; do
    k=${d##*/}
    begin "$1-$(cat "$d/name")"
    table "$k"
    end 0
    kill "$(cat "/run/job$k")" 2>/dev/null
  done
  sleep 2
  for d in /test/cases/*; do
    k=${d##*/}
    begin "log-$1-$(cat "$d/name")"
    tail -n 20 "/tmp/ka-$1-$k.log"
    end 0
    $IP netns del "c$k"
    rm -f "/tmp/was$k" "/tmp/same$k" "/run/ka$k.pid" "/run/ka$k-check.pid" "/run/ka$k-vrrp.pid"
  done
}

phase orig
phase lvsc
begin listeners
cat /tmp/http.log /tmp/udp.log
end 0
