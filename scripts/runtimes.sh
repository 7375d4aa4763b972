#!/usr/bin/env bash
# Fetches the container runtimes the test lab runs besides Debian 12's own containerd: the
# pinned Debian 13 (trixie) and unstable (sid) packages, downloaded with `apt-get download`
# through a private sources list, lists and cache (the system's apt state is never touched)
# and unpacked with `dpkg -x` into a cache outside the repository. Nothing is installed.
#
#   bash scripts/runtimes.sh          # fetch what is missing, print the cache directory
#
# Layout of $RUNTIMES_CACHE (default /var/cache/containerd-orphan-exporter/runtimes):
#   containerd-1.7.24/usr/bin/{containerd,ctr,containerd-shim-runc-v2}
#   containerd-2.1.9/usr/bin/...
#   docker-26.1.5/usr/sbin/dockerd    docker-28.5.2/usr/sbin/dockerd
#   docker-cli/usr/bin/docker         busybox/usr/bin/busybox
#   docker-buildx/usr/libexec/docker/cli-plugins/docker-buildx   (the CLI's `docker build`)
# Each directory holds a VERSION file with the exact Debian version it was unpacked from; a
# directory whose VERSION matches the pin is reused, so a second run downloads nothing.
# Any failed download or unpack exits non-zero: a runtime the lab cannot get is a failed CI.
set -euo pipefail

CACHE=${RUNTIMES_CACHE:-/var/cache/containerd-orphan-exporter/runtimes}

# name | Debian package | exact version | suite | a file the unpacked tree must contain
PINS=(
  "containerd-1.7.24|containerd|1.7.24~ds1-6+deb13u1|trixie|usr/bin/containerd"
  "containerd-2.1.9|containerd|2.1.9+ds1-5|sid|usr/bin/containerd"
  "docker-26.1.5|docker.io|26.1.5+dfsg1-9+deb13u1+b1|trixie|usr/sbin/dockerd"
  "docker-28.5.2|docker.io|28.5.2+dfsg4-5|sid|usr/sbin/dockerd"
  "docker-cli|docker-cli|28.5.2+dfsg4-5|sid|usr/bin/docker"
  "docker-buildx|docker-buildx|0.29.1+ds1-4|sid|usr/libexec/docker/cli-plugins/docker-buildx"
  "busybox|busybox-static|1:1.37.0-6+b9|trixie|usr/bin/busybox"
)

die() {
  echo "runtimes: $*" >&2
  exit 1
}

# The archive address apt already uses (deb822 or one-line format); read at run time so the
# repository names no mirror.
archive_uri() {
  local uri=""
  if [ -r /etc/apt/sources.list.d/debian.sources ]; then
    uri=$(awk '/^URIs:/ && $2 !~ /security/ { print $2; exit }' /etc/apt/sources.list.d/debian.sources)
  fi
  if [ -z "$uri" ] && [ -r /etc/apt/sources.list ]; then
    uri=$(awk '$1 == "deb" && $0 !~ /security/ { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) { print $i; exit } }' /etc/apt/sources.list)
  fi
  [ -n "$uri" ] || die "no Debian archive found in /etc/apt/sources.list.d/debian.sources or /etc/apt/sources.list"
  echo "$uri"
}

is_current() { # dir version file
  [ -f "$1/VERSION" ] && [ "$(cat "$1/VERSION")" = "$2" ] && [ -e "$1/$3" ]
}

# One fetch at a time per cache (two CI runs on one machine share it).
mkdir -p "$CACHE"
exec 9>"$CACHE/.lock"
flock 9

missing=()
for pin in "${PINS[@]}"; do
  IFS='|' read -r name package version suite file <<<"$pin"
  is_current "$CACHE/$name" "$version" "$file" || missing+=("$pin")
done

if [ "${#missing[@]}" -eq 0 ]; then
  echo "$CACHE"
  exit 0
fi

command -v apt-get >/dev/null || die "apt-get is needed to fetch ${#missing[@]} runtime package(s)"
command -v dpkg >/dev/null || die "dpkg is needed to unpack the runtime packages"

APT="$CACHE/apt"
mkdir -p "$APT/lists/partial" "$APT/cache/archives/partial" "$CACHE/debs"
uri=$(archive_uri)
printf 'deb %s trixie main\ndeb %s sid main\n' "$uri" "$uri" >"$APT/sources.list"
opts=(
  -o "Dir::Etc::SourceList=$APT/sources.list"
  -o Dir::Etc::SourceParts=/dev/null
  -o "Dir::State::Lists=$APT/lists"
  -o "Dir::Cache=$APT/cache"
  -o APT::Sandbox::User=root
)

echo "runtimes: updating the trixie and sid package lists in $APT" >&2
apt-get "${opts[@]}" update -qq || die "apt-get update of the private trixie/sid lists failed"

for pin in "${missing[@]}"; do
  IFS='|' read -r name package version suite file <<<"$pin"
  echo "runtimes: fetching $package=$version ($suite) into $CACHE/$name" >&2
  rm -f "$CACHE/debs/${package}_"*.deb
  (cd "$CACHE/debs" && apt-get "${opts[@]}" download -q "$package=$version") ||
    die "download of $package=$version failed (is it still in $suite? apt-cache policy $package with the options above lists what exists)"
  deb=$(ls "$CACHE/debs/${package}_"*.deb 2>/dev/null | head -n 1)
  [ -n "$deb" ] || die "apt-get download of $package=$version left no .deb"
  # Unpack next to the target and rename, so an interrupted run never leaves a half tree
  # that looks complete.
  staging=$(mktemp -d "$CACHE/.unpack-$name.XXXXXX")
  dpkg -x "$deb" "$staging" || { rm -rf "$staging"; die "dpkg -x $deb failed"; }
  [ -e "$staging/$file" ] || { rm -rf "$staging"; die "$deb has no $file"; }
  echo "$version" >"$staging/VERSION"
  rm -rf "$CACHE/$name"
  mv "$staging" "$CACHE/$name"
  rm -f "$deb"
done

for pin in "${PINS[@]}"; do
  IFS='|' read -r name package version suite file <<<"$pin"
  is_current "$CACHE/$name" "$version" "$file" || die "$CACHE/$name is not $package $version after fetching"
done
echo "$CACHE"
