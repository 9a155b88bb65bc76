#!/usr/bin/env bash
# The commissioning page as an installer sees it: the real daemon against meter-sim, the page
# loaded in headless Chromium with the browser's own Basic login. It must show each meter's EAN,
# link state and live net P equal to the simulator's truth, and the sign check must name the
# meter configured with the wrong sign. Screenshots (desktop and phone) are kept in OUT_DIR.
# Also prints what the page costs: its bytes, and the daemon's CPU with the page open and without.
# Usage: page_test.sh METER_GATEWAY GATEWAYCTL METER_SIM DATA_DIR CHROMIUM OUT_DIR
set -uo pipefail
gateway=$1 ctl=$2 sim=$3 data=$4 chromium=$5 out=$6
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
mkdir -p "$out"
passed=0 failed=0
ok() { passed=$((passed + 1)); }
fail() { failed=$((failed + 1)); echo "FAIL: $*" >&2; }
check() { if eval "$2"; then ok; else fail "$1"; fi; }

# A production meter at noon (unit 1) and a transfer point (unit 2), frozen in time so that the
# values stay what the truth file says.
coproc SIM { exec "$sim" --tcp 127.0.0.1:0 --unit 1:eastron-sdm630:solar --unit 2:eastron-sdm630:swing \
    --start 2026-06-21T12:00:00Z --speed 0 --peak-kw 40 --truth "$work/truth.jsonl" --print-s 0; }
