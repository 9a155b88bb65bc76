#!/usr/bin/env bash
# The executables as an installer uses them: meter-gateway --check-config and gatewayctl.
# Usage: cli_test.sh METER_GATEWAY GATEWAYCTL DATA_DIR
set -uo pipefail
gateway=$1 ctl=$2 data=$3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
passed=0 failed=0

ok()   { passed=$((passed + 1)); }
fail() { failed=$((failed + 1)); echo "FAIL: $*" >&2; }
expect_rc() { # expected-rc description command...
    local want=$1 what=$2; shift 2
    "$@" >"$work/out" 2>"$work/err"; local rc=$?
    if [ "$rc" -eq "$want" ]; then ok; else fail "$what: exit $rc, expected $want"; cat "$work/err" >&2; fi
}
expect_in() { # file pattern description
    if grep -qE -- "$2" "$1"; then ok; else fail "$3: '$2' not in $(basename "$1")"; sed 's/^/    /' "$1" >&2; fi
}

# A valid configuration with a store in the work directory.
sed -e "s#/tmp/gw.db#$work/gw.db#" "$data/cli.toml" >"$work/gw.toml"

expect_rc 0 "--version" "$gateway" --version
expect_in "$work/out" '^meter-gateway [0-9]+\.[0-9]+\.[0-9]+$' "version line"
expect_rc 0 "--profiles" "$gateway" --profiles
for p in eastron-sdm630 janitza-umg96rm siemens-pac3200 carlo-gavazzi-em24 schneider-pm5300 abb-m4m; do
    expect_in "$work/out" "^$p" "profile $p listed"
done
expect_rc 64 "no arguments" "$gateway"
expect_rc 0 "valid config" "$gateway" --check-config "$work/gw.toml"
expect_in "$work/out" "OK \(2 meter\(s\), 1 customer\(s\)" "check-config summary"
expect_in "$work/err" "warning: .*api.tls_cert: \"/nonexistent/server.crt\" does not exist" "missing TLS file is a warning"

# Every error at once, exit non-zero.
sed -e 's/interval_s = 300/interval_s = 301/' -e 's/poll_ms = 1000/pol_ms = 1000/' "$work/gw.toml" >"$work/bad.toml"
expect_rc 1 "invalid config" "$gateway" --check-config "$work/bad.toml"
expect_in "$work/err" "bad.toml:[0-9]+:[0-9]+: gateway.interval_s: expected a whole number" "interval error"
expect_in "$work/err" "meter\[0\].pol_ms: unknown key \(did you mean \"poll_ms\"\?\)" "typo error"
expect_in "$work/err" "2 error\(s\)" "error count"
expect_rc 1 "missing config file" "$gateway" --check-config "$work/nope.toml"
expect_rc 2 "run refuses an invalid config" "$gateway" --config "$work/bad.toml"
expect_rc 2 "run refuses missing TLS files" "$gateway" --config "$work/gw.toml"
expect_in "$work/err" "api.tls_cert" "start-up names the missing file"
[ ! -e "$work/gw.db" ] && ok || fail "a refused start must not create the store"

# An RS-485 adapter that is not there is a start-up error naming the device.
cat >"$work/rtu.toml" <<CONF
[gateway]
id = "rtu-test"
[storage]
path = "$work/rtu.db"
[api]
enabled = false
[[customer]]
klant_ean = "871685900000000011"
[[link]]
id = "rs485-1"
type = "rtu"
device = "/dev/ttyUSB-not-plugged-in"
[[meter]]
meter_ean = "871685900000000028"
klant_ean = "871685900000000011"
meter_type = "bruto_productie"
link = "rs485-1"
unit_id = 1
profile = "eastron-sdm630"
CONF
expect_rc 0 "check-config warns about a missing serial device" "$gateway" --check-config "$work/rtu.toml"
expect_in "$work/err" 'warning: .*link\[0\].device: "/dev/ttyUSB-not-plugged-in" does not exist' "check-config names the device"
expect_rc 2 "start refuses a missing serial device" "$gateway" --config "$work/rtu.toml"
expect_in "$work/err" '/dev/ttyUSB-not-plugged-in' "start-up error names the device"

# The store: a text file where the database should be is refused and left as it is.
echo "not a database" >"$work/text.db"
sed -e "s#$work/gw.db#$work/text.db#" "$work/gw.toml" >"$work/text.toml"
expect_rc 3 "gatewayctl on a text file" "$ctl" --config "$work/text.toml" status
expect_in "$work/err" "is not an SQLite database" "not-a-database message"
[ "$(cat "$work/text.db")" = "not a database" ] && ok || fail "text file was modified"

