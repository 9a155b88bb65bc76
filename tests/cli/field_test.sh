#!/usr/bin/env bash
# gatewayctl's field commands against meter-sim, as an installer uses them: scan a line with
# units 1, 2 and 7 (TCP and RTU through a socat pty pair), read a meter once, run the checks,
# and refuse to talk over the running gateway on its RS-485 line.
# Usage: field_test.sh METER_GATEWAY GATEWAYCTL METER_SIM DATA_DIR
set -uo pipefail
gateway=$1 ctl=$2 sim=$3 data=$4
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
passed=0 failed=0
ok() { passed=$((passed + 1)); }
fail() { failed=$((failed + 1)); echo "FAIL: $*" >&2; }
check() { if eval "$2"; then ok; else fail "$1"; fi; }

units=(--unit 1:eastron-sdm630:solar --unit 2:carlo-gavazzi-em24:swing --unit 7:janitza-umg96rm:swing)
coproc SIM { exec "$sim" --tcp 127.0.0.1:0 "${units[@]}" --start 2026-06-21T12:00:00Z --speed 0 \
    --peak-kw 40 --print-s 0; }
pids+=("$SIM_PID")
read -r line <&"${SIM[0]}"
port=${line##*:}
socat pty,raw,echo=0,link="$work/bus-sim" pty,raw,echo=0,link="$work/bus-gw" 2>"$work/socat.log" &
pids+=($!)
for _ in $(seq 50); do [ -e "$work/bus-sim" ] && [ -e "$work/bus-gw" ] && break; sleep 0.1; done
"$sim" --rtu "$work/bus-sim" --baud 19200 "${units[@]}" --start 2026-06-21T12:00:00Z --speed 0 \
    --peak-kw 40 --print-s 0 >"$work/sim-rtu.log" 2>&1 &
pids+=($!)

prod=871685900000000028 tp=871685900000000035
write_config() {  # SIGN of the production meter
    cat >"$work/gw.toml" <<TOML
[gateway]
id = "field-site"
interval_s = 10
trust_clock = true
[storage]
path = "$work/gw.db"
[api]
enabled = false
[[customer]]
klant_ean = "871685900000000011"
[[link]]
id = "lan"
type = "tcp"
host = "127.0.0.1"
port = $port
response_timeout_ms = 100
retries = 0
[[link]]
id = "rs485"
type = "rtu"
device = "$work/bus-gw"
baud = 19200
response_timeout_ms = 100
retries = 0
[[meter]]
meter_ean = "$prod"
klant_ean = "871685900000000011"
meter_type = "bruto_productie"
link = "rs485"
unit_id = 1
profile = "eastron-sdm630"
sign = "$1"
[[meter]]
meter_ean = "$tp"
klant_ean = "871685900000000011"
meter_type = "overdrachtspunt"
link = "lan"
unit_id = 2
profile = "carlo-gavazzi-em24"
TOML
}
write_config import_positive

expected="unit 1 eastron-sdm630
unit 2 carlo-gavazzi-em24
unit 7 janitza-umg96rm"
for link in lan rs485; do
    "$ctl" --config "$work/gw.toml" scan --link "$link" --units 1-10 >"$work/scan.out" 2>"$work/scan.err"
    rc=$?
    check "scan $link: exit 0" '[ "$rc" -eq 0 ]'
    check "scan $link finds exactly units 1, 2 and 7 and names their profiles" '[ "$(cat "$work/scan.out")" = "$expected" ]'
    [ "$(cat "$work/scan.out")" = "$expected" ] || { cat "$work/scan.out" "$work/scan.err" >&2; }
    check "scan $link says beforehand how long it may take" 'grep -q "at most [0-9.]* s if none answers" "$work/scan.err"'
    echo "scan of units 1-10 on $link: $(sed -n 's/.*the scan took \(.*\)/\1/p' "$work/scan.err")"
done
"$ctl" --config "$work/gw.toml" scan --link lan --units 20-22 >"$work/scan.out" 2>"$work/scan.err"
check "a scan that finds nothing exits 1" '[ $? -eq 1 ] && [ ! -s "$work/scan.out" ]'
"$ctl" --config "$work/gw.toml" scan --link nope >/dev/null 2>"$work/err"
check "scan of an unknown link: usage error naming the links" '[ $? -eq 64 ] && grep -q "links: lan, rs485" "$work/err"'
"$ctl" --config "$work/gw.toml" scan --link lan --units 0-300 >/dev/null 2>"$work/err"
check "scan with units out of range: usage error" '[ $? -eq 64 ]'

# read: every register, raw and decoded, and the sample.
"$ctl" --config "$work/gw.toml" read --meter "$tp" >"$work/read.out" 2>&1
check "read --meter: exit 0" '[ $? -eq 0 ]'
check "read shows the registers with raw words" 'grep -Eq "^p_total +(holding|input) +[0-9]+ +[a-z0-9]+ +0x[0-9A-F]{4}" "$work/read.out"'
check "read shows the sample with its direction" 'grep -Eq "^  P -?[0-9]+\.[0-9]{3} kW \((import from|export to) the grid\)" "$work/read.out"'
"$ctl" --config "$work/gw.toml" read --link lan --unit 7 --profile janitza-umg96rm >"$work/read7.out" 2>&1
check "read --link --unit --profile: any unit" '[ $? -eq 0 ] && grep -q "unit 7 on link lan" "$work/read7.out"'
"$ctl" --config "$work/gw.toml" read --link lan --unit 7 --profile "$tp" >"$work/read7b.out" 2>&1
check "read with a configured meter's map" 'grep -q "map of meter $tp" "$work/read7b.out"'
"$ctl" --config "$work/gw.toml" read --link lan --unit 7 --profile nope >/dev/null 2>"$work/err"
check "read with an unknown profile: usage error listing the profiles" '[ $? -eq 64 ] && grep -q "eastron-sdm630" "$work/err"'

# check: the production meter wired the wrong way round is named.
write_config export_positive
"$ctl" --config "$work/gw.toml" check >"$work/check.out" 2>&1
check "check with a wrong sign: exit 1" '[ $? -eq 1 ]'
check "check names the meter and the setting" 'grep -q "^sign: production meter $prod reads an import" "$work/check.out" && grep -q "sign setting (export_positive) looks wrong" "$work/check.out"'
write_config import_positive
"$ctl" --config "$work/gw.toml" check >"$work/check.out" 2>&1
check "check with the right signs: exit 0" '[ $? -eq 0 ] && grep -q "^ok: every meter answers" "$work/check.out"'
[ $? -eq 0 ] || cat "$work/check.out" >&2

# With the gateway running on the RS-485 line, the field commands refuse to talk over it.
"$gateway" --config "$work/gw.toml" 2>"$work/gw.log" &
gw_pid=$!
pids+=("$gw_pid")
for _ in $(seq 50); do grep -q "interval" "$work/gw.log" && break; sleep 0.1; done
sleep 1
"$ctl" --config "$work/gw.toml" read --meter "$prod" >/dev/null 2>"$work/err"
rc=$?
check "read on the gateway's RS-485 line is refused (exit 2)" '[ "$rc" -eq 2 ]'
check "and says why" 'grep -q "in use by another process" "$work/err" && grep -q "systemctl stop meter-gateway" "$work/err"'
"$ctl" --config "$work/gw.toml" scan --link rs485 --units 1-3 >/dev/null 2>"$work/err"
check "scan on the gateway's RS-485 line is refused" '[ $? -eq 2 ] && grep -q "in use" "$work/err"'
"$ctl" --config "$work/gw.toml" read --meter "$tp" >/dev/null 2>&1
check "a TCP meter can still be read while the gateway runs" '[ $? -eq 0 ]'
check "the gateway is still running" 'kill -0 "$gw_pid"'
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