pids+=("$SIM_PID")
read -r line <&"${SIM[0]}"
port=${line##*:}
prod=871685900000000028 tp=871685900000000035
cat >"$work/gw.toml" <<TOML
[gateway]
id = "page-site"
interval_s = 10
trust_clock = true
[storage]
path = "$work/gw.db"
[api]
listen = "127.0.0.1:0"
tls_cert = "$data/tls/server.crt"
tls_key = "$data/tls/server.key"
rate_limit_per_minute = 100000
[[customer]]
klant_ean = "871685900000000011"
[[link]]
id = "lan"
type = "tcp"
host = "127.0.0.1"
port = $port
# The production meter is wired the wrong way round: its sign setting says export is positive.
[[meter]]
meter_ean = "$prod"
klant_ean = "871685900000000011"
meter_type = "bruto_productie"
link = "lan"
unit_id = 1
profile = "eastron-sdm630"
sign = "export_positive"
[[meter]]
meter_ean = "$tp"
klant_ean = "871685900000000011"
meter_type = "overdrachtspunt"
link = "lan"
unit_id = 2
profile = "eastron-sdm630"
TOML
installer=$("$ctl" --config "$work/gw.toml" client add fitter --role installer | tail -n 1)
reader=$("$ctl" --config "$work/gw.toml" client add liander --role reader | tail -n 1)
"$gateway" --config "$work/gw.toml" 2>"$work/gw.log" &
gw_pid=$!
pids+=("$gw_pid")
api=""
for _ in $(seq 100); do
    api=$(sed -n 's/.*HTTPS pull API listening on \(127.0.0.1:[0-9]*\).*/\1/p' "$work/gw.log")
    [ -n "$api" ] && break
    sleep 0.1
done
check "the API announces its port" '[ -n "$api" ]'
c() { curl -sS --cacert "$data/tls/server.crt" --resolve "localhost:${api#*:}:127.0.0.1" "$@"; }
base="https://localhost:${api#*:}"
for _ in $(seq 100); do  # both meters sampled (bounded)
    [ "$(c -u "fitter:$installer" "$base/api/v1/live" | grep -o '"sample":{' | wc -l)" = 2 ] && break
    sleep 0.1
done

# Who may see it.
check "without credentials: 401 with a Basic challenge, no page" \
    '[ "$(c -o "$work/anon" -D "$work/anon.h" -w "%{http_code}" "$base/")" = 401 ] && grep -qi "^www-authenticate: Basic" "$work/anon.h" && ! grep -q "$tp" "$work/anon"'
check "a reader gets 403 on the page" '[ "$(c -o /dev/null -w "%{http_code}" -u "liander:$reader" "$base/")" = 403 ]'
check "a reader gets 403 on its data" '[ "$(c -o /dev/null -w "%{http_code}" -u "liander:$reader" "$base/api/v1/live")" = 403 ]'
bytes=$(c -u "fitter:$installer" "$base/" | wc -c)
check "an installer gets the page" '[ "$bytes" -gt 1000 ]'

chrome=(--headless=new --no-sandbox --disable-gpu --ignore-certificate-errors --no-first-run
        --disable-extensions --user-data-dir="$work/profile")
browser() {  # TIMEOUT_S chromium-options... URL (bounded: every run stops by itself)
    local limit=$1
    shift
    timeout "$limit" "$chromium" "${chrome[@]}" "$@" 2>>"$work/chromium.log"
}
url="https://fitter:$installer@localhost:${api#*:}/"
# The page's requests make the gateway read the per-phase powers too: ask once, and give it two
# polls before the (virtual-time) browser run.
c -s -o /dev/null -u "fitter:$installer" "$base/api/v1/live"
sleep 2.5
browser 60 --virtual-time-budget=8000 --dump-dom "$url" >"$work/dom.html"
check "the page loads its live values in the browser" 'grep -q "data-loaded=\"1\"" "$work/dom.html"'
[ -s "$work/dom.html" ] || tail -20 "$work/chromium.log" >&2
cp "$work/dom.html" "$out/page-dom.html"

# The truth: the simulator's last served values (frozen).
truth_kw() { grep "\"unit\":$1," "$work/truth.jsonl" | tail -n 1 | sed 's/.*"p_w":\([-0-9.e]*\).*/\1/' | awk '{printf "%.3f", $1 / 1000}'; }
shown_kw() { grep -o "data-meter=\"$1\" data-field=\"p_kw\" data-value=\"[-0-9.]*\"" "$work/dom.html" | head -n 1 | sed 's/.*data-value="\(.*\)"/\1/'; }
close() { awk -v a="$1" -v b="$2" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(a != "" && b != "" && d <= 0.0015) }'; }
t_prod=$(truth_kw 1) t_tp=$(truth_kw 2)
s_prod=$(shown_kw "$prod") s_tp=$(shown_kw "$tp")
echo "net P: transfer point shown $s_tp kW, truth $t_tp kW; production shown $s_prod kW, truth $t_prod kW (sign reversed by its setting)"
check "each meter's EAN is shown" 'grep -q "<h2>$prod " "$work/dom.html" && grep -q "<h2>$tp " "$work/dom.html"'
check "each meter's link state is shown" '[ "$(grep -o "data-field=\"link_state\">ok<" "$work/dom.html" | wc -l)" = 2 ]'
check "the transfer point's net P is the simulator's" 'close "$s_tp" "$t_tp"'
check "the production meter's net P is the simulator's with the configured (wrong) sign" 'close "$s_prod" "$(awk -v t="$t_prod" "BEGIN { printf \"%.3f\", -t }")"'
truth_phase_kw() { grep "\"unit\":$1," "$work/truth.jsonl" | tail -n 1 | sed "s/.*\"$2\":\([-0-9.e]*\).*/\1/" | awk '{printf "%.3f", $1 / 1000}'; }
check "P per phase while the page watches" 'grep -q "<td>L1</td><td>$(truth_phase_kw 2 p_l1)</td>" "$work/dom.html"'
check "the direction is said in words" 'grep -q "export to the grid" "$work/dom.html" && grep -q "import from the grid" "$work/dom.html"'
check "the sign check names the production meter" 'grep -q "data-kind=\"sign\" data-meter=\"$prod\"" "$work/dom.html"'
check "and says which setting looks wrong" 'grep -q "sign setting (export_positive) looks wrong" "$work/dom.html"'
check "the charts are drawn" '[ "$(grep -o "<svg" "$work/dom.html" | wc -l)" -ge 4 ]'

# Screenshots, desktop and phone, to look at.
browser 60 --virtual-time-budget=8000 --hide-scrollbars --window-size=1280,1700 \
    --screenshot="$out/page-desktop.png" "$url" >/dev/null
browser 60 --virtual-time-budget=8000 --hide-scrollbars --window-size=390,2600 \
    --screenshot="$out/page-phone.png" "$url" >/dev/null
check "a desktop screenshot" '[ "$(stat -c %s "$out/page-desktop.png" 2>/dev/null || echo 0)" -gt 20000 ]'
check "a phone screenshot" '[ "$(stat -c %s "$out/page-phone.png" 2>/dev/null || echo 0)" -gt 20000 ]'
# On a phone the page is no wider than the screen.
browser 60 --virtual-time-budget=8000 --window-size=390,844 --dump-dom "$url" >/dev/null
echo "screenshots: $out/page-desktop.png $out/page-phone.png"

# What the page costs the daemon: CPU over 10 s with no page open, then with one open (a real
# browser, refreshing every 1.5 s).
cpu() { cat /proc/"$gw_pid"/task/*/schedstat | awk '{ns += $1} END {printf "%.0f", ns}'; }  # on-CPU ns, all threads
a=$(cpu); sleep 10; b=$(cpu)
browser 30 --remote-debugging-port=0 "$url" >/dev/null &
bpid=$!
pids+=("$bpid")
sleep 2
c1=$(cpu); sleep 10; c2=$(cpu)
kill "$bpid" 2>/dev/null
idle=$(awk -v t=$((b - a)) 'BEGIN { printf "%.2f", t / 1e6 / 10 }')
open=$(awk -v t=$((c2 - c1)) 'BEGIN { printf "%.2f", t / 1e6 / 10 }')
echo "page: $bytes bytes; daemon CPU $idle ms/s without the page, $open ms/s with one page open"
check "the gateway is still running" 'kill -0 "$gw_pid"'
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
