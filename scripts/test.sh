#!/usr/bin/env bash
# The whole test suite, from a fresh clone: Debian packages and the pinned runtime builds, npm ci,
# type and proto checks, build, then the runtime matrix, each run against real daemons started
# (and stopped) by the tests:
#   containerd 1.6.20 (Debian 12)           every suite
#   containerd 1.7.24 + docker 26.1.5       the suites that drive containerd, and the Docker ones
#   containerd 2.1.9  + docker 28.5.2       the same
# One line per runtime, then one overall "N passed, N failed, N skipped" line; non-zero on any
# failure. For a developer: `--only 2.1.9` runs one row (1.6.20, 1.7.24 or 2.1.9), and
# `--no-install` skips the install, npm ci, lint and build steps (an installed checkout).
set -euo pipefail
cd "$(dirname "$0")/.."

only="" install=1
while [ "$#" -gt 0 ]; do
  case "$1" in
    --only) only=${2:?"--only needs 1.6.20, 1.7.24 or 2.1.9"}; shift 2 ;;
    --no-install) install=0; shift ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done

if [ "$install" -eq 1 ]; then
  bash scripts/install-deps.sh # fails when a runtime download fails: never a silently skipped row
  npm ci --no-audit --no-fund
  npm run lint
  npm run build
fi

# What the containerd rows beyond 1.6.20 run: everything that starts a lab (the Docker suites,
# *.docker.test.ts, join in because LAB_DOCKER is set; see vitest.config.ts).
CONTAINERD_SUITES=(
  test/integration
  test/lab
  test/faults/containerd-killed.test.ts
  test/faults/sigterm-prune.test.ts
)

reports=$(mktemp -d)
trap 'rm -rf "$reports"' EXIT
status=0
summaries=()

# run_row NAME LABEL ENV... -- FILES...
run_row() {
  local name=$1 label=$2
  shift 2
  local env=()
  while [ "$1" != "--" ]; do
    env+=("$1")
    shift
  done
  shift
  if [ -n "$only" ] && [ "$only" != "$name" ]; then return 0; fi
  echo "=== $label" >&2
  local started=$SECONDS code=0
  env -u LAB_CONTAINERD -u LAB_DOCKER "${env[@]}" npx vitest run --reporter=default --reporter=json --outputFile="$reports/$name.json" "$@" || code=$?
  local line
  if ! line=$(node -e '
    const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    if (r.numTotalTests === 0) { console.error(`${process.argv[2]}: no test ran`); process.exit(1); }
    console.log(`${r.numPassedTests} ${r.numFailedTests} ${r.numPendingTests + r.numTodoTests}`);
  ' "$reports/$name.json" "$label"); then
    line="0 1 0" # no report, or nothing ran: a failed row
    code=1
  fi
  [ "$code" -eq 0 ] || status=1
  read -r passed failed skipped <<<"$line"
  summaries+=("$label: $passed passed, $failed failed, $skipped skipped ($((SECONDS - started)) s)|$passed|$failed|$skipped")
}

run_row 1.6.20 "containerd 1.6.20" LAB_CONTAINERD=1.6.20 --
run_row 1.7.24 "containerd 1.7.24 + docker 26.1.5" LAB_CONTAINERD=1.7.24 LAB_DOCKER=26.1.5 -- "${CONTAINERD_SUITES[@]}"
run_row 2.1.9 "containerd 2.1.9 + docker 28.5.2" LAB_CONTAINERD=2.1.9 LAB_DOCKER=28.5.2 -- "${CONTAINERD_SUITES[@]}"

# Nothing a test started may outlive the run: every lab lives below .lab/ (or the lab's
# fallback directory where .lab cannot mount overlays).
leftovers=()
for cmdline in /proc/[0-9]*/cmdline; do
  args=$(tr '\0' ' ' <"$cmdline" 2>/dev/null) || continue
  if [[ "$args" == *"$PWD/.lab/"* || "$args" == *"/var/tmp/containerd-lab/"* ]]; then leftovers+=("${cmdline//[^0-9]/} $args"); fi
done
if [ "${#leftovers[@]}" -gt 0 ]; then
  echo "processes left running by the tests:" >&2
  printf '  %s\n' "${leftovers[@]}" >&2
  status=1
fi
if grep -qE " ($PWD/\.lab|/var/tmp/containerd-lab)/" /proc/self/mounts; then
  echo "mounts left by the tests:" >&2
  grep -E " ($PWD/\.lab|/var/tmp/containerd-lab)/" /proc/self/mounts >&2
  status=1
fi

total_passed=0 total_failed=0 total_skipped=0
for summary in "${summaries[@]}"; do
  IFS='|' read -r text passed failed skipped <<<"$summary"
  echo "$text"
  total_passed=$((total_passed + passed))
  total_failed=$((total_failed + failed))
  total_skipped=$((total_skipped + skipped))
done
# A plain summary line that any CI can read.
echo "$total_passed passed, $total_failed failed, $total_skipped skipped"
exit "$status"
