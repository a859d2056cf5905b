#!/usr/bin/env bash
# testssl.sh against axle's openssl transport: starts build/bin/axle with a
# [tls] listener on port 0 (certificates of tests/integration/tls_certs.py),
# runs testssl on it and fails on any finding of severity HIGH or CRITICAL
# (and on any "NOT ok"). A heavy check, documented in the README:
#
#   tests/tls/testssl_check.sh [--short] [BUILD_DIR]
#
# Without --short: testssl's default run with --fast (protocols, ciphers,
# server preferences and defaults, headers, every vulnerability check, client
# simulation), a few minutes. With --short (the ctest entry tls.testssl):
# protocols, server defaults and preference, Heartbleed, CCS injection,
# ticketbleed, ROBOT, renegotiation, CRIME, BREACH.
set -euo pipefail

short=0
if [[ "${1:-}" == "--short" ]]; then
  short=1
  shift
fi
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
build=$(cd "${1:-$repo/build}" && pwd)
axle="$build/bin/axle"
[[ -x "$axle" ]] || { echo "testssl_check: no $axle (build it first)" >&2; exit 1; }
testssl=$(command -v testssl || command -v testssl.sh || true)
[[ -n "$testssl" ]] || { echo "testssl_check: testssl not installed (Debian package testssl.sh; .ci/setup)" >&2; exit 1; }

work=$(mktemp -d)
axle_pid=""
cleanup() {
  if [[ -n "$axle_pid" ]] && kill -0 "$axle_pid" 2>/dev/null; then
    kill -TERM "$axle_pid"
    wait "$axle_pid" || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

if ! made=$(/usr/bin/env python3 "$repo/tests/integration/tls_certs.py" "$work/certs"); then
  echo "testssl_check: could not make the test certificates" >&2
  exit 1
fi
read -r ca crt key <<< "$made"
mkdir -p "$work/public"
echo "hello over tls" > "$work/public/index.html"
cat > "$work/axle.toml" <<EOF
[server]
listen = ["127.0.0.1:0"]
workers = 1
[modules]
tls = "openssl"
[tls]
listen = ["127.0.0.1:0"]
certificate = "$crt"
key = "$key"
[[route]]
path = "/*"
handler = "static"
root = "$work/public"
EOF

"$axle" --config "$work/axle.toml" 2> "$work/axle.log" &
axle_pid=$!
port=""
for _ in $(seq 300); do  # 30 s at most (a loaded CI machine)
  port=$(sed -n 's/.*listening on https:\/\/127\.0\.0\.1:\([0-9]*\) .*/\1/p' "$work/axle.log")
  [[ -n "$port" ]] && break
  kill -0 "$axle_pid" 2>/dev/null || break
  sleep 0.1
done
if [[ -z "$port" ]]; then
  echo "testssl_check: axle did not start:" >&2
  cat "$work/axle.log" >&2
  exit 1
fi
grep "listening on https" "$work/axle.log"

if ((short)); then
  checks=(--protocols --server-defaults --server-preference --heartbleed --ccs-injection --ticketbleed
          --robot --renegotiation --crime --breach)
else
  checks=(--fast)
fi
# --add-ca: the test CA is trusted, so the chain of trust is judged like a real one's.
status=0
timeout 900 "$testssl" --quiet --color 0 --warnings off --nodns min --add-ca "$ca" \
  --connect-timeout 10 --openssl-timeout 10 --jsonfile "$work/testssl.json" "${checks[@]}" \
  "127.0.0.1:$port" > "$work/testssl.txt" 2>&1 || status=$?
cat "$work/testssl.txt"

kill -0 "$axle_pid" 2>/dev/null || { echo "testssl_check: axle died during the scan" >&2; cat "$work/axle.log" >&2; exit 1; }
# testssl's exit status counts failed checks/warnings; the verdict is the findings' severity.
if [[ ! -s "$work/testssl.json" ]]; then
  echo "testssl_check: testssl wrote no findings (exit $status)" >&2
  exit 1
fi
bad=$(python3 - "$work/testssl.json" <<'EOF'
import json, sys
findings = json.load(open(sys.argv[1]))
for f in findings:
    if f.get("severity") in ("HIGH", "CRITICAL"):
        print(f"{f['severity']}: {f['id']}: {f['finding']}")
EOF
)
notok=$(grep -F "NOT ok" "$work/testssl.txt" || true)
echo "testssl_check: $(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))))' "$work/testssl.json") findings"
if [[ -n "$bad" || -n "$notok" ]]; then
  echo "testssl_check: FAILED" >&2
  [[ -n "$bad" ]] && echo "$bad" >&2
  [[ -n "$notok" ]] && echo "$notok" >&2
  exit 1
fi
echo "testssl_check: no HIGH or CRITICAL finding, no \"NOT ok\""
