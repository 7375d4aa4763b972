// The lab: a private containerd (the build LAB_CONTAINERD selects), a registry, a throttling
// proxy in front of the registry and, with LAB_DOCKER, a dockerd on that containerd; all in one
// temporary directory and all stopped by pid.
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { onExit } from "./cleanup.js";
import { busyboxImageSpec } from "./busybox.js";
import { startContainerd, type Containerd } from "./containerd.js";
import { allowPlainHttp, CRI_PAUSE, criPauseImage } from "./cri.js";
import { ctr } from "./ctr.js";
import { startDockerd, type Dockerd } from "./dockerd.js";
import { DEFAULT_GATE_PASS_BYTES, GATED_LAYER_MEDIA_TYPE } from "./gate.js";
import type { LabInfo, LabTarget } from "./info.js";
import { pushImage } from "./images.js";
import { overlayWorks } from "./mounts.js";
import { startThrottleProxy, type ThrottleProxy } from "./proxy.js";
import { startRegistry, type Registry } from "./registry.js";
import { checkInstalled, selectRuntimes, type Runtimes } from "./runtimes.js";

export type { LabInfo, LabTarget } from "./info.js";

export interface LabOptions {
  /** Parent directory for the lab's temporary directory (default: <repo>/.lab, else /var/tmp). */
  dir?: string;
  logLevel?: "debug" | "info" | "warn";
  gatePassBytes?: number;
  /** Which containerd and dockerd to run (default: selectRuntimes(), i.e. LAB_CONTAINERD/LAB_DOCKER). */
  runtimes?: Runtimes;
  /**
   * Also start the selected dockerd, when one is selected (default false). The run's shared lab
   * does; a test file's private lab only when it tests Docker, so that Docker's `moby`
   * namespace never shows up in figures of tests that are about containerd alone.
   */
  withDocker?: boolean;
  /**
   * Also serve CRI (default false): image pulls from the lab registry (and proxies given to
   * `allowPlainHttp`), and pod sandboxes whose pause image is the lab's busybox (`CRI_PAUSE` on the lab registry).
   */
  withCri?: boolean;
}

export interface Lab extends LabTarget {
  readonly dir: string;
  readonly containerd: Containerd;
  readonly registryDaemon: Registry;
  /** Shared proxy in front of the registry; unthrottled until setRate is called. */
  readonly proxy: ThrottleProxy;
  /** The dockerd on this containerd, when the runtimes name one. */
  readonly dockerd: Dockerd | null;
  /** A current, JSON-serialisable description (the containerd pid changes on restart). */
  info(): LabInfo;
  /** `ctr --address SOCK -n NS ...args`: stdout, or an error carrying stderr. */
  ctr(ns: string, ...args: string[]): Promise<string>;
  /** Stops everything by pid and removes the directory. Idempotent; also runs at process exit. */
  stop(): Promise<void>;
}

// <repo>/.lab is gitignored and, unlike a container's /tmp, usually not on overlayfs.
const REPO_LAB_DIR = resolve(dirname(fileURLToPath(import.meta.url)), "../../.lab");

