#!/usr/bin/env bash
# A self-contained demo: a throwaway containerd and registry with a cancelled
# download and a cancelled unpack already in them, and the exporter reading it
# on http://127.0.0.1:9977. Ctrl-C stops everything.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh --demo
npm ci --no-audit --no-fund
npm run build

port=9977
# The lab's output and the exporter's log, kept only while the demo runs.
log=$(mktemp -t demo-lab.XXXXXX)
exporter_log=$(mktemp -t demo-exporter.XXXXXX)
node --import tsx scripts/lab.ts --scenario demo --namespace demo >"$log" 2>&1 &
lab_pid=$!
exporter_pid=""
cleanup() {
  [ -n "$exporter_pid" ] && kill "$exporter_pid" 2>/dev/null && wait "$exporter_pid" 2>/dev/null
  kill "$lab_pid" 2>/dev/null && wait "$lab_pid" 2>/dev/null
  rm -f "$log" "$exporter_log"
  true
}
trap cleanup EXIT INT TERM

echo "starting a throwaway containerd and registry, and cutting two pulls short (about a minute)..."
for _ in $(seq 1 180); do
  grep -q '^LAB_INFO ' "$log" && break
  kill -0 "$lab_pid" 2>/dev/null || { cat "$log" >&2; echo "the demo lab failed to start" >&2; exit 1; }
  sleep 1
done
socket=$(sed -n 's/^LAB_INFO //p' "$log" | node -e 'process.stdin.on("data", d => console.log(JSON.parse(d).socket))')
[ -n "$socket" ] || { cat "$log" >&2; echo "the demo lab never became ready" >&2; exit 1; }
grep -E '^(cancelled|complete)' "$log" || true

# Leases count as stale at once here, so the demo shows orphaned bytes right away;
# the defaults (1h / 10m) are what a real host wants. The exporter's log goes to this
# terminal (its start-up line, then prune audit lines) and to a file the demo watches.
export ADMIN_TOKEN=demo-admin-token-0001
node dist/src/cli/main.js serve \
  --containerd.address="$socket" \
  --web.listen-address=127.0.0.1:$port \
  --lease.stale-after=0s --ingest.idle-after=0s 2> >(tee "$exporter_log" >&2) &
exporter_pid=$!
# Up only once it says so: with the port taken it exits with the reason, and so does the demo.
for _ in $(seq 1 100); do
  grep -q 'msg="containerd-orphan-exporter started"' "$exporter_log" && break
  if ! kill -0 "$exporter_pid" 2>/dev/null; then
    wait "$exporter_pid" || true
    echo "the exporter did not start (see its message above); is port $port taken?" >&2
    exit 1
  fi
  sleep 0.2
done
grep -q 'msg="containerd-orphan-exporter started"' "$exporter_log" || { echo "the exporter did not start within 20s" >&2; exit 1; }

cat <<TXT

The exporter is up on http://127.0.0.1:$port (Ctrl-C stops the demo). Open that address in a
browser for the status page, or try:

  curl -s http://127.0.0.1:$port/metrics | grep -E '^containerd_(reclaimable|leases|ingest_bytes|snapshot_bytes)'
  curl -s http://127.0.0.1:$port/api/v1/inventory
  node dist/src/cli/main.js df --containerd.address=$socket --lease.stale-after=0s --ingest.idle-after=0s
  curl -s -X POST -H 'Authorization: Bearer demo-admin-token-0001' 'http://127.0.0.1:$port/admin/prune?dryRun=true'
  curl -s -X POST -H 'Authorization: Bearer demo-admin-token-0001' -H 'Content-Type: application/json' -d '{}' http://127.0.0.1:$port/admin/prune
  ctr --address $socket -n demo leases ls

TXT
wait "$exporter_pid"
