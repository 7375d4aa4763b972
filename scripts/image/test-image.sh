#!/usr/bin/env bash
# End-to-end test of the container image, offline from any image registry.
#
#   1. base    assemble a Debian bookworm base image with this machine's Node 20 (debootstrap
#              --variant=minbase, then `podman import`); cached: skipped when the tag exists
#   2. build   podman build of ./Dockerfile with --build-arg NODE_IMAGE=<that base> --pull=never
#   3. run     run the image against a containerd socket: `podman healthcheck run` must pass and
#              /metrics must say `containerd_up 1` (and, with the lab, show the cancelled pull's lease)
#
# Needs root, debootstrap, podman (Debian's podman 4.3 / buildah 1.28 work), curl, containerd+ctr
# (only when it starts its own containerd), and the npm registry for `npm ci` inside the build.
#
# Environment:
#   CONTAINERD_SOCKET   test against this containerd socket instead of starting one
#   COE_LAB=auto|1|0    auto (default): use the lab (`node --import tsx scripts/lab.ts`: containerd,
#                       a registry and cancelled pulls) when it exists, falling back to a throwaway
#                       containerd; 1: the lab is required; 0: always the throwaway containerd
#   COE_LAB_SCRIPT      the lab's entry point (default scripts/lab.ts)
#   COE_LAB_NAMESPACE   namespace the lab fills (default demo)
#   COE_LAB_TIMEOUT     seconds to wait for the lab to come up (default 180)
#   COE_CONTEXT         build context (default: the repository root)
#   COE_BASE_IMAGE      base image tag (default localhost/coe-base:bookworm)
#   COE_REBUILD_BASE=1  rebuild the base image even if the tag exists
#   COE_IMAGE           tag of the image under test (default localhost/containerd-orphan-exporter:test)
#   DEBIAN_MIRROR       debootstrap mirror (default: the bookworm mirror of apt's sources)
#   COE_KEEP=1          keep the container running and the temp dirs (prints how to clean up)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
context=${COE_CONTEXT:-$repo}
base_image=${COE_BASE_IMAGE:-localhost/coe-base:bookworm}
image=${COE_IMAGE:-localhost/containerd-orphan-exporter:test}
lab_mode=${COE_LAB:-auto}
lab_namespace=${COE_LAB_NAMESPACE:-demo}
lab_timeout=${COE_LAB_TIMEOUT:-180}
keep=${COE_KEEP:-0}

log() { printf '[test-image] %s\n' "$*" >&2; }
die() { log "FAIL: $*"; exit 1; }

