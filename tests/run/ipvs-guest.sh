#!/bin/sh
# Runs in the QEMU guest (tests/it/run_ipvs_qemu.rs): `lvsc run` on a real IPVS table.
#
#   c (198.51.100.2) -- eth0  d (director, lvsc run)  br0 (10.99.0.1)
#                                                      |-- r1 .11  r2 .12  r3 .13  r4 .14
#                                                      `-- sorry .20
#
# Every real runs busybox httpd on 8080, answering its name. The script drives the
# scenario and prints tagged blocks (@@BEGIN tag ... @@EXIT status / @@END) that the
# test reads; it asserts nothing itself. Every wait is bounded.
#
#   sh ipvs-guest.sh                     the scenario (as /test/run.sh)
#   sh ipvs-guest.sh client N GAP        N requests to the VIP, GAP seconds apart: one
#                                        line each, "UPTIME WHO" (WHO = error on failure)
set -u
IP=/usr/sbin/ip
VIP=203.0.113.80
LVSC=/test/lvsc
SOCK=/run/lvsc-test.sock

if [ "${1:-}" = client ]; then
  n=$2
  gap=$3
  i=0
  while [ "$i" -lt "$n" ]; do
    read -r up _ </proc/uptime
    who=$(timeout 2 wget -q -O - "http://$VIP/" 2>/dev/null) || who=error
    echo "$up ${who:-error}"
    [ "$gap" = 0 ] || sleep "$gap"
    i=$((i + 1))
  done
  exit 0
fi

begin() { echo "@@BEGIN $1"; }
end() { echo "@@EXIT ${1:-0}"; echo "@@END"; }
now() {
  read -r up _ </proc/uptime
  echo "$up"
}

# Starts NAME's HTTP server in its namespace; its pid goes to /tmp/httpd-NAME.pid.
serve() {
  mkdir -p "/tmp/www-$1"
  echo "$1" >"/tmp/www-$1/index.html"
  $IP netns exec "$1" busybox httpd -f -p 8080 -h "/tmp/www-$1" &
  echo $! >"/tmp/httpd-$1.pid"
}

# Stops NAME's HTTP server: the port then refuses connections.
unserve() {
  kill "$(cat "/tmp/httpd-$1.pid")"
  wait "$(cat "/tmp/httpd-$1.pid")" 2>/dev/null
}

# Polls CMD (a shell string) every 200 ms for up to SECONDS; status 0 once it holds.
until_true() {
  limit=$(($1 * 5))
  shift
  k=0
  while [ "$k" -lt "$limit" ]; do
    if eval "$1"; then return 0; fi
    sleep 0.2
    k=$((k + 1))
  done
  return 1
}

client() { $IP netns exec c sh /test/run.sh client "$1" "$2"; }
status_json() { $IP netns exec d "$LVSC" status --json --socket "$SOCK" 2>/dev/null; }
ipvs() { $IP netns exec d ipvsadm -Ln; }
# Whether the three reals of the first file are up (status --json is pretty-printed).
all_up() { [ "$(status_json | grep -c '"state": "up"')" -ge 3 ]; }
all_sorry() { [ "$(client 3 0 | grep -c ' sorry$')" = 3 ]; }
run_loop() {
  $IP netns exec d "$LVSC" run /test/cluster.lvs --socket "$SOCK" --metrics 127.0.0.1:9464 \
    >>/tmp/run.log 2>>/tmp/run.err &
  echo $! >/tmp/run.pid
}

for n in c d r1 r2 r3 r4 sorry; do
  $IP netns add "$n"
  $IP -n "$n" link set lo up
done
$IP link add eth0 netns c type veth peer name eth0 netns d
$IP -n c addr add 198.51.100.2/24 dev eth0
$IP -n c link set eth0 up
$IP -n c route add 203.0.113.0/24 via 198.51.100.1
$IP -n d addr add 198.51.100.1/24 dev eth0
$IP -n d link set eth0 up
$IP -n d link add br0 type bridge
$IP -n d addr add 10.99.0.1/24 dev br0
$IP -n d link set br0 up
$IP netns exec d sysctl -qw net.ipv4.ip_forward=1
for n in r1:11 r2:12 r3:13 r4:14 sorry:20; do
  name=${n%%:*}
  $IP link add eth0 netns "$name" type veth peer name "to-$name" netns d
  $IP -n d link set "to-$name" master br0
  $IP -n d link set "to-$name" up
  $IP -n "$name" addr add "10.99.0.${n#*:}/24" dev eth0
  $IP -n "$name" link set eth0 up
  $IP -n "$name" route add default via 10.99.0.1
done
for n in r1 r2 r3 sorry; do serve "$n"; done
sleep 1

cp /test/base.lvs /test/cluster.lvs
run_loop
begin start
until_true 60 all_up
end $?
begin table-start
ipvs
end $?

# 300 requests: the spread by weight.
begin spread
client 300 0
end $?

# r2 stops while requests flow; its failures are counted against the time it died.
client 150 0.05 >/tmp/stream.txt &
stream=$!
sleep 3
begin killed
now
unserve r2
end 0
wait "$stream"
begin stream
cat /tmp/stream.txt
end 0
begin table-r2-down
ipvs
end $?

# r2 is back once a check passes.
serve r2
begin r2-back
until_true 30 'ipvs | grep -q "10.99.0.12:8080 *Masq *2 "'
end $?
begin share-r2-back
client 60 0
end $?

# A crash (SIGKILL) and a restart while requests flow: the table stays as it was, the
# new process presumes the serving reals healthy, and no request fails.
client 100 0.05 >/tmp/restart.txt &
stream=$!
sleep 1
kill -9 "$(cat /tmp/run.pid)"
wait "$(cat /tmp/run.pid)" 2>/dev/null
begin table-crashed
ipvs
end $?
run_loop
wait "$stream"
begin restart-stream
cat /tmp/restart.txt
end 0
begin restarted
until_true 30 all_up
end $?

# SIGHUP with a new real whose server is down: it gets nothing, then its share once up.
cp /test/r4.lvs /test/cluster.lvs
kill -HUP "$(cat /tmp/run.pid)"
begin reload
until_true 30 'grep -q "\"result\":\"applied\"" /tmp/run.log'
end $?
sleep 2
begin r4-pending
client 80 0
end $?
serve r4
begin r4-serving
until_true 30 'client 10 0 | grep -q " r4$"'
end $?

# A broken file on SIGHUP: refused, and the loop runs on with the last good one.
cp /test/broken.lvs /test/cluster.lvs
kill -HUP "$(cat /tmp/run.pid)"
begin refused
until_true 30 'grep -q "\"result\":\"refused\"" /tmp/run.log'
end $?
begin after-refused
client 30 0
end $?

# Every real down: the quorum is lost and the sorry server answers.
for n in r1 r2 r3 r4; do unserve "$n"; done
begin sorry
until_true 30 all_sorry
end $?
begin table-sorry
ipvs
end $?
begin status-json
status_json
end $?
begin status-text
$IP netns exec d "$LVSC" status --socket "$SOCK"
end $?
begin metrics
$IP netns exec d wget -q -O - http://127.0.0.1:9464/metrics
end $?

begin stop
kill -TERM "$(cat /tmp/run.pid)"
wait "$(cat /tmp/run.pid)"
end $?
begin table-stopped
ipvs
end $?
begin log
cat /tmp/run.log
end 0
begin stderr
cat /tmp/run.err
end 0
