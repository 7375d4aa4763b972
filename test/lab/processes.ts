// Starting and stopping long-running processes strictly by pid (never by name: other engineers
// run their own containerd/registry instances on the same machine).
import { spawn, type ChildProcess } from "node:child_process";
import { closeSync, openSync, readFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";

export interface Background {
  readonly pid: number;
  readonly child: ChildProcess;
  /** Resolves when the process has exited (never rejects). */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * Spawns a daemon whose stdout and stderr go to `logFile`. The child is unref'd so a forgotten
 * stop() cannot keep node alive; the exit-time cleanup (cleanup.ts) then kills it instead.
 * (Because of the unref, wait for such a process with isAlive polling, not its exit event:
 * node may exit before delivering it.)
 */
export function spawnLogged(
  file: string,
  args: readonly string[],
  logFile: string,
  options: { env?: NodeJS.ProcessEnv } = {},
): Background {
  const fd = openSync(logFile, "a");
  try {
    const child = spawn(file, args, { stdio: ["ignore", fd, fd], env: options.env ?? process.env });
    const daemon = track(child, file);
    child.unref();
    return daemon;
  } finally {
    closeSync(fd); // the child has its own copy
  }
}

/** Wraps a spawned child, failing fast when the binary could not be started at all. */
export function track(child: ChildProcess, what: string): Background {
  if (child.pid === undefined) throw new Error(`could not start ${what}`);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once("exit", (code, signal) => resolve({ code, signal }));
    child.once("error", () => resolve({ code: null, signal: null }));
  });
  return { pid: child.pid, child, exited };
}

/** True while `pid` exists and is not a zombie (an exited child nobody reaped yet). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    // Field 3 of /proc/PID/stat is the state; the command name (field 2) may contain spaces.
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return false;
  }
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves once the process is gone. */
export async function terminate(pid: number, graceMs = 5_000): Promise<void> {
  signal(pid, "SIGTERM");
  if (await waitGone(pid, graceMs)) return;
  signal(pid, "SIGKILL");
  if (!(await waitGone(pid, 5_000))) throw new Error(`pid ${pid} survived SIGKILL`);
}

/** SIGKILL and wait until the process is gone. */
export async function kill(pid: number): Promise<void> {
  signal(pid, "SIGKILL");
  if (!(await waitGone(pid, 5_000))) throw new Error(`pid ${pid} survived SIGKILL`);
}

async function waitGone(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (isAlive(pid)) {
    if (Date.now() > deadline) return false;
    await sleep(25);
  }
  return true;
}

/**
 * Synchronous variant for process-exit handlers, where no event loop runs: sleeps with
 * Atomics.wait between checks.
 */
export function terminateSync(pid: number, graceMs = 2_000): void {
  signal(pid, "SIGTERM");
  if (waitGoneSync(pid, graceMs)) return;
  signal(pid, "SIGKILL");
  waitGoneSync(pid, 2_000);
}

function waitGoneSync(pid: number, timeoutMs: number): boolean {
  const deadline = Date.now() + timeoutMs;
  const cell = new Int32Array(new SharedArrayBuffer(4));
  while (isAlive(pid)) {
    if (Date.now() > deadline) return false;
    Atomics.wait(cell, 0, 0, 20);
  }
  return true;
}
