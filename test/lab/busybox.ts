// The lab's small runnable image: Debian's static busybox (from the runtimes cache, see
// scripts/runtimes.sh) in one layer, built in memory like every other lab image, so running a
// container needs no network and no image from outside. Its default command stays up until it
// is stopped (and stops at once on SIGTERM, so `docker stop` and `docker restart` are quick).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { ImageSpec } from "./oci.js";
import type { TarEntry } from "./tar.js";

/** Applets linked into /bin; enough for the scenarios' shell commands. */
const APPLETS = ["sh", "sleep", "dd", "cat", "echo", "ls", "true", "sync", "stat", "test", "head", "wc", "rm", "md5sum"];

/** A shell loop that exits 0 on SIGTERM (PID 1 ignores signals it has no handler for). */
export const STAY_UP = "trap 'exit 0' TERM INT; while :; do sleep 0.2; done";

export function busyboxImageSpec(busyboxPackageDir: string, repo = "lab/busybox", tag = "1"): ImageSpec {
  const binary = readFileSync(join(busyboxPackageDir, "usr", "bin", "busybox"));
  const entries: TarEntry[] = [
    { name: "bin/" },
    { name: "bin/busybox", data: binary, mode: 0o755 },
    ...APPLETS.map((applet) => ({ name: `bin/${applet}`, symlink: "busybox" })),
    { name: "data/" },
    { name: "dev/" },
    { name: "etc/" },
    { name: "proc/" },
    { name: "sys/" },
    { name: "tmp/", mode: 0o1777 },
  ];
  return {
    repo,
    tag,
    layers: [{ size: 0, entries }],
    entrypoint: ["/bin/sh", "-c"],
    cmd: [STAY_UP],
  };
}
