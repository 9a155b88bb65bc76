#!/usr/bin/env bash
# The real daemon's pull API with curl over TLS, as a grid operator's integration engineer uses it.
# Usage: curl_test.sh METER_GATEWAY GATEWAYCTL METER_SIM DATA_DIR
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

coproc SIM { exec "$sim" --tcp 127.0.0.1:0 --profile eastron-sdm630 --scenario swing --peak-kw 40 --print-s 0; }
pids+=("$SIM_PID")
read -r line <&"${SIM[0]}"
port=${line##*:}
sed -e "s#@STORE@#$work/gw.db#" -e "s#@PORT@#$port#" -e "s#@DATA@#$data#" -e "s#@INTERVAL@#2#" \
    "$data/site.toml.in" >"$work/gw.toml"
secret=$("$ctl" --config "$work/gw.toml" client add liander --role reader | tail -n 1)
"$ctl" --config "$work/gw.toml" consent grant 871685900000000011 --by test >/dev/null
"$gateway" --config "$work/gw.toml" 2>"$work/gw.log" &
pids+=($!)
api=""
for _ in $(seq 100); do
    api=$(sed -n 's/.*HTTPS pull API listening on \(127.0.0.1:[0-9]*\).*/\1/p' "$work/gw.log")
    [ -n "$api" ] && break
    sleep 0.1
done
check "the API announces its port" '[ -n "$api" ]'
base="https://$api"
c() { curl -sS --cacert "$data/tls/server.crt" --resolve "localhost:${api#*:}:127.0.0.1" "$@"; }
base="https://localhost:${api#*:}"
code() { c -o /dev/null -w '%{http_code}' "$@"; }

# Wait (bounded) for the first intervals: a few 2-second ones.
for _ in $(seq 100); do
    c -u "liander:$secret" "$base/api/v1/meters" | grep -q '"datum_laatste_meting":"20' && break
    sleep 0.1
done
check "healthz without credentials" '[ "$(c "$base/healthz")" = "{\"status\":\"ok\"}" ]'
check "the certificate verifies (curl without -k)" '[ "$(code "$base/healthz")" = 200 ]'
check "plain HTTP on the TLS port gets no HTTP answer" '! curl -s -m 3 "http://$api/healthz" >/dev/null'
check "401 without credentials" '[ "$(code "$base/api/v1/meters")" = 401 ]'
check "401 with a wrong password" '[ "$(code -u liander:nope "$base/api/v1/meters")" = 401 ]'
meters=$(c -u "liander:$secret" "$base/api/v1/meters")
check "call 1 lists the meter" 'grep -q "\"meter_ean\":\"871685900000000035\",\"meter_type\":\"overdrachtspunt\",\"datum_laatste_meting\":\"20" <<<"$meters"'
check "call 1 lists the customer without consent" 'grep -q "\"klant_ean\":\"871685900000000042\",\"reden\":\"geen_toestemming\"" <<<"$meters"'
token=$(c -u "liander:$secret" -X POST "$base/api/v1/token" | sed -n 's/.*"access_token":"\([^"]*\)".*/\1/p')
check "a bearer token is issued" '[ ${#token} -eq 43 ]'
start=$(date -u -d "-1 hour" +%Y-%m-%dT%H:%M:%SZ)
q="klant_ean=871685900000000011&meter_ean=871685900000000035&start_tijd=$start"
json=$(c -H "Authorization: Bearer $token" "$base/api/v1/metingen?$q&meting_type=actief_vermogen")
check "call 2 returns integer kW" 'grep -Eq "\"waarde\":-?[0-9]+,\"meting_type\":\"actief_vermogen\",\"waarde_type\":\"kW\"" <<<"$json"'
csv=$(c -H "Authorization: Bearer $token" "$base/api/v1/metingen?$q&meting_type=actief_vermogen&formaat=csv")
check "CSV has the header" '[ "$(head -1 <<<"$csv")" = "datum,tijd,klant_ean,meter_ean,waarde,meting_type,waarde_type,kwaliteit" ]'
check "CSV and JSON have the same number of rows" '[ $(( $(wc -l <<<"$csv") - 1 )) -ge $(grep -o "\"meting_type\"" <<<"$json" | wc -l) ]'
headers=$(c -D - -o /dev/null -H "Authorization: Bearer $token" -H "X-Correlation-ID: 3f2a1b4c-0000-4000-8000-000000000001" "$base/api/v1/metingen?$q")
check "Cache-Control: no-store on data" 'grep -qi "^cache-control: no-store" <<<"$headers"'
check "the correlation id is echoed" 'grep -qi "^x-correlation-id: 3f2a1b4c-0000-4000-8000-000000000001" <<<"$headers"'
check "400 for a bad check digit" '[ "$(code -u "liander:$secret" "$base/api/v1/metingen?klant_ean=871685900000000012&meter_ean=871685900000000035&start_tijd=$start")" = 400 ]'
check "400 for a naive time" '[ "$(code -u "liander:$secret" "$base/api/v1/metingen?klant_ean=871685900000000011&meter_ean=871685900000000035&start_tijd=2026-11-23T10:00:00")" = 400 ]'
check "403 for a customer without consent" '[ "$(code -u "liander:$secret" "$base/api/v1/metingen?klant_ean=871685900000000042&meter_ean=871685900000000035&start_tijd=$start")" = 403 ]'
check "404 for an unknown path" '[ "$(code -u "liander:$secret" "$base/api/v2/x")" = 404 ]'
check "405 for DELETE" '[ "$(code -u "liander:$secret" -X DELETE "$base/api/v1/meters")" = 405 ]'
check "414 for a huge URL" '[ "$(code -u "liander:$secret" "$base/api/v1/meters?x=$(head -c 6000 /dev/zero | tr "\0" a)")" = 414 ]'
check "meterstanden" '[ "$(code -u "liander:$secret" "$base/api/v1/meterstanden?$q")" = 200 ]'
check "meter details" '[ "$(code -u "liander:$secret" "$base/api/v1/meters/871685900000000035")" = 200 ]'
check "status" 'c -u "liander:$secret" "$base/api/v1/status" | grep -q "\"link_state\":\"up\""'
check "openapi.json" 'c "$base/api/v1/openapi.json" | grep -q "\"openapi\":\"3.0.3\""'
"$ctl" --config "$work/gw.toml" consent revoke 871685900000000011 --by test >/dev/null
check "403 on the next request after consent is revoked" '[ "$(code -H "Authorization: Bearer $token" "$base/api/v1/metingen?$q")" = 403 ]'
"$ctl" --config "$work/gw.toml" client revoke liander >/dev/null
check "401 for a revoked client's token" '[ "$(code -H "Authorization: Bearer $token" "$base/api/v1/status")" = 401 ]'
check "the gateway is still running" 'kill -0 "${pids[1]}"'
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
