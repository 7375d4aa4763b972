// containerd shims, found by the containerd address on their command line. A shim outlives
// containerd by design (that is how containers survive a daemon restart), so a lab that ran
// containers must end its shims, and the containers below them, explicitly and by pid.
import { readdirSync, readFileSync } from "node:fs";
import { kill } from "./processes.js";

/** Pids of the shims serving `socket` and of every process below them (/proc). */
export function shimTrees(socket: string): number[] {
  const processes = readdirSync("/proc")
    .filter((entry) => /^\d+$/.test(entry))
    .map((entry) => ({ pid: Number(entry), parent: parentPid(entry), args: commandLine(entry) }));
  const shims = processes.filter((p) => p.args.some((a) => a.includes("containerd-shim")) && addressOf(p.args) === socket);
  const tree = new Set(shims.map((s) => s.pid));
  for (let grew = true; grew; ) {
    grew = false;
    for (const p of processes) {
      if (!tree.has(p.pid) && tree.has(p.parent)) {
        tree.add(p.pid);
        grew = true;
      }
    }
  }
  return [...tree];
}

/** SIGKILLs what shimTrees finds (children first is not needed: SIGKILL cannot be refused). */
export async function killShims(socket: string): Promise<void> {
  await Promise.all(shimTrees(socket).map((pid) => kill(pid).catch(() => undefined)));
}

export function killShimsSync(socket: string): void {
  for (const pid of shimTrees(socket)) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // gone already
    }
  }
}

function commandLine(pid: string): string[] {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").filter(Boolean);
  } catch {
    return [];
  }
}

function parentPid(pid: string): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
  } catch {
    return -1;
  }
}

function addressOf(args: string[]): string | undefined {
  const i = args.indexOf("-address");
  return i >= 0 ? args[i + 1] : undefined;
}
