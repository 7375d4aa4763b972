// The lab's dockerd (LAB_DOCKER): on the lab's own containerd with the containerd image store,
// the busybox image ready, containers runnable without network, and nothing left after stop.
// Runs only in the Docker runs of the matrix (scripts/test.sh selects it by file).
import { existsSync, readFileSync } from "node:fs";
import { describe, expect, inject, it } from "vitest";
import { docker, dockerOf } from "./docker.js";
import { listImages } from "./inspect.js";
import { startLab } from "./lab.js";
import { mountsUnder } from "./mounts.js";
import { isAlive } from "./processes.js";
import { selectRuntimes } from "./runtimes.js";
import { uniqueNamespace } from "./scenarios.js";
import { shimTrees } from "./shims.js";

const lab = inject("lab");

describe("the lab's dockerd", () => {
  it("is the build LAB_DOCKER names, on the lab's containerd, with the containerd image store", async () => {
    const d = dockerOf(lab);
    expect(lab.dockerVersion).toBe(selectRuntimes().docker?.version);
    expect(d.reportedVersion.startsWith(`${lab.dockerVersion}+`)).toBe(true);
    const info = JSON.parse(await docker(lab, ["info", "--format", "{{json .}}"])) as { Driver: string; DriverStatus: string[][] };
    expect(info.Driver).toBe("overlayfs");
    expect(info.DriverStatus).toContainEqual(["driver-type", "io.containerd.snapshotter.v1"]);
    // The image store is the lab containerd's `moby` namespace.
    const images = (await listImages(lab, d.namespace)).map((i) => i.ref);
    expect(images).toContain(d.busyboxImage);
  });

  it("runs the busybox image without network; the container writes into its own layer", async () => {
    const name = uniqueNamespace("lab-run");
    await docker(lab, ["run", "--rm", "--network", "none", "--name", name, dockerOf(lab).busyboxImage, "echo hi > /data/x && cat /data/x"]).then(
      (out) => expect(out.trim()).toBe("hi"),
    );
    const ids = await docker(lab, ["ps", "-a", "--filter", `name=${name}`, "--format", "{{.ID}}"]);
    expect(ids.trim()).toBe("");
  });

  it("stops with the rest of the lab: no dockerd, shim, container process or mount left", async () => {
    const own = await startLab({ withDocker: true });
    let pids: number[] = [];
    try {
      const image = own.info().docker!.busyboxImage;
      await own.dockerd!.docker(["run", "-d", "--network", "none", "--name", "stays-up", image]);
      await own.dockerd!.docker(["create", "--network", "none", "--name", "created", image]);
      pids = [own.dockerd!.pid, own.containerd.pid, ...shimTrees(own.socket)];
      expect(pids.length).toBeGreaterThanOrEqual(4); // dockerd, containerd, the shim and the container's sh
    } finally {
      await own.stop();
    }
    const dir = own.dir;
    for (const pid of pids) expect(isAlive(pid), `pid ${pid} (${comm(pid)})`).toBe(false);
    expect(mountsUnder(dir)).toEqual([]);
    expect(existsSync(dir)).toBe(false);
  }, 90_000);
});

function comm(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/comm`, "utf8").trim();
  } catch {
    return "gone";
  }
}
