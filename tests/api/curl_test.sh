#!/usr/bin/env bash
# The real daemon's pull API with curl over TLS, as a grid operator's integration engineer uses it.
# Every answer is checked against the gateway's OpenAPI document (openapi_validate), and a set of
# calls is repeated through Prism, a validating proxy.
# Usage: curl_test.sh METER_GATEWAY GATEWAYCTL METER_SIM DATA_DIR OPENAPI_VALIDATE PRISM
set -uo pipefail
gateway=$1 ctl=$2 sim=$3 data=$4 validate=$5 prism=$6
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
c() { curl -sS --cacert "$data/tls/server.crt" --resolve "localhost:${api#*:}:127.0.0.1" "$@"; }
base="https://localhost:${api#*:}"
"$gateway" --openapi >"$work/openapi.json"
check "the served document is the one --openapi prints" 'cmp -s "$work/openapi.json" <(c "$base/api/v1/openapi.json"; echo)'

# req METHOD PATH [curl options]: one request over TLS; sets $status, $body and $headers, and
# checks the answer against the OpenAPI document (status, headers, content type, body schema).
validated=0
req() {
    local method=$1 path=$2
    shift 2
    local head=(-X "$method")
    [ "$method" = HEAD ] && head=(-I)
    status=$(c "${head[@]}" -D "$work/headers" -o "$work/body" -w '%{http_code}' "$@" "$base$path")
    body=$(cat "$work/body")
    headers=$(cat "$work/headers")
    if "$validate" "$work/openapi.json" "$method" "$path" "$work/headers" "$work/body"; then
        validated=$((validated + 1))
    else
        fail "$method $path ($status) does not match the OpenAPI document"
    fi
}

# Wait (bounded) for the first intervals: a few 2-second ones.
for _ in $(seq 100); do
    c -u "liander:$secret" "$base/api/v1/meters" | grep -q '"datum_laatste_meting":"20' && break
    sleep 0.1
