// ctr's two pull paths on the selected containerd. ctr 1.6 and 1.7 pull client-side by
// default; ctr 2.x pulls through the daemon's transfer service unless told `--local`, and the
// transfer pull leaves the daemon's lease and ingests behind when ctr dies.
import { describe, expect, inject, it } from "vitest";
import { clientPullArgs } from "./ctr.js";
import { pushImage } from "./images.js";
import { listImages, listLeases } from "./inspect.js";
import { cancelledDownload, uniqueNamespace } from "./scenarios.js";

const lab = inject("lab");
const MiB = 1 << 20;
const HOUR = 3_600_000;
const GC_EXPIRE = "containerd.io/gc.expire";

describe(`ctr ${lab.containerdVersion} pulls`, () => {
  it("client-side pull (--local on 2.x) killed mid-download: ctr's 24 h lease, ingests cut at 1 MiB steps", async () => {
    expect(clientPullArgs(lab, "r").includes("--local")).toBe(lab.containerdMajor === 2);
    const ns = uniqueNamespace("client-pull");
    const image = await pushImage(lab, { repo: "paths/client", tag: ns, layers: [{ size: 3 * MiB }, { size: 2 * MiB }] });
    const left = await cancelledDownload(lab, ns, image);
    expect(left.leases).toHaveLength(1);
    const lease = left.leases[0]!;
    expect(Date.parse(lease.labels[GC_EXPIRE]!) - Date.parse(lease.createdAt)).toBe(24 * HOUR);
    expect(left.ingests).toHaveLength(2);
    // content.Copy in the client writes 1 MiB chunks.
    for (const ingest of left.ingests) {
      expect(ingest.offset % MiB).toBe(0);
      expect(ingest.offset).toBeGreaterThan(0);
    }
    expect(await listImages(lab, ns)).toEqual([]);
  });

  if (lab.containerdMajor === 2) {
    it("transfer-service pull killed mid-download: the daemon's 24 h lease and ingests stay; no image record", async () => {
      const ns = uniqueNamespace("transfer-pull");
      const image = await pushImage(lab, { repo: "paths/transfer", tag: ns, layers: [{ size: 3 * MiB }, { size: 2 * MiB }] });
      const left = await cancelledDownload(lab, ns, image, { path: "transfer" });
      const leases = await listLeases(lab, ns);
      expect(leases.map((l) => l.id)).toEqual(left.leases.map((l) => l.id));
      expect(leases).toHaveLength(1);
      expect(Date.parse(leases[0]!.labels[GC_EXPIRE]!) - Date.parse(leases[0]!.createdAt)).toBe(24 * HOUR);
      expect(left.ingests.map((i) => i.ref).sort()).toEqual(image.layerDigests.map((d) => `layer-${d}`).sort());
      for (const ingest of left.ingests) {
        expect(ingest.offset).toBeGreaterThan(0);
        expect(ingest.offset).toBeLessThan(ingest.total);
      }
      expect(left.committed.sort()).toEqual([image.manifestDigest, image.configDigest].sort());
      // The transfer service creates the image only after unpacking.
      expect(await listImages(lab, ns)).toEqual([]);
    });
  }
});