export async function startLab(options: LabOptions = {}): Promise<Lab> {
  const parent = options.dir ?? (await defaultParentDir());
  mkdirSync(parent, { recursive: true });
  const dir = mkdtempSync(join(parent, "lab-"));
  const unregister = onExit(() => rmSync(dir, { recursive: true, force: true }));
  const started: { stop(): Promise<void> }[] = [];
  // In reverse start order, one after the other: dockerd must be gone before its containerd.
  const stopAll = async (): Promise<void> => {
    const errors: unknown[] = [];
    for (const component of started.reverse()) await component.stop().catch((error: unknown) => errors.push(error));
    unregister();
    rmSync(dir, { recursive: true, force: true });
    if (errors.length > 0) throw errors[0];
  };
  try {
    const runtimes = options.runtimes ?? selectRuntimes();
    checkInstalled(runtimes);
    const gatePassBytes = options.gatePassBytes ?? DEFAULT_GATE_PASS_BYTES;
    // The registry first: a CRI lab's containerd config names the pause image on it.
    const registryDaemon = await startRegistry({ dir });
    started.push(registryDaemon);
    const containerd = await startContainerd({
      dir,
      logLevel: options.logLevel,
      gatePassBytes,
      runtime: runtimes.containerd,
      ...(options.withCri ? { cri: { sandboxImage: criPauseImage(registryDaemon.address) } } : {}),
    });
    started.push(containerd);
    const proxy = await startThrottleProxy({ target: registryDaemon.address, bytesPerSecond: Infinity });
    started.push(proxy);
    if (options.withCri) {
      allowPlainHttp(containerd.registryHosts, [registryDaemon.address, proxy.address]);
      const target = { socket: containerd.socket, ctrPath: containerd.ctrPath, registry: registryDaemon.address };
      await pushImage(target, busyboxImageSpec(runtimes.busybox, CRI_PAUSE.repo, CRI_PAUSE.tag));
    }
    let docker: { daemon: Dockerd; busyboxImage: string } | null = null;
    if (runtimes.docker && options.withDocker) {
      const daemon = await startDockerd({
        dir,
        runtime: runtimes.docker,
        containerdSocket: containerd.socket,
        // Scenario helpers start proxies of their own on other loopback ports: all of loopback.
        insecureRegistries: [registryDaemon.address, proxy.address, "127.0.0.0/8"],
      });
      started.push(daemon);
      docker = { daemon, busyboxImage: await provideBusybox(containerd, registryDaemon.address, daemon, runtimes.busybox) };
    }
    return assemble(dir, containerd, registryDaemon, proxy, docker, gatePassBytes, stopAll);
  } catch (error) {
    await stopAll().catch(() => undefined);
    throw error;
  }
}

function assemble(
  dir: string,
  containerd: Containerd,
  registryDaemon: Registry,
  proxy: ThrottleProxy,
  docker: { daemon: Dockerd; busyboxImage: string } | null,
  gatePassBytes: number,
  stopAll: () => Promise<void>,
): Lab {
  let stopping: Promise<void> | undefined;
  return {
    dir,
    socket: containerd.socket,
    root: containerd.root,
    registry: registryDaemon.address,
    ctrPath: containerd.ctrPath,
    containerdMajor: containerd.runtime.major,
    containerd,
    registryDaemon,
    proxy,
    dockerd: docker?.daemon ?? null,
    info: () => ({
      dir,
      socket: containerd.socket,
      root: containerd.root,
      state: containerd.state,
      containerdPid: containerd.pid,
      containerdLog: containerd.logFile,
      containerdConfig: containerd.configFile,
      registry: registryDaemon.address,
      registryPid: registryDaemon.pid,
      proxy: proxy.address,
      gatedLayerMediaType: GATED_LAYER_MEDIA_TYPE,
      gatePassBytes,
      containerdVersion: containerd.runtime.version,
      containerdMajor: containerd.runtime.major,
      containerdReportedVersion: containerd.reportedVersion,
      ctrPath: containerd.ctrPath,
      dockerVersion: docker ? docker.daemon.info(docker.busyboxImage).version : null,
      docker: docker ? docker.daemon.info(docker.busyboxImage) : null,
    }),
    ctr: (ns, ...args) => ctr(containerd, ns, args),
    stop: () => (stopping ??= stopAll()),
  };
}

/**
 * Builds the busybox image (busybox.ts), pushes it to the lab registry and `docker pull`s it, so
 * tests can `docker create`/`run` it at once. Pulled straight from the registry, unthrottled.
 */
async function provideBusybox(containerd: Containerd, registry: string, dockerd: Dockerd, busyboxDir: string): Promise<string> {
  const image = await pushImage({ socket: containerd.socket, ctrPath: containerd.ctrPath, registry }, busyboxImageSpec(busyboxDir));
  await dockerd.docker(["pull", "--quiet", image.ref], 120_000);
  return image.ref;
}

/** The first candidate where an overlay mount works (the overlayfs snapshotter needs it). */
async function defaultParentDir(): Promise<string> {
  const candidates = [REPO_LAB_DIR, "/var/tmp/containerd-lab"];
  for (const candidate of candidates) {
    mkdirSync(candidate, { recursive: true });
    if (await overlayWorks(candidate)) return candidate;
  }
  throw new Error(`overlayfs cannot be mounted in any of ${candidates.join(", ")}; pass { dir } on a real filesystem`);
}
