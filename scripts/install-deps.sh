#!/usr/bin/env bash
# Installs what the exporter's tests and demo run against, when it is missing:
# the real containerd (with ctr), a real registry, Prometheus and Alertmanager, Chromium and
# systemd-analyze; for the tests also the pinned newer containerd and dockerd builds the lab runs
# (scripts/runtimes.sh, a cache outside the repository).
set -euo pipefail

missing=()
command -v containerd >/dev/null || missing+=(containerd)
command -v ctr >/dev/null || missing+=(containerd)
command -v docker-registry >/dev/null || missing+=(docker-registry)
command -v runc >/dev/null || missing+=(runc)
if [ "${1:-}" != "--demo" ]; then
  command -v promtool >/dev/null || missing+=(prometheus)
  command -v prometheus >/dev/null || missing+=(prometheus)
  command -v prometheus-alertmanager >/dev/null || missing+=(prometheus-alertmanager)
  command -v chromium >/dev/null || missing+=(chromium)          # the status page's browser test
  command -v systemd-analyze >/dev/null || missing+=(systemd)    # verifies deploy/systemd
fi

if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "missing ${missing[*]}: run as root, or: sudo apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
  echo "installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

for tool in containerd ctr docker-registry runc; do
  command -v "$tool" >/dev/null || { echo "still missing after install: $tool" >&2; exit 1; }
done

if [ "${1:-}" != "--demo" ]; then
  bash "$(dirname "$0")/runtimes.sh" >/dev/null
fi
