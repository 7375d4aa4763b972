import { ContainerdClient } from "../../src/containerd/client.js";
import { pushImage, type PushedImage } from "../lab/images.js";
import { startLab, type Lab } from "../lab/lab.js";
import {
  cancelledDownload,
  type CancelledDownload,
  cancelledUnpack,
  type CancelledUnpack,
  completePull,
  createContainer,
  createLease,
} from "../lab/scenarios.js";

/**
 * The situation the exporter exists for, on a lab of its own (node-level
 * figures must not see other test files' namespaces):
 * - "dl": a pull cut mid-download (stale lease, partial ingests, some blobs);
 * - "unpack": a pull cut mid-unpack (stale lease, committed snapshots, an active extract snapshot);
 * - "app": a complete image with a container on it;
 * - "keep": a leaked lease (no expiry, no owner) holding a blob of a cut download of its own.
 */
export interface Scene {
  lab: Lab;
  client: ContainerdClient;
  images: { dl: PushedImage; unpack: PushedImage; app: PushedImage; keep: PushedImage };
  download: CancelledDownload;
  unpack: CancelledUnpack;
  /** The blob the leaked lease holds. */
  pinnedDigest: string;
  stop(): Promise<void>;
}

export async function buildScene(): Promise<Scene> {
  const lab = await startLab();
  const client = new ContainerdClient({ address: lab.socket });
  try {
    const [dl, unpack, app, keep] = await Promise.all([
      pushImage(lab, { repo: "scene-dl", tag: "1", layers: [{ size: 3 << 20 }, { size: 2 << 20 }] }),
      pushImage(lab, { repo: "scene-unpack", tag: "1", layers: [{ size: 1 << 20 }, { size: 2 << 20, gated: true }] }),
      pushImage(lab, { repo: "scene-app", tag: "1", layers: [{ size: 1 << 20 }] }),
      pushImage(lab, { repo: "scene-keep", tag: "1", layers: [{ size: 2 << 20 }] }),
    ]);
    const download = await cancelledDownload(lab, "dl", dl);
    const cut = await cancelledUnpack(lab, "unpack", unpack);
    await completePull(lab, "app", app);
    await createContainer(lab, "app", app.ref, "web");
    // A leaked lease pinning the manifest of a cut download; the cut pull's own lease goes away.
    const kept = await cancelledDownload(lab, "keep", keep);
    await createLease(lab, "keep", { id: "forever", expiresIn: null, labels: { owner: "scene" } });
    await client.addLeaseResource("keep", "forever", { type: "content", id: keep.manifestDigest });
    // A synchronous delete lets the GC take the lease's partial downloads with it.
    for (const lease of kept.leases) await lab.ctr("keep", "leases", "rm", "--sync", lease.id);
    return {
      lab,
      client,
      images: { dl, unpack, app, keep },
      download,
      unpack: cut,
      pinnedDigest: keep.manifestDigest,
      stop: async () => {
        client.close();
        await lab.stop();
      },
    };
  } catch (error) {
    client.close();
    await lab.stop();
    throw error;
  }
}
