// Which containerd (and optionally which dockerd) the lab runs, chosen by environment:
//
//   LAB_CONTAINERD = 1.6.20 | 1.7.24 | 2.1.9   (default 1.6.20, or the one paired with LAB_DOCKER)
//   LAB_DOCKER     = 26.1.5 | 28.5.2           (unset: no dockerd)
//   RUNTIMES_CACHE = where scripts/runtimes.sh unpacked the packages
//                    (default /var/cache/containerd-orphan-exporter/runtimes)
//
// 1.6.20 is Debian 12's own package, run from PATH; every other build comes from the cache that
// scripts/runtimes.sh fills (pinned Debian packages, unpacked, never installed). The environment
// is inherited by vitest's worker processes, so the global setup and every test file resolve the
// same binaries (ctr.ts runs the selected version's ctr).
import { existsSync } from "node:fs";
import { join } from "node:path";

export const CONTAINERD_VERSIONS = ["1.6.20", "1.7.24", "2.1.9"] as const;
export const DOCKER_VERSIONS = ["26.1.5", "28.5.2"] as const;
export type ContainerdVersion = (typeof CONTAINERD_VERSIONS)[number];
export type DockerVersion = (typeof DOCKER_VERSIONS)[number];

/** The containerd each Docker is paired with, as the distributions ship them. */
export const DOCKER_PAIRING: Record<DockerVersion, ContainerdVersion> = { "26.1.5": "1.7.24", "28.5.2": "2.1.9" };

export const DEFAULT_RUNTIMES_CACHE = "/var/cache/containerd-orphan-exporter/runtimes";

export interface ContainerdRuntime {
  version: ContainerdVersion;
  /** Major version: 1 or 2 (config format, plugin ids, ctr's pull path differ). */
  major: 1 | 2;
  containerd: string;
  ctr: string;
  /** Directory holding containerd-shim-runc-v2, put first on the daemon's PATH. */
  binDir: string;
}

export interface DockerRuntime {
  version: DockerVersion;
  dockerd: string;
  /** The Docker CLI (the cache's docker-cli package; one client for both daemons). */
  cli: string;
  /** The CLI's buildx plugin: `docker build` drives the daemon's BuildKit through it. */
  buildx: string;
}

export interface Runtimes {
  containerd: ContainerdRuntime;
  docker: DockerRuntime | null;
  /** Directory of the busybox-static package (the lab's busybox image is built from it). */
  busybox: string;
}

export function runtimesCache(env: NodeJS.ProcessEnv = process.env): string {
  return env.RUNTIMES_CACHE || DEFAULT_RUNTIMES_CACHE;
}

/** The runtimes the environment asks for; throws a precise message for unknown versions. */
export function selectRuntimes(env: NodeJS.ProcessEnv = process.env): Runtimes {
  const cache = runtimesCache(env);
  const docker = env.LAB_DOCKER ? pick(env.LAB_DOCKER, DOCKER_VERSIONS, "LAB_DOCKER") : null;
  const containerdVersion = env.LAB_CONTAINERD
    ? pick(env.LAB_CONTAINERD, CONTAINERD_VERSIONS, "LAB_CONTAINERD")
    : docker
      ? DOCKER_PAIRING[docker]
      : "1.6.20";
  return {
    containerd: containerdRuntime(containerdVersion, cache),
    docker: docker ? dockerRuntime(docker, cache) : null,
    busybox: join(cache, "busybox"),
  };
}

function pick<T extends string>(value: string, allowed: readonly T[], name: string): T {
  if ((allowed as readonly string[]).includes(value)) return value as T;
  throw new Error(`${name}=${value}: expected one of ${allowed.join(", ")}`);
}

function containerdRuntime(version: ContainerdVersion, cache: string): ContainerdRuntime {
  const major = version.startsWith("2.") ? 2 : 1;
  if (version === "1.6.20") {
    // Debian 12's package, from PATH (the system's runc and shim come with it).
    return { version, major, containerd: "containerd", ctr: "ctr", binDir: "" };
  }
  const binDir = join(cache, `containerd-${version}`, "usr", "bin");
  return { version, major, containerd: join(binDir, "containerd"), ctr: join(binDir, "ctr"), binDir };
}

function dockerRuntime(version: DockerVersion, cache: string): DockerRuntime {
  return {
    version,
    dockerd: join(cache, `docker-${version}`, "usr", "sbin", "dockerd"),
    cli: join(cache, "docker-cli", "usr", "bin", "docker"),
    buildx: join(cache, "docker-buildx", "usr", "libexec", "docker", "cli-plugins", "docker-buildx"),
  };
}

/** Throws, naming the fix, when a selected binary is not in the cache. */
export function checkInstalled(runtimes: Runtimes): void {
  const files = [
    runtimes.containerd.binDir && runtimes.containerd.containerd,
    runtimes.containerd.binDir && runtimes.containerd.ctr,
    join(runtimes.busybox, "usr", "bin", "busybox"),
  ];
  if (runtimes.docker) files.push(runtimes.docker.dockerd, runtimes.docker.cli, runtimes.docker.buildx);
  const missing = files.filter((f): f is string => Boolean(f) && !existsSync(f as string));
  if (missing.length > 0) {
    throw new Error(`runtime binaries missing: ${missing.join(", ")}; run scripts/runtimes.sh (RUNTIMES_CACHE=${runtimesCache()})`);
  }
}

/** PATH for the daemon: the selected version's shim first, then the system's (runc). */
export function daemonPath(runtime: ContainerdRuntime, base = process.env.PATH ?? "/usr/sbin:/usr/bin:/sbin:/bin"): string {
  return runtime.binDir ? `${runtime.binDir}:${base}` : base;
}
