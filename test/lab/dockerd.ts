// A private dockerd on the lab's own containerd, with Docker's containerd image store
// ("containerd-snapshotter" feature): images, leases, ingests and snapshots go into the lab
// containerd's `moby` namespace, exactly what a Docker 26/28 host with that store leaves there.
// Everything it owns (data-root, exec-root, pidfile, API socket, config, CLI config) lives in one
// temporary directory; no iptables, no bridge, so it changes nothing on the host's network.
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { onExit } from "./cleanup.js";
import { run } from "./exec.js";
import { tail } from "./logs.js";
import { unmountUnder, unmountUnderSync } from "./mounts.js";
import { isAlive, spawnLogged, terminate, terminateSync, type Background } from "./processes.js";
import type { DockerRuntime, DockerVersion } from "./runtimes.js";
import { GiveUp, waitFor } from "./wait.js";

/** The containerd namespace Docker's image store uses. */
export const DOCKER_NAMESPACE = "moby";

/** JSON-serialisable: what a test needs to run the Docker CLI against the lab's dockerd. */
export interface DockerdInfo {
  version: DockerVersion;
  /** What the daemon reports (`docker version`), e.g. "26.1.5+dfsg1". */
  reportedVersion: string;
  /** DOCKER_HOST value: "unix://<socket>". */
  host: string;
  pid: number;
  dataRoot: string;
  execRoot: string;
  logFile: string;
  /** The Docker CLI binary and its private config directory (DOCKER_CONFIG). */
  cli: string;
  cliConfig: string;
  /** containerd namespace of Docker's images and containers. */
  namespace: string;
  /** The lab's busybox image, already pulled into this dockerd (busybox.ts). */
  busyboxImage: string;
}

export interface DockerdOptions {
  dir: string;
  runtime: DockerRuntime;
  /** The lab containerd's socket (dockerd --containerd). */
  containerdSocket: string;
  /** Registries Docker may talk to over plain HTTP ("host:port" or CIDR). */
  insecureRegistries: string[];
  startTimeoutMs?: number;
}

export interface Dockerd {
  readonly dir: string;
  readonly pid: number;
  readonly socket: string;
  info(busyboxImage: string): DockerdInfo;
  /** `docker ...args` against this daemon: stdout, or an error carrying stderr. */
  docker(args: readonly string[], timeoutMs?: number): Promise<string>;
  /** Stops dockerd by pid (it stops its containers first), unmounts and removes its directory. */
  stop(): Promise<void>;
}

export async function startDockerd(options: DockerdOptions): Promise<Dockerd> {
  mkdirSync(options.dir, { recursive: true });
  const dir = mkdtempSync(join(options.dir, "dockerd-"));
  const paths = {
    dataRoot: join(dir, "data"),
    execRoot: join(dir, "exec"),
    pidfile: join(dir, "dockerd.pid"),
    socket: join(dir, "docker.sock"),
    configFile: join(dir, "daemon.json"),
    cliConfig: join(dir, "cli"),
    logFile: join(dir, "dockerd.log"),
  };
  for (const d of [paths.dataRoot, paths.execRoot, paths.cliConfig]) mkdirSync(d, { recursive: true });
  // The CLI looks for its plugins in $DOCKER_CONFIG/cli-plugins: buildx makes `docker build` BuildKit's.
  mkdirSync(join(paths.cliConfig, "cli-plugins"));
  symlinkSync(options.runtime.buildx, join(paths.cliConfig, "cli-plugins", "docker-buildx"));
  writeFileSync(
    paths.configFile,
    JSON.stringify({ features: { "containerd-snapshotter": true }, "insecure-registries": options.insecureRegistries }, null, 2),
  );
  const host = `unix://${paths.socket}`;
  const args = [
    `--containerd=${options.containerdSocket}`,
    `--config-file=${paths.configFile}`,
    `--data-root=${paths.dataRoot}`,
    `--exec-root=${paths.execRoot}`,
    `--pidfile=${paths.pidfile}`,
    `--host=${host}`,
    "--iptables=false",
    "--ip6tables=false",
    "--bridge=none",
  ];
  const docker = (cliArgs: readonly string[], timeoutMs = 60_000): Promise<string> =>
    run(options.runtime.cli, cliArgs, { timeoutMs, env: dockerEnv(host, paths.cliConfig) });

  // dockerd finds docker-proxy (and runc) on PATH: its own package's sbin first.
  const env = { ...process.env, PATH: `${dirname(options.runtime.dockerd)}:${process.env.PATH ?? "/usr/sbin:/usr/bin"}` };
  const daemon = spawnLogged(options.runtime.dockerd, args, paths.logFile, { env });
  const unregister = onExit(() => {
    terminateSync(daemon.pid, 10_000);
    unmountUnderSync(dir);
    rmSync(dir, { recursive: true, force: true });
  });
  let reportedVersion: string;
  try {
    reportedVersion = await waitReady(daemon, docker, paths.logFile, options.startTimeoutMs ?? 30_000);
    if (!reportedVersion.startsWith(options.runtime.version)) {
      throw new Error(`the lab asked for dockerd ${options.runtime.version} but it reports ${reportedVersion}`);
    }
  } catch (error) {
    unregister();
    await terminate(daemon.pid, 5_000);
    await unmountUnder(dir);
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }

  let stopping: Promise<void> | undefined;
  return {
    dir,
    pid: daemon.pid,
    socket: paths.socket,
    docker,
    info: (busyboxImage) => ({
      version: options.runtime.version,
      reportedVersion,
      host,
      pid: daemon.pid,
      dataRoot: paths.dataRoot,
      execRoot: paths.execRoot,
      logFile: paths.logFile,
      cli: options.runtime.cli,
      cliConfig: paths.cliConfig,
      namespace: DOCKER_NAMESPACE,
      busyboxImage,
    }),
    stop() {
      stopping ??= (async () => {
        unregister();
        // dockerd stops its running containers on SIGTERM (no live-restore); give it the time.
        await terminate(daemon.pid, 20_000);
        await unmountUnder(dir);
        rmSync(dir, { recursive: true, force: true });
      })();
      return stopping;
    },
  };
}

/** The environment the Docker CLI runs with: this daemon, and a config dir of its own. */
export function dockerEnv(host: string, cliConfig: string): NodeJS.ProcessEnv {
  return { ...process.env, DOCKER_HOST: host, DOCKER_CONFIG: cliConfig, DOCKER_CLI_HINTS: "false" };
}

/**
 * Ready means: the API answers and the containerd image store is on. `docker info` right after
 * start once came back without the driver-type line, so ask until it is there.
 */
async function waitReady(
  daemon: Background,
  docker: (args: readonly string[], timeoutMs?: number) => Promise<string>,
  logFile: string,
  timeoutMs: number,
): Promise<string> {
  await waitFor(
    "dockerd to answer with the containerd image store on",
    async () => {
      if (!isAlive(daemon.pid)) throw new GiveUp("dockerd exited");
      const info = await docker(["info", "--format", "{{json .DriverStatus}}"], 5_000);
      return info.includes("io.containerd.snapshotter.v1");
    },
    { timeoutMs, intervalMs: 200, describe: () => `dockerd log (tail):\n${tail(logFile, 30)}` },
  );
  return (await docker(["version", "--format", "{{.Server.Version}}"], 10_000)).trim();
}