# gatewayctl creates the store and manages clients.
expect_rc 0 "client add" "$ctl" --config "$work/gw.toml" client add liander --role reader
secret1=$(tail -n 1 "$work/out")
[ ${#secret1} -eq 43 ] && ok || fail "secret is alone on the last line (got '$secret1')"
[ -f "$work/gw.db" ] && ok || fail "gatewayctl creates the store"
[ "$(stat -c %a "$work/gw.db")" = 640 ] && ok || fail "the store is not readable by others (mode $(stat -c %a "$work/gw.db"))"
[ "$(stat -c %a "$work/gw-access.db")" = 640 ] && ok || fail "the access store is not readable by others"
if sqlite3 "$work/gw-access.db" "SELECT hash FROM api_secret" | grep -qF "$secret1"; then fail "secret stored in clear"; else ok; fi
expect_rc 1 "duplicate client" "$ctl" --config "$work/gw.toml" client add liander --role reader
expect_in "$work/err" "already exists" "duplicate client message"
expect_rc 64 "bad role" "$ctl" --config "$work/gw.toml" client add x --role root
expect_in "$work/err" "expected reader, installer or admin" "the bad role message names the roles"
expect_rc 0 "installer client add" "$ctl" --config "$work/gw.toml" client add fieldwork --role installer
expect_rc 64 "bad client name" "$ctl" --config "$work/gw.toml" client add 'a b' --role reader
expect_rc 0 "client rotate" "$ctl" --config "$work/gw.toml" client rotate liander --overlap 2d
secret2=$(tail -n 1 "$work/out")
[ ${#secret2} -eq 43 ] && [ "$secret1" != "$secret2" ] && ok || fail "rotate prints a new secret"
expect_rc 64 "bad overlap" "$ctl" --config "$work/gw.toml" client rotate liander --overlap soon
expect_rc 0 "client list" "$ctl" --config "$work/gw.toml" client list
expect_in "$work/out" "^liander	role=reader	.*active	valid_secrets=2 \(one expires" "list shows the overlap"
expect_in "$work/out" "^fieldwork	role=installer	.*active	valid_secrets=1" "list shows the installer"
expect_rc 0 "client revoke" "$ctl" --config "$work/gw.toml" client revoke liander
expect_rc 0 "client list after revoke" "$ctl" --config "$work/gw.toml" client list
expect_in "$work/out" "revoked=.*valid_secrets=0" "revoked client has no valid secret"
expect_rc 1 "revoke unknown" "$ctl" --config "$work/gw.toml" client revoke nobody

# Consent with history.
expect_rc 0 "consent grant" "$ctl" --config "$work/gw.toml" consent grant 871685900000000011 --by installer
expect_rc 0 "consent revoke" "$ctl" --config "$work/gw.toml" consent revoke 871685900000000011 --by liander
expect_rc 64 "consent bad EAN" "$ctl" --config "$work/gw.toml" consent grant 871685900000000012
expect_in "$work/err" "check digit is 2, expected 1" "EAN error names the digit"
expect_rc 0 "consent list" "$ctl" --config "$work/gw.toml" consent list
expect_in "$work/out" "^  871685900000000011	none" "consent is revoked now"
expect_in "$work/out" "	grant	by installer" "history keeps the grant"
expect_in "$work/out" "	revoke	by liander" "history keeps the revoke"

# Status and intervals.
sqlite3 "$work/gw.db" "INSERT INTO intervals (meter_ean, end_s, interval_s, p_w, q_var, u1_v, u2_v, u3_v, quality, samples, coverage, forward_pending, committed_at_ms) VALUES ('871685900000000028', 1795435200, 300, -1234500, 12400, 231.35, 230.9, 231.0, 'gemeten', 298, 0.99, 1, 0)"
expect_rc 0 "status" "$ctl" --config "$work/gw.toml" status
expect_in "$work/out" "intervals   1 \(oldest 2026-11-23T12:00:00Z" "status counts intervals"
expect_in "$work/out" "backlog 1" "status shows the MQTT backlog"
expect_rc 0 "intervals" "$ctl" --config "$work/gw.toml" intervals --meter 871685900000000028 --last 5
expect_in "$work/out" "^2026-11-23T12:00:00Z  -1235       12  231.4  230.9  231.0  gemeten          298    99.0%" "interval row, rounded"
expect_rc 64 "intervals bad --last" "$ctl" --config "$work/gw.toml" intervals --meter 871685900000000028 --last 0
expect_rc 64 "unknown command" "$ctl" --config "$work/gw.toml" frobnicate
expect_rc 64 "unknown option" "$ctl" --config "$work/gw.toml" status --verbose
expect_rc 2 "gatewayctl with a bad config" "$ctl" --config "$work/bad.toml" status
[ "$(sqlite3 "$work/gw.db" 'PRAGMA integrity_check')" = ok ] && ok || fail "integrity_check after the CLI tests"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
