// Mount handling for lab directories. containerd mounts overlays (temporary mounts during unpack,
// and whatever a killed process left behind) under its root; a directory cannot be removed
// while something is mounted below it.
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { run } from "./exec.js";

/** Mount points at or below `dir`, deepest first (the order they must be unmounted in). */
export function mountsUnder(dir: string): string[] {
  const table = readFileSync("/proc/self/mounts", "utf8");
  const points = table
    .split("\n")
    .map((line) => line.split(" ")[1])
    .filter((field): field is string => field !== undefined)
    .map(unescapeMountField)
    .filter((point) => point === dir || point.startsWith(`${dir}/`));
  return [...new Set(points)].sort((a, b) => b.split("/").length - a.split("/").length || b.length - a.length);
}

/** /proc/mounts escapes space, tab, newline and backslash as \ooo octal. */
function unescapeMountField(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(parseInt(oct, 8)));
}

export async function unmountUnder(dir: string): Promise<void> {
  for (const point of mountsUnder(dir)) {
    // A lazy unmount still detaches a busy mount so the directory can be removed.
    await run("umount", [point]).catch(() => run("umount", ["-l", point]));
  }
}

export function unmountUnderSync(dir: string): void {
  for (const point of mountsUnder(dir)) {
    try {
      execFileSync("umount", [point], { stdio: "ignore" });
    } catch {
      execFileSync("umount", ["-l", point], { stdio: "ignore" });
    }
  }
}

/**
 * Tries a real overlay mount in `dir`: overlay's upper directory cannot live on another overlay
 * (e.g. a container's /tmp), and the lab's overlayfs snapshotter needs exactly that.
 */
export async function overlayWorks(dir: string): Promise<boolean> {
  const probe = join(dir, `.overlay-probe-${process.pid}-${Date.now()}`);
  const [lower, upper, work, merged] = ["lower", "upper", "work", "merged"].map((d) => join(probe, d)) as [
    string,
    string,
    string,
    string,
  ];
  for (const d of [lower, upper, work, merged]) mkdirSync(d, { recursive: true });
  try {
    await run("mount", ["-t", "overlay", "overlay", "-o", `lowerdir=${lower},upperdir=${upper},workdir=${work}`, merged]);
    await run("umount", [merged]);
    return true;
  } catch {
    return false;
  } finally {
    rmSync(probe, { recursive: true, force: true });
  }
}