done
req GET /healthz
check "healthz without credentials" '[ "$status $body" = "200 {\"status\":\"ok\"}" ]'
check "the certificate verifies (curl without -k)" '[ "$status" = 200 ]'
check "plain HTTP on the TLS port gets no HTTP answer" '! curl -s -m 3 "http://$api/healthz" >/dev/null'
req GET /api/v1/meters
check "401 without credentials, with a Basic challenge" '[ "$status" = 401 ] && grep -qi "^www-authenticate: Basic realm=" <<<"$headers"'
req GET /api/v1/meters -u liander:nope
check "401 with a wrong password" '[ "$status" = 401 ]'
req GET /api/v1/meters -H "Authorization: Bearer AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
check "401 for an unknown token, with a Bearer challenge" '[ "$status" = 401 ] && grep -qi "^www-authenticate: Bearer .*error=\"invalid_token\"" <<<"$headers"'
req GET /api/v1/meters -u "liander:$secret"
meters=$body
check "call 1 lists the meter" 'grep -q "\"meter_ean\":\"871685900000000035\",\"meter_type\":\"overdrachtspunt\",\"datum_laatste_meting\":\"20" <<<"$meters"'
check "call 1 lists the customer without consent" 'grep -q "\"klant_ean\":\"871685900000000042\",\"reden\":\"geen_toestemming\"" <<<"$meters"'
req GET "/api/v1/meters?klant_ean=871685900000000011,871685900000000042" -u "liander:$secret"
check "call 1 takes a comma-separated list" '[ "$status" = 200 ] && [ "$body" = "$meters" ]'
req POST /api/v1/token -u "liander:$secret"
token=$(sed -n 's/.*"access_token":"\([^"]*\)".*/\1/p' <<<"$body")
check "a bearer token is issued" '[ ${#token} -eq 43 ]'
req POST /api/v1/token -H "Authorization: Bearer $token"
check "the token endpoint refuses a Bearer token with a Basic challenge" '[ "$status" = 401 ] && grep -qi "^www-authenticate: Basic realm=" <<<"$headers"'
start=$(date -u -d "-1 hour" +%Y-%m-%dT%H:%M:%SZ)
q="klant_ean=871685900000000011&meter_ean=871685900000000035&start_tijd=$start"
bearer=(-H "Authorization: Bearer $token")
req GET "/api/v1/metingen?$q&meting_type=actief_vermogen" "${bearer[@]}"
json=$body
check "call 2 returns integer kW" 'grep -Eq "\"waarde\":-?[0-9]+,\"meting_type\":\"actief_vermogen\",\"waarde_type\":\"kW\"" <<<"$json"'
req GET "/api/v1/metingen?$q&meting_type=actief_vermogen&formaat=csv" "${bearer[@]}"
csv=$body
check "CSV has the header" '[ "$(head -1 <<<"$csv")" = "datum,tijd,klant_ean,meter_ean,waarde,meting_type,waarde_type,kwaliteit" ]'
check "CSV and JSON have the same number of rows" '[ $(( $(wc -l <<<"$csv") - 1 )) -ge $(grep -o "\"meting_type\"" <<<"$json" | wc -l) ]'
req GET "/api/v1/metingen?$q&meting_type=actief_vermogen,spanning_L1&resolutie=15min" "${bearer[@]}"
check "call 2 takes a comma-separated meting_type and 15-minute buckets" '[ "$status" = 200 ]'
req GET "/api/v1/metingen?$q" "${bearer[@]}" -H "X-Correlation-ID: 3f2a1b4c-0000-4000-8000-000000000001"
check "Cache-Control: no-store on data" 'grep -qi "^cache-control: no-store" <<<"$headers"'
check "the correlation id is echoed" 'grep -qi "^x-correlation-id: 3f2a1b4c-0000-4000-8000-000000000001" <<<"$headers"'
req GET "/api/v1/metingen?klant_ean=871685900000000012&meter_ean=871685900000000035&start_tijd=$start" -u "liander:$secret"
check "400 for a bad check digit" '[ "$status" = 400 ]'
req GET "/api/v1/metingen?klant_ean=871685900000000011&meter_ean=871685900000000035&start_tijd=2026-11-23T10:00:00" -u "liander:$secret"
check "400 for a naive time" '[ "$status" = 400 ]'
req GET "/api/v1/metingen?klant_ean=871685900000000011&meter_ean=871685900000000035&start_tijd=2026-11-23T10:00:00+01:00" -u "liander:$secret"
check "400 for an unencoded +, saying to send %2B" '[ "$status" = 400 ] && grep -q "%2B" <<<"$body"'
req GET "/api/v1/metingen?klant_ean=871685900000000042&meter_ean=871685900000000035&start_tijd=$start" -u "liander:$secret"
check "403 for a customer without consent" '[ "$status" = 403 ] && grep -q "\"code\":\"no_consent\"" <<<"$body"'
req GET /api/v2/x -u "liander:$secret"
check "404 for an unknown path" '[ "$status" = 404 ]'
req GET /api/v1/meters/871685900000000035/extra -u "liander:$secret"
check "404 for a sub-path of a meter" '[ "$status" = 404 ]'
req DELETE /api/v1/meters -u "liander:$secret"
check "405 for DELETE" '[ "$status" = 405 ]'
req GET "/api/v1/meters?x=$(head -c 6000 /dev/zero | tr "\0" a)" -u "liander:$secret"
check "414 for a huge URL, not to be stored" '[ "$status" = 414 ] && grep -qi "^cache-control: no-store" <<<"$headers"'
req GET "/api/v1/meterstanden?$q" -u "liander:$secret"
check "meterstanden" '[ "$status" = 200 ]'
req GET "/api/v1/meterstanden?$q&formaat=csv" -u "liander:$secret"
check "meterstanden as CSV" '[ "$(head -1 <<<"$body")" = "datum,tijd,klant_ean,meter_ean,waarde,meting_type,waarde_type" ]'
req GET /api/v1/meters/871685900000000035 -u "liander:$secret"
check "meter details" '[ "$status" = 200 ] && grep -q "\"link_state\":\"ok\"" <<<"$body"'
req GET /api/v1/status -u "liander:$secret"
check "status: the meter answers" 'grep -q "\"link_state\":\"ok\"" <<<"$body"'
check "status: times to the second" '! grep -Eq "[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]" <<<"$body"'
req HEAD /api/v1/status -u "liander:$secret"
check "HEAD" '[ "$status" = 200 ]'
req GET /api/v1/openapi.json
check "openapi.json" 'grep -q "\"openapi\":\"3.0.3\"" <<<"$body"'

