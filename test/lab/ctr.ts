// Running the real `ctr` client against a lab daemon, always with an explicit socket and
// namespace (ctr's defaults point at the system containerd and namespace "default").
import { spawn } from "node:child_process";
import { onExit } from "./cleanup.js";
import { run } from "./exec.js";
import { isAlive, kill, track, type Background } from "./processes.js";

/** Anything that knows the lab's containerd socket (LabInfo, Lab, Containerd). */
export interface CtrTarget {
  socket: string;
}

function globalArgs(target: CtrTarget, ns: string): string[] {
  return ["--address", target.socket, "--namespace", ns];
}

/** `ctr --address SOCK -n NS ...args`; resolves with stdout, rejects with stderr in the message. */
export function ctr(target: CtrTarget, ns: string, args: readonly string[], timeoutMs = 60_000): Promise<string> {
  return run("ctr", [...globalArgs(target, ns), ...args], { timeoutMs });
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
  const child = spawn("ctr", [...globalArgs(target, ns), ...args], { stdio: ["ignore", "pipe", "pipe"] });
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
