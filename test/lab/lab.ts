// The lab: a private containerd, a registry, and a throttling proxy in front of the registry,
// all in one temporary directory and all stopped by pid.
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { onExit } from "./cleanup.js";
import { startContainerd, type Containerd } from "./containerd.js";
import { ctr } from "./ctr.js";
import { DEFAULT_GATE_PASS_BYTES, GATED_LAYER_MEDIA_TYPE } from "./gate.js";
import type { LabInfo, LabTarget } from "./info.js";
import { overlayWorks } from "./mounts.js";
import { startThrottleProxy, type ThrottleProxy } from "./proxy.js";
import { startRegistry, type Registry } from "./registry.js";

export type { LabInfo, LabTarget } from "./info.js";

export interface LabOptions {
  /** Parent directory for the lab's temporary directory (default: <repo>/.lab, else /var/tmp). */
  dir?: string;
  logLevel?: "debug" | "info" | "warn";
  gatePassBytes?: number;
}

export interface Lab extends LabTarget {
  readonly dir: string;
  readonly containerd: Containerd;
  readonly registryDaemon: Registry;
  /** Shared proxy in front of the registry; unthrottled until setRate is called. */
  readonly proxy: ThrottleProxy;
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
  const stopAll = async (): Promise<void> => {
    const results = await Promise.allSettled(started.reverse().map((s) => s.stop()));
    unregister();
    rmSync(dir, { recursive: true, force: true });
    const failed = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
    if (failed) throw failed.reason;
  };
  try {
    const gatePassBytes = options.gatePassBytes ?? DEFAULT_GATE_PASS_BYTES;
    const containerd = await startContainerd({ dir, logLevel: options.logLevel, gatePassBytes });
    started.push(containerd);
    const registryDaemon = await startRegistry({ dir });
    started.push(registryDaemon);
    const proxy = await startThrottleProxy({ target: registryDaemon.address, bytesPerSecond: Infinity });
    started.push(proxy);
    return assemble(dir, containerd, registryDaemon, proxy, gatePassBytes, stopAll);
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
  gatePassBytes: number,
  stopAll: () => Promise<void>,
): Lab {
  let stopping: Promise<void> | undefined;
  return {
    dir,
    socket: containerd.socket,
    root: containerd.root,
    registry: registryDaemon.address,
    containerd,
    registryDaemon,
    proxy,
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
    }),
    ctr: (ns, ...args) => ctr(containerd, ns, args),
    stop: () => (stopping ??= stopAll()),
  };
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