# The same calls through Prism, an OpenAPI validating proxy nobody here wrote (--errors: a request
# or response the document does not admit is answered with an error instead).
prism_port=""
for _ in 1 2 3; do  # a free port: Prism takes no port 0
    port=$((20000 + RANDOM % 40000))
    NODE_EXTRA_CA_CERTS="$data/tls/server.crt" "$prism" proxy "$work/openapi.json" "https://127.0.0.1:${api#*:}" \
        --errors --host 127.0.0.1 --port "$port" >"$work/prism.log" 2>&1 &
    prism_pid=$!
    for _ in $(seq 300); do
        grep -q "Prism is listening" "$work/prism.log" && { prism_port=$port; break; }
        kill -0 "$prism_pid" 2>/dev/null || break
        sleep 0.1
    done
    [ -n "$prism_port" ] && { pids+=("$prism_pid"); break; }
    kill "$prism_pid" 2>/dev/null; wait "$prism_pid" 2>/dev/null
done
check "Prism starts" '[ -n "$prism_port" ]'
[ -n "$prism_port" ] || cat "$work/prism.log" >&2
through_prism() {  # EXPECTED PATH [curl options]
    local want=$1 path=$2
    shift 2
    local got
    got=$(curl -sS -D "$work/p.headers" -o "$work/p.body" -w '%{http_code}' "$@" "http://127.0.0.1:$prism_port$path")
    if [ "$got" != "$want" ] || grep -qi "^sl-violations:" "$work/p.headers"; then
        fail "through Prism: $path: $got (expected $want): $(grep -i "^sl-violations:" "$work/p.headers") $(head -c 600 "$work/p.body")"
    else
        prism_ok=$((prism_ok + 1))
    fi
}
prism_ok=0
through_prism 200 /healthz
through_prism 200 /api/v1/openapi.json
through_prism 200 /api/v1/meters -u "liander:$secret"
through_prism 200 "/api/v1/meters?klant_ean=871685900000000011,871685900000000042" -u "liander:$secret"
through_prism 200 "/api/v1/meters?klant_ean=871685900000000011&klant_ean=871685900000000042" -u "liander:$secret"
through_prism 200 /api/v1/meters/871685900000000035 -u "liander:$secret"
through_prism 404 /api/v1/meters/871685900000000011 -u "liander:$secret"
through_prism 200 "/api/v1/metingen?$q" "${bearer[@]}"
through_prism 200 "/api/v1/metingen?$q&meting_type=actief_vermogen,spanning_L1&resolutie=60min" "${bearer[@]}"
through_prism 200 "/api/v1/metingen?$q&meting_type=actief_vermogen&meting_type=blind_vermogen" "${bearer[@]}"
through_prism 200 "/api/v1/metingen?$q&formaat=csv" "${bearer[@]}"
through_prism 200 "/api/v1/metingen?$q&max_rows=2" "${bearer[@]}"
through_prism 403 "/api/v1/metingen?klant_ean=871685900000000042&meter_ean=871685900000000035&start_tijd=$start" "${bearer[@]}"
through_prism 400 "/api/v1/metingen?$q&eind_tijd=2020-01-01T00:00:00Z" "${bearer[@]}"
through_prism 200 "/api/v1/meterstanden?$q" "${bearer[@]}"
through_prism 200 "/api/v1/meterstanden?$q&formaat=csv" "${bearer[@]}"
through_prism 200 /api/v1/status "${bearer[@]}"
through_prism 200 /api/v1/token -X POST -u "liander:$secret"
check "every call through Prism passed its validation" '[ "$prism_ok" -eq 18 ]'
echo "$validated responses checked against the OpenAPI document, $prism_ok through Prism"

"$ctl" --config "$work/gw.toml" consent revoke 871685900000000011 --by test >/dev/null
req GET "/api/v1/metingen?$q" "${bearer[@]}"
check "403 on the next request after consent is revoked" '[ "$status" = 403 ]'
"$ctl" --config "$work/gw.toml" client revoke liander >/dev/null
req GET /api/v1/status "${bearer[@]}"
check "401 for a revoked client's token" '[ "$status" = 401 ]'
check "the gateway is still running" 'kill -0 "${pids[1]}"'
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