# ---------------------------------------------------------------- timing ---
declare -a phase_names=() phase_secs=() phase_notes=()
phase_t0=""
phase_current=""
phase_begin() { phase_t0=$EPOCHREALTIME; phase_current=$1; log "== $1"; }
phase_end() { # name note
  local secs
  phase_current=""
  secs=$(awk -v a="$phase_t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')
  phase_names+=("$1"); phase_secs+=("$secs"); phase_notes+=("${2:-}")
  log "   $1 took ${secs}s${2:+ ($2)}"
}
print_timings() {
  local i total=0
  ((${#phase_names[@]})) || return 0
  printf '\n%-12s %9s  %s\n' phase seconds note >&2
  for i in "${!phase_names[@]}"; do
    printf '%-12s %9s  %s\n' "${phase_names[$i]}" "${phase_secs[$i]}" "${phase_notes[$i]}" >&2
    total=$(awk -v a="$total" -v b="${phase_secs[$i]}" 'BEGIN { printf "%.1f", a + b }')
  done
  printf '%-12s %9s\n' total "$total" >&2
}

# --------------------------------------------------------------- cleanup ---
tmp=""
container=""
ctd_pid=""
lab_pid=""
result="FAILED"

# Unmount anything left mounted under a directory (debootstrap mounts /proc and /sys in the
# target; an interrupted containerd can leave snapshot mounts), deepest first.
unmount_under() {
  local dir=$1 m
  [[ -n $dir && -d $dir ]] || return 0
  while read -r m; do
    umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || log "could not unmount $m"
  done < <(awk -v d="$dir/" 'index($2, d) == 1 { print $2 }' /proc/self/mounts | sort -r)
}

stop_pid() { # pid [name]: TERM, wait up to 10 s, then KILL
  local pid=$1 i
  kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for i in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$pid" 2>/dev/null; then
    log "${2:-$pid} did not stop on SIGTERM, killing it"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || true
}

cleanup() {
  local rc=$?
  set +e
  if [[ $keep == 1 && $rc == 0 ]]; then
    log "COE_KEEP=1: left container ${container:-none}, containerd pid ${ctd_pid:-none}, lab pid ${lab_pid:-none}, dir ${tmp:-none}"
  else
    if [[ -n $container ]]; then
      if ((rc != 0)); then log "container logs:"; podman logs --tail 50 "$container" >&2 2>&1; fi
      podman rm -f -t 5 "$container" >/dev/null 2>&1
    fi
    [[ -n $lab_pid ]] && stop_pid "$lab_pid" lab
    if [[ -n $ctd_pid ]]; then
      if ((rc != 0)) && [[ -f $tmp/containerd/log ]]; then log "containerd log:"; tail -20 "$tmp/containerd/log" >&2; fi
      stop_pid "$ctd_pid" containerd
    fi
    if [[ -n $tmp ]]; then
      unmount_under "$tmp"
      rm -rf "$tmp"
    fi
  fi
  [[ -n $phase_current ]] && phase_end "$phase_current" "FAILED"
  print_timings
  log "result: $result"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---------------------------------------------------------------- checks ---
((EUID == 0)) || die "run as root (debootstrap, podman's rootful storage and the containerd socket)"
for cmd in podman curl node; do command -v "$cmd" >/dev/null || die "$cmd not found (apt-get install podman curl)"; done
tmp=$(mktemp -d "${TMPDIR:-/tmp}/coe-image.XXXXXX")
chmod 0755 "$tmp"

# Containers inherit podman's default rlimits (nofile 1048576), which fail where the hard limit
# is lower; use this machine's hard limits instead.
hard_nofile=$(ulimit -Hn); [[ $hard_nofile == unlimited ]] && hard_nofile=1048576
hard_nproc=$(ulimit -Hu); [[ $hard_nproc == unlimited ]] && hard_nproc=32768
((hard_nproc > 32768)) && hard_nproc=32768
ulimits=(--ulimit "nofile=$hard_nofile:$hard_nofile" --ulimit "nproc=$hard_nproc:$hard_nproc")

# podman 4.3 without systemd logs harmless errors about healthcheck timers; hide those lines.
podman_quiet() { "$@" 2> >(grep -v 'systemd connection' >&2); }

# ----------------------------------------------------------- 1. base image ---
# The host's Node: the same major as the Dockerfile's default base (node:20-bookworm-slim).
node_bin=$(readlink -f "$(command -v node)")
node_version=$("$node_bin" --version)
[[ $node_version == v20.* ]] || die "the host's node is $node_version, need v20.x"
npm_dir=""
if command -v npm >/dev/null; then npm_dir=$(cd "$(dirname "$(readlink -f "$(command -v npm)")")/.." && pwd); fi
[[ -n $npm_dir && -f $npm_dir/package.json ]] || npm_dir="$(dirname "$(dirname "$node_bin")")/lib/node_modules/npm"
[[ -f $npm_dir/bin/npm-cli.js ]] || die "cannot find npm next to $node_bin"

# npm inside the build must reach the registry the way the host does: same CA bundle (a TLS
# proxy's CA may be in it) and the same registry.
npm_cafile=$(npm config get cafile 2>/dev/null || true)
[[ $npm_cafile == null || $npm_cafile == undefined ]] && npm_cafile=""
npm_registry=$(npm config get registry 2>/dev/null || echo https://registry.npmjs.org/)
ca_bundle=${npm_cafile:-/etc/ssl/certs/ca-certificates.crt}

debian_mirror() {
  local m
  # shellcheck disable=SC2016 # $(...) are apt's format fields, not shell
  m=$(apt-get indextargets --format '$(REPO_URI) $(RELEASE)' 2>/dev/null |
      awk '$2 == "bookworm" && $1 ~ /\/debian\/?$/ { print $1; exit }')
  echo "${m:-http://deb.debian.org/debian}"
}

base_node=""
if podman image exists "$base_image"; then
  base_node=$(podman image inspect "$base_image" --format '{{range .Config.Env}}{{println .}}{{end}}' | sed -n 's/^NODE_VERSION=//p')
  [[ $base_node == "${node_version#v}" ]] || log "base image $base_image has node ${base_node:-?}, the host ${node_version}: rebuilding it"
fi
if [[ ${COE_REBUILD_BASE:-0} != 1 && $base_node == "${node_version#v}" ]]; then
  log "base image $base_image exists (COE_REBUILD_BASE=1 rebuilds it)"
  phase_names+=(debootstrap import); phase_secs+=(0 0); phase_notes+=("cached $base_image" "cached")
else
  command -v debootstrap >/dev/null || die "debootstrap not found (apt-get install debootstrap)"
  rootfs=$tmp/rootfs
  mirror=${DEBIAN_MIRROR:-$(debian_mirror)}

  phase_begin debootstrap
  debootstrap --variant=minbase bookworm "$rootfs" "$mirror" >"$tmp/debootstrap.log" 2>&1 ||
    { tail -20 "$tmp/debootstrap.log" >&2; die "debootstrap from $mirror failed"; }
  unmount_under "$rootfs"
  phase_end debootstrap "minbase bookworm from $mirror"

  phase_begin import
  # Lay Node out as the official node images do: /usr/local/bin/node, npm under
  # /usr/local/lib/node_modules, a `node` user with uid/gid 1000.
  install -m 0755 "$node_bin" "$rootfs/usr/local/bin/node"
  mkdir -p "$rootfs/usr/local/lib/node_modules" "$rootfs/usr/local/etc" "$rootfs/etc/ssl/certs"
  cp -a "$npm_dir" "$rootfs/usr/local/lib/node_modules/npm"
  ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$rootfs/usr/local/bin/npm"
  ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$rootfs/usr/local/bin/npx"
  chroot "$rootfs" /usr/local/bin/node --version >/dev/null 2>&1 || die "node does not run inside the base rootfs"
  chroot "$rootfs" groupadd --gid 1000 node
  chroot "$rootfs" useradd --uid 1000 --gid node --shell /bin/bash --create-home node
  [[ -f $ca_bundle ]] || die "CA bundle $ca_bundle not found"
  cp "$ca_bundle" "$rootfs/etc/ssl/certs/ca-certificates.crt"
  {
    [[ -n $npm_cafile ]] && echo "cafile=/etc/ssl/certs/ca-certificates.crt"
    [[ $npm_registry != https://registry.npmjs.org/ ]] && echo "registry=$npm_registry"
    echo "update-notifier=false"
  } >"$rootfs/usr/local/etc/npmrc"
  rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/* "$rootfs"/tmp/* "$rootfs"/var/log/*.log
  tar -C "$rootfs" --numeric-owner -cf - . |
    podman import --quiet \
      --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
      --change "ENV NODE_VERSION=${node_version#v}" \
      --change 'ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt' \
      --change 'CMD ["node"]' \
      --message "debootstrap minbase bookworm + host node $node_version (scripts/image/test-image.sh)" \
      - "$base_image" >/dev/null
  rm -rf "$rootfs"
  phase_end import "node $node_version, $(podman image inspect "$base_image" --format '{{.Size}}' | awk '{ printf "%d MB", $1 / 1e6 }')"
fi

# ------------------------------------------------------------- 2. build ---
[[ -f $context/Dockerfile ]] || die "no Dockerfile in $context"
[[ -f $context/src/cli/main.ts ]] ||
  log "warning: $context/src/cli/main.ts does not exist yet: the build will fail at 'npm run build' (point COE_CONTEXT at a copy with a stand-in)"
old_id=$(podman image inspect "$image" --format '{{.Id}}' 2>/dev/null || true)
revision=$(git -C "$context" rev-parse HEAD 2>/dev/null || echo unknown)
phase_begin build
podman build --pull=never --format docker "${ulimits[@]}" \
  --build-arg "NODE_IMAGE=$base_image" \
  --build-arg "REVISION=$revision" \
  --build-arg "CREATED=$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
  --build-arg "VERSION=$(node -p "require('$context/package.json').version")" \
  -f "$context/Dockerfile" -t "$image" "$context" >"$tmp/build.log" 2>&1 ||
  { tail -40 "$tmp/build.log" >&2; die "podman build failed (full log above; exit status of the failing step is in it)"; }
new_id=$(podman image inspect "$image" --format '{{.Id}}')
# Drop the image this build replaced, so repeated runs do not pile up dangling images.
if [[ -n $old_id && $old_id != "$new_id" ]]; then podman rmi "$old_id" >/dev/null 2>&1 || true; fi
phase_end build "$(podman image inspect "$image" --format '{{.Size}}' | awk '{ printf "%d MB", $1 / 1e6 }')"

# The image's metadata must survive the build (OCI format would have dropped HEALTHCHECK).
[[ $(podman image inspect "$image" --format '{{if .Config.Healthcheck}}yes{{end}}') == yes ]] || die "image has no HEALTHCHECK"
[[ $(podman image inspect "$image" --format '{{index .Config.Labels "org.opencontainers.image.title"}}') == containerd-orphan-exporter ]] ||
  die "image lacks its OCI labels"
[[ $(podman image inspect "$image" --format '{{json .Config.Entrypoint}}') == '["node","/app/dist/src/cli/main.js"]' ]] || die "unexpected ENTRYPOINT"

# --------------------------------------------------------- 3. containerd ---
socket=""
lab_script=""
if [[ -n ${CONTAINERD_SOCKET:-} ]]; then
  socket=$CONTAINERD_SOCKET
  [[ -S $socket ]] || die "CONTAINERD_SOCKET=$socket is not a socket"
  socket_note="given socket $socket"
else
  if [[ $lab_mode != 0 ]]; then
    lab_script=${COE_LAB_SCRIPT:-$repo/scripts/lab.ts}
    if [[ ! -f $lab_script ]]; then
      [[ $lab_mode == 1 ]] && die "COE_LAB=1 but $lab_script does not exist"
      lab_script=""
    elif [[ ! -d $repo/node_modules/tsx ]]; then
      [[ $lab_mode == 1 ]] && die "COE_LAB=1 but tsx is not installed (npm ci)"
      log "tsx is not installed (npm ci): not using the lab"
      lab_script=""
    fi
  fi

  phase_begin containerd
  if [[ -n $lab_script ]]; then
    # Once containerd, the registry and the cancelled pulls are in place, the lab prints a
    # `LAB_INFO {...}` line (JSON with `socket`); it tears everything down on SIGTERM.
    log "starting the lab: node --import tsx $lab_script --scenario demo --namespace $lab_namespace"
    (cd "$repo" && exec node --import tsx "$lab_script" --scenario demo --namespace "$lab_namespace") \
      >"$tmp/lab.out" 2>"$tmp/lab.err" &
    lab_pid=$!
    for _ in $(seq 1 $((lab_timeout * 10))); do
      grep -q '"socket"' "$tmp/lab.out" 2>/dev/null && break
      kill -0 "$lab_pid" 2>/dev/null || break
      sleep 0.1
    done
    lab_json=$(grep -m1 '"socket"' "$tmp/lab.out" | sed 's/^[^{]*//' || true)
    if [[ -n $lab_json ]]; then
      socket=$(node -e 'process.stdout.write(JSON.parse(process.argv[1]).socket.replace(/^unix:\/\//, ""))' "$lab_json")
      socket_note="lab $(basename "$lab_script"), namespace $lab_namespace"
    else
      log "the lab gave no socket within ${lab_timeout}s:"; tail -20 "$tmp/lab.out" "$tmp/lab.err" >&2
      [[ $lab_mode == 1 ]] && die "lab failed"
      stop_pid "$lab_pid" lab; lab_pid=""
      log "falling back to a throwaway containerd"
    fi
  fi
  if [[ -z $socket ]]; then
    { command -v containerd && command -v ctr; } >/dev/null || die "containerd/ctr not found (apt-get install containerd) and no CONTAINERD_SOCKET given"
    d=$tmp/containerd
    mkdir -p "$d/root" "$d/state" "$d/opt"
    cat >"$d/config.toml" <<EOF
version = 2
root = "$d/root"
state = "$d/state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "$d/containerd.sock"
[ttrpc]
  address = "$d/containerd.sock.ttrpc"
[debug]
  address = ""
[metrics]
  address = ""
[plugins."io.containerd.internal.v1.opt"]
  path = "$d/opt"
EOF
    containerd --config "$d/config.toml" >"$d/log" 2>&1 &
    ctd_pid=$!
    for _ in $(seq 1 100); do
      ctr --address "$d/containerd.sock" version >/dev/null 2>&1 && break
      kill -0 "$ctd_pid" 2>/dev/null || die "containerd exited"
      sleep 0.1
    done
    ctr --address "$d/containerd.sock" version >/dev/null || die "containerd did not come up"
    socket=$d/containerd.sock
    # Something for the exporter to see: a lease such as an interrupted pull leaves behind.
    ctr --address "$socket" -n demo leases create >/dev/null
    socket_note="throwaway containerd $(ctr --address "$socket" version 2>/dev/null | awk '/Server:/ { s = 1 } s && /Version:/ { print $2; exit }')"
  fi
  phase_end containerd "$socket_note"
fi

# -------------------------------------------------------------- 4. run ---
port=$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
admin_port=$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
base_url=http://127.0.0.1:$port
head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$tmp/admin-token"
chmod 0400 "$tmp/admin-token"

phase_begin run
container=coe-image-test-$$
# As deployed: uid 0 without any capability, read-only root filesystem, no privilege escalation,
# socket mounted read-only (connect() on a socket ignores the mount's ro flag), token as a file.
# The listen address is given as a flag, so the HEALTHCHECK must find it in PID 1's cmdline.
podman_quiet podman run -d --name "$container" "${ulimits[@]}" --network host \
  --cap-drop ALL --read-only --security-opt no-new-privileges \
  -v "$socket:/run/containerd/containerd.sock:ro" \
  -v "$tmp/admin-token:/run/secrets/admin-token:ro" \
  "$image" serve \
  "--web.listen-address=127.0.0.1:$port" \
  --admin.token-file=/run/secrets/admin-token \
  "--admin.listen-address=127.0.0.1:$admin_port" \
  --log.level=debug >/dev/null

healthy=""
for _ in $(seq 1 60); do
  [[ $(podman inspect "$container" --format '{{.State.Running}}') == true ]] || die "the container exited"
  if podman_quiet podman healthcheck run "$container" >/dev/null 2>&1; then healthy=yes; break; fi
  sleep 0.5
done
[[ -n $healthy ]] || die "podman healthcheck run never passed"
ready_secs=$(awk -v a="$phase_t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')
log "   healthy after ${ready_secs}s ($(podman inspect "$container" --format '{{.State.Health.Status}}'))"

[[ $(curl -fsS "$base_url/healthz") == ok* ]] || die "/healthz did not answer ok"
landing=$(curl -fsS "$base_url/") || die "GET / failed"
grep -qi "href=[\"']\?/metrics" <<<"$landing" || log "warning: the landing page does not link /metrics"
curl -fsS "$base_url/metrics" >"$tmp/metrics.txt" || die "GET /metrics failed"
grep -Eq '^containerd_up(\{[^}]*\})? 1(\.0)?$' "$tmp/metrics.txt" ||
  { grep -E '^containerd_up' "$tmp/metrics.txt" >&2 || true; die "/metrics has no 'containerd_up 1'"; }
log "   containerd_up 1"

# Leases: with the lab, the cancelled pull's lease must be counted (any state) in its namespace.
lease_sum() { # namespace-regex -> sum of containerd_leases samples in it
  awk -v ns="$1" '/^containerd_leases\{/ && match($0, /namespace="[^"]*"/) {
      n = substr($0, RSTART + 11, RLENGTH - 12); if (n ~ ("^(" ns ")$")) s += $NF }
    END { print s + 0 }' "$tmp/metrics.txt"
}
if [[ -n $lab_pid ]]; then
  leases=$(lease_sum "$lab_namespace")
  awk -v n="$leases" 'BEGIN { exit !(n >= 1) }' ||
    { grep -E '^containerd_leases\{' "$tmp/metrics.txt" >&2 || true; die "no containerd_leases sample >= 1 in namespace $lab_namespace"; }
  log "   containerd_leases in namespace $lab_namespace (all states): $leases"
  grep -E "^containerd_leases\\{.*namespace=\"$lab_namespace\"" "$tmp/metrics.txt" | sed 's/^/     /' >&2 || true
elif [[ -n $ctd_pid ]]; then
  leases=$(lease_sum demo)
  if awk -v n="$leases" 'BEGIN { exit !(n >= 1) }'; then log "   containerd_leases{namespace=\"demo\"}: $leases"
  else log "   note: the demo lease is not in containerd_leases (the exporter may not count empty leases)"; fi
fi

# The admin API must refuse requests without the token (on its own loopback listener).
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST "http://127.0.0.1:$admin_port/admin/prune" || true)
[[ $code == 000 ]] && code=$(curl -s -o /dev/null -w '%{http_code}' -X POST "$base_url/admin/prune" || true)
[[ $code == 401 || $code == 403 ]] || die "POST /admin/prune without a token answered $code, want 401"
log "   unauthenticated POST /admin/prune -> $code"

# SIGTERM must stop it promptly (node as PID 1 only does so if it handles the signal itself).
stop_t0=$EPOCHREALTIME
podman_quiet podman stop -t 10 "$container" >/dev/null
stop_secs=$(awk -v a="$stop_t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')
exit_code=$(podman inspect "$container" --format '{{.State.ExitCode}}')
log "   podman stop took ${stop_secs}s, exit code $exit_code"
awk -v s="$stop_secs" 'BEGIN { exit !(s < 9) }' || log "warning: the exporter ignored SIGTERM (killed after the 10 s grace period)"
phase_end run "healthy after ${ready_secs}s, stop ${stop_secs}s (exit $exit_code); $(wc -l <"$tmp/metrics.txt") metric lines"

result="OK: $image built from $base_image and served containerd_up 1 against ${socket_note:-$socket}"
