// The lab runs the containerd build the environment asks for (LAB_CONTAINERD), configured the way
// each major version needs: these tests read it back from the running daemon.
import { readFileSync, readlinkSync } from "node:fs";
import { describe, expect, inject, it } from "vitest";
import { ctr } from "./ctr.js";
import { selectRuntimes, type ContainerdVersion } from "./runtimes.js";
import { parseTable } from "./table.js";

const lab = inject("lab");

interface PluginRow {
  type: string;
  id: string;
  status: string;
}

async function plugins(): Promise<PluginRow[]> {
  const rows = parseTable(await ctr(lab, "default", ["plugins", "ls"]), ["TYPE", "ID", "PLATFORMS", "STATUS"]);
  return rows.map((r) => ({ type: r.TYPE!, id: r.ID!, status: r.STATUS! }));
}

function status(rows: PluginRow[], type: string, id: string): string | undefined {
  return rows.find((r) => r.type === type && r.id === id)?.status;
}

/** What each build reports about itself (Version API). */
const REPORTED: Record<ContainerdVersion, RegExp> = {
  "1.6.20": /^1\.6\.20(~ds1)?$/,
  "1.7.24": /^1\.7\.24~ds1$/,
  "2.1.9": /^2\.1\.9\+unknown$/,
};

describe("the selected containerd", () => {
  it("is the build LAB_CONTAINERD names, from the runtimes cache unless it is Debian 12's own", () => {
    const wanted = selectRuntimes().containerd;
    expect(lab.containerdVersion).toBe(wanted.version);
    expect(lab.containerdMajor).toBe(wanted.version.startsWith("2.") ? 2 : 1);
    expect(lab.containerdReportedVersion).toMatch(REPORTED[lab.containerdVersion]);
    const exe = readlinkSync(`/proc/${lab.containerdPid}/exe`);
    if (wanted.binDir) expect(exe).toBe(wanted.containerd);
    else expect(exe).toBe("/usr/bin/containerd");
  });

  it("answers ctr of the same build", async () => {
    const out = await ctr(lab, "default", ["version"]);
    const [client, server] = out.split("Server:");
    expect(client).toContain(`Version:  ${lab.containerdReportedVersion.replace(/\+unknown$/, "")}`);
    expect(server).toContain(`Version:  ${lab.containerdReportedVersion}`);
  });

  it("runs without CRI and NRI, with the snapshotters each version loads", async () => {
    const rows = await plugins();
    for (const cri of ["cri", "io.containerd.grpc.v1.cri"]) expect(rows.some((r) => r.id === cri && r.status === "ok")).toBe(false);
    expect(rows.some((r) => r.type === "io.containerd.nri.v1")).toBe(false);
    expect(status(rows, "io.containerd.snapshotter.v1", "overlayfs")).toBe("ok");
    expect(status(rows, "io.containerd.snapshotter.v1", "native")).toBe("ok");
    if (lab.containerdMajor === 2) {
      // 2.1 splits CRI into images/runtime plugins (disabled here) and loads erofs by default.
      expect(rows.some((r) => r.type === "io.containerd.cri.v1")).toBe(false);
      expect(status(rows, "io.containerd.snapshotter.v1", "erofs")).toBe("ok");
      expect(status(rows, "io.containerd.transfer.v1", "local")).toBe("ok");
    } else {
      expect(status(rows, "io.containerd.snapshotter.v1", "erofs")).toBeUndefined();
    }
  });

  it("keeps the shim of the same build on the daemon's PATH", () => {
    const wanted = selectRuntimes().containerd;
    const environ = readFileEnv(lab.containerdPid);
    if (wanted.binDir) expect(environ.PATH?.split(":")[0]).toBe(wanted.binDir);
    else expect(environ.PATH).toBe(process.env.PATH);
  });
});

function readFileEnv(pid: number): Record<string, string> {
  const text = readFileSync(`/proc/${pid}/environ`, "utf8");
  return Object.fromEntries(
    text
      .split("\0")
      .filter(Boolean)
      .map((kv) => [kv.slice(0, kv.indexOf("=")), kv.slice(kv.indexOf("=") + 1)]),
  );
}
