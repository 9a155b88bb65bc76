#!/usr/bin/env bash
# GET /metrics of the real daemon as Prometheus scrapes it: on the loopback listener of
# [api] metrics_listen without login and on the API with one; `promtool check metrics` accepts
# it, and a meter made to time out raises its timeout counter while the other one's polls go on.
# Usage: metrics_test.sh METER_GATEWAY GATEWAYCTL METER_SIM DATA_DIR PROMTOOL
set -uo pipefail
gateway=$1 ctl=$2 sim=$3 data=$4 promtool=$5
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
passed=0 failed=0
ok() { passed=$((passed + 1)); }
fail() { failed=$((failed + 1)); echo "FAIL: $*" >&2; }
check() { if eval "$2"; then ok; else fail "$1"; fi; }

# Two units on one line: unit 2 never answers.
coproc SIM { exec "$sim" --tcp 127.0.0.1:0 --profile eastron-sdm630 --unit 1 --unit 2 --scenario swing \
    --peak-kw 40 --print-s 0 --fault "2 timeout"; }
pids+=("$SIM_PID")
read -r line <&"${SIM[0]}"
port=${line##*:}
a=871685900000000035 b=871685900000000028

start_gateway() {  # METRICS_PORT: writes the config, starts the gateway, waits for its ports
    cat >"$work/gw.toml" <<TOML
[gateway]
id = "metrics-site"
interval_s = 2
trust_clock = true
[storage]
path = "$work/gw.db"
[api]
listen = "127.0.0.1:0"
tls_cert = "$data/tls/server.crt"
tls_key = "$data/tls/server.key"
rate_limit_per_minute = 100000
metrics_listen = "127.0.0.1:$1"
[[customer]]
klant_ean = "871685900000000011"
[[link]]
id = "lan"
type = "tcp"
host = "127.0.0.1"
port = $port
response_timeout_ms = 100
retries = 0
[[meter]]
meter_ean = "$a"
klant_ean = "871685900000000011"
meter_type = "overdrachtspunt"
link = "lan"
unit_id = 1
profile = "eastron-sdm630"
poll_ms = 200
[[meter]]
meter_ean = "$b"
klant_ean = "871685900000000011"
meter_type = "bruto_productie"
link = "lan"
unit_id = 2
profile = "eastron-sdm630"
poll_ms = 200
[modbus_server]
listen = "127.0.0.1:0"
[[modbus_server.unit]]
unit_id = 9
meter = "$a"
TOML
    "$gateway" --config "$work/gw.toml" 2>"$work/gw.log" &
    gw_pid=$!
    api=""
    for _ in $(seq 100); do
        api=$(sed -n 's/.*HTTPS pull API listening on \(127.0.0.1:[0-9]*\).*/\1/p' "$work/gw.log")
        [ -n "$api" ] && grep -q "metrics on http://127.0.0.1:$1/metrics" "$work/gw.log" && return 0
        kill -0 "$gw_pid" 2>/dev/null || return 1
        sleep 0.1
    done
    return 1
}
mport=""
for _ in 1 2 3; do  # a free port for the metrics listener (it takes no port 0)
    try=$((20000 + RANDOM % 40000))
    if start_gateway "$try"; then mport=$try; pids+=("$gw_pid"); break; fi
    kill "$gw_pid" 2>/dev/null; wait "$gw_pid" 2>/dev/null
done
check "the gateway starts with a metrics listener" '[ -n "$mport" ]'
[ -n "$mport" ] || { cat "$work/gw.log" >&2; echo "$passed passed, $failed failed"; exit 1; }
secret=$("$ctl" --config "$work/gw.toml" client add grafana2 --role reader | tail -n 1)
installer=$("$ctl" --config "$work/gw.toml" client add fitter --role installer | tail -n 1)

value() {  # FILE METRIC LABELS: the sample's value, or nothing
    grep -F "$2{$3}" "$1" | head -n 1 | awk '{print $2}'
}
scrape() { curl -sS -m 5 -D "$work/h" -o "$1" "http://127.0.0.1:$mport/metrics"; }

sleep 1.5
scrape "$work/m1"
check "the loopback listener answers without login" 'grep -q "^HTTP/1.1 200" "$work/h"'
check "in the Prometheus text format" 'grep -qi "^content-type: text/plain; version=0.0.4" "$work/h"'
"$promtool" check metrics <"$work/m1" >"$work/promtool.out" 2>&1
rc=$?
check "promtool check metrics accepts it" '[ "$rc" -eq 0 ]'
[ "$rc" -eq 0 ] || cat "$work/promtool.out" >&2
t1=$(value "$work/m1" meter_gateway_meter_timeouts_total "meter_ean=\"$b\"")
p1=$(value "$work/m1" meter_gateway_meter_polls_total "meter_ean=\"$a\"")
sleep 1.5
scrape "$work/m2"
t2=$(value "$work/m2" meter_gateway_meter_timeouts_total "meter_ean=\"$b\"")
p2=$(value "$work/m2" meter_gateway_meter_polls_total "meter_ean=\"$a\"")
check "the silent meter's timeout counter rises ($t1 -> $t2)" '[ -n "$t1" ] && [ -n "$t2" ] && [ "$t2" -gt "$t1" ]'
check "the answering meter's polls go on ($p1 -> $p2)" '[ -n "$p1" ] && [ "$p2" -gt "$p1" ]'
check "the answering meter has no timeouts" '[ "$(value "$work/m2" meter_gateway_meter_timeouts_total "meter_ean=\"$a\"")" = 0 ]'
check "the link states" 'grep -q "meter_gateway_meter_link_state{meter_ean=\"$a\",state=\"ok\"} 1" "$work/m2" && grep -q "meter_gateway_meter_link_state{meter_ean=\"$b\",state=\"down\"} 1" "$work/m2"'
check "request durations as a histogram" 'grep -q "meter_gateway_modbus_request_duration_seconds_bucket{meter_ean=\"$a\",le=\"+Inf\"} [1-9]" "$work/m2"'
check "intervals committed by quality" 'grep -q "meter_gateway_intervals_committed_total{meter_ean=\"$a\",kwaliteit=\"gemeten\"}" "$work/m2"'
check "the certificate's expiry" 'grep -q "^meter_gateway_tls_certificate_expiry_timestamp_seconds [0-9]" "$work/m2"'
check "the store" 'grep -q "^meter_gateway_store_size_bytes [1-9]" "$work/m2"'
check "clock trust" 'grep -q "^meter_gateway_clock_trusted 1" "$work/m2"'
check "only /metrics on the loopback listener" '[ "$(curl -s -o /dev/null -w "%{http_code}" "http://127.0.0.1:$mport/api/v1/status")" = 404 ]'

# On the API: with a login (reader or installer), counted by endpoint and status.
c() { curl -sS --cacert "$data/tls/server.crt" --resolve "localhost:${api#*:}:127.0.0.1" "$@"; }
base="https://localhost:${api#*:}"
check "/metrics on the API needs a login" '[ "$(c -o /dev/null -w "%{http_code}" "$base/metrics")" = 401 ]'
check "a reader may scrape" '[ "$(c -o "$work/m3" -w "%{http_code}" -u "grafana2:$secret" "$base/metrics")" = 200 ]'
check "an installer may scrape" '[ "$(c -o /dev/null -w "%{http_code}" -u "fitter:$installer" "$base/metrics")" = 200 ]'
"$promtool" check metrics <"$work/m3" >"$work/promtool.out" 2>&1
check "promtool accepts the API's answer too" '[ $? -eq 0 ]'
c -s -o /dev/null -u "grafana2:$secret" "$base/api/v1/status"
scrape "$work/m4"
check "API requests by endpoint and status" 'grep -q "meter_gateway_api_requests_total{endpoint=\"/metrics\",status=\"401\"} 1" "$work/m4" && grep -q "meter_gateway_api_requests_total{endpoint=\"/api/v1/status\",status=\"200\"} 1" "$work/m4"'
# The Modbus TCP server's answers, read with pymodbus (not ours).
mbport=$(sed -n 's/.*Modbus TCP server on 127.0.0.1:\([0-9]*\).*/\1/p' "$work/gw.log")
/usr/bin/python3 - "$mbport" <<'PY' >"$work/mb.out" 2>&1
import sys
from pymodbus.client import ModbusTcpClient
c = ModbusTcpClient("127.0.0.1", port=int(sys.argv[1]))
c.connect()
ok = not c.read_input_registers(0x34, 2, slave=9).isError()
refused = c.read_input_registers(0x34, 2, slave=8).isError()
c.close()
print("read", ok, "unknown unit refused", refused)
PY
check "a pymodbus client reads through [modbus_server]" 'grep -q "read True unknown unit refused True" "$work/mb.out"'
scrape "$work/m5"
check "the Modbus TCP server's answers" 'grep -q "meter_gateway_modbus_server_answers_total{answer=\"latest_poll\"} 1" "$work/m5" && grep -q "meter_gateway_modbus_server_answers_total{answer=\"exception\"} 1" "$work/m5"'
"$promtool" check metrics <"$work/m5" >"$work/promtool.out" 2>&1
check "promtool accepts them" '[ $? -eq 0 ]'
check "the gateway is still running" 'kill -0 "$gw_pid"'
echo "metrics: $(grep -c "^# TYPE" "$work/m4") families, $(grep -vc "^#" "$work/m4") samples, $(wc -c <"$work/m4") bytes"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
