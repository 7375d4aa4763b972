// Running the real `ctr` client against a lab daemon, always with an explicit socket and
// namespace (ctr's defaults point at the system containerd and namespace "default").
import { spawn } from "node:child_process";
import { onExit } from "./cleanup.js";
import { run } from "./exec.js";
import { isAlive, kill, track, type Background } from "./processes.js";
import { selectRuntimes } from "./runtimes.js";

/** Anything that knows the lab's containerd socket (LabInfo, Lab, Containerd). */
export interface CtrTarget {
  socket: string;
  /** The ctr binary matching the daemon (LabInfo has it); default: the LAB_CONTAINERD one. */
  ctrPath?: string;
  /** The daemon's major version (LabInfo has it); default: the LAB_CONTAINERD one. */
  containerdMajor?: 1 | 2;
}

function ctrBinary(target: CtrTarget): string {
  return target.ctrPath ?? selectRuntimes().containerd.ctr;
}

/**
 * `images pull` arguments for the client-side pull that every scenario written for ctr 1.6
 * relies on (ctr creates the lease, writes the ingests and creates the image before unpacking).
 * ctr 2.x pulls through the daemon's transfer service by default; `--local` is the old path.
 */
export function clientPullArgs(target: CtrTarget, ref: string): string[] {
  const major = target.containerdMajor ?? selectRuntimes().containerd.major;
  return ["images", "pull", ...(major === 2 ? ["--local"] : []), "--plain-http", ref];
}

function globalArgs(target: CtrTarget, ns: string): string[] {
  return ["--address", target.socket, "--namespace", ns];
}

/** `ctr --address SOCK -n NS ...args`; resolves with stdout, rejects with stderr in the message. */
export function ctr(target: CtrTarget, ns: string, args: readonly string[], timeoutMs = 60_000): Promise<string> {
  return run(ctrBinary(target), [...globalArgs(target, ns), ...args], { timeoutMs });
}

export interface CtrProcess extends Background {
  /** stdout and stderr so far (ctr's pull progress goes to stdout). */
  output(): string;
  /** False once the process has exited. */
  running(): boolean;
  /** SIGKILL the client (the way a crash or OOM kill ends it) and wait until it is gone. Idempotent. */
  kill(): Promise<void>;
}

/**
 * Starts a long-running ctr (e.g. a pull) in the background. It is killed at process exit if the
 * caller forgets, so a failed test never leaves a ctr behind.
 */
export function spawnCtr(target: CtrTarget, ns: string, args: readonly string[]): CtrProcess {
  const child = spawn(ctrBinary(target), [...globalArgs(target, ns), ...args], { stdio: ["ignore", "pipe", "pipe"] });
  const proc = track(child, "ctr");
  let output = "";
  child.stdout?.on("data", (chunk: Buffer) => (output += chunk.toString("utf8")));
  child.stderr?.on("data", (chunk: Buffer) => (output += chunk.toString("utf8")));
  const unregister = onExit(() => {
    if (isAlive(proc.pid)) process.kill(proc.pid, "SIGKILL");
  });
  void proc.exited.then(unregister);
  return {
    ...proc,
    output: () => output,
    running: () => child.exitCode === null && child.signalCode === null,
    kill: async () => {
      if (child.exitCode === null && child.signalCode === null) await kill(proc.pid);
      await proc.exited;
    },
  };
}
