#!/usr/bin/env bash
# The OpenAPI document (as meter-gateway --openapi prints it, which is the served one) passes
# `redocly lint` with its recommended rules: no error and no warning.
# Usage: openapi_lint.sh METER_GATEWAY REDOCLY
set -euo pipefail
gateway=$1 redocly=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$gateway" --openapi >"$work/openapi.json"
cd "$work"  # no redocly.yaml here: the recommended rules
export REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true
rc=0
"$redocly" lint --format=stylish openapi.json >"$work/out" 2>&1 || rc=$?
cat "$work/out"
"$redocly" lint --format=json openapi.json >"$work/report.json" 2>/dev/null || true
totals=$(tr -d ' \n' <"$work/report.json" | grep -o '"totals":{[^}]*}' || echo none)
echo "redocly lint: $totals"
[ "$rc" -eq 0 ] && [ "$totals" = '"totals":{"errors":0,"warnings":0,"ignored":0}' ]
