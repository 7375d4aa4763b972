// Pushing lab images to the lab registry with the real client: `ctr images import` into a
// throwaway namespace of the lab containerd, `ctr images push --plain-http`, then delete the
// image with a synchronous GC and remove the namespace.
//
// The cleanup matters: containerd shares blob data across namespaces, so a blob left behind by
// the import would make a later pull of the same image in a test namespace complete instantly
// (no download, no partial ingest). After pushImage the lab's content store holds nothing of the
// image; every scenario therefore needs an image it has never pulled before (see ImageSpec.seed).
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ctr, type CtrTarget } from "./ctr.js";
import { buildImage, ociArchive, type ImageSpec, type LayerInfo } from "./oci.js";

export type { ImageSpec, LayerSpec, LayerInfo } from "./oci.js";

/** What a pushed image is made of; plain data, safe to JSON.stringify. */
export interface PushedImage {
  /** Pullable reference on the registry, e.g. "127.0.0.1:5000/demo:1". */
  ref: string;
  registry: string;
  repo: string;
  tag: string;
  manifestDigest: string;
  manifestSize: number;
  configDigest: string;
  configSize: number;
  layerDigests: string[];
  layers: LayerInfo[];
  /** Sum of all blob sizes (manifest + config + layers): what a full pull downloads. */
  totalBytes: number;
}

export interface PushTarget extends CtrTarget {
  /** Registry address "127.0.0.1:PORT". */
  registry: string;
}

export async function pushImage(lab: PushTarget, spec: ImageSpec): Promise<PushedImage> {
  const image = buildImage(spec);
  const ref = `${lab.registry}/${spec.repo}:${spec.tag}`;
  const scratch = `lab-push-${randomBytes(4).toString("hex")}`;
  const workDir = mkdtempSync(join(tmpdir(), "lab-image-"));
  try {
    const archive = join(workDir, "image.tar");
    writeFileSync(archive, ociArchive(image, spec.tag));
    await ctr(lab, scratch, ["images", "import", "--no-unpack", "--base-name", `${lab.registry}/${spec.repo}`, archive]);
    await ctr(lab, scratch, ["images", "push", "--plain-http", ref]);
    await ctr(lab, scratch, ["images", "rm", "--sync", ref]);
    await ctr(lab, "default", ["namespaces", "rm", scratch]);
  } finally {
    rmSync(workDir, { recursive: true, force: true });
  }
  let totalBytes = 0;
  for (const blob of image.blobs.values()) totalBytes += blob.length;
  return {
    ref,
    registry: lab.registry,
    repo: spec.repo,
    tag: spec.tag,
    manifestDigest: image.manifestDigest,
    manifestSize: image.manifest.length,
    configDigest: image.configDigest,
    configSize: image.config.length,
    layerDigests: image.layers.map((l) => l.digest),
    layers: image.layers,
    totalBytes,
  };
}
