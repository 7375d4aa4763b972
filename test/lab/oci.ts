// Building small OCI images in memory, without network or docker: gzip'ed tar layers of seeded
// random files, an image config and a manifest, plus the OCI image-layout archive that
// `ctr images import` reads.
import { createHash } from "node:crypto";
import { gzipSync } from "node:zlib";
import { GATED_LAYER_MEDIA_TYPE } from "./gate.js";
import { randomBytesFromSeed } from "./random.js";
import { buildTar, type TarEntry } from "./tar.js";

export const MANIFEST_MEDIA_TYPE = "application/vnd.oci.image.manifest.v1+json";
export const CONFIG_MEDIA_TYPE = "application/vnd.oci.image.config.v1+json";
export const LAYER_MEDIA_TYPE = "application/vnd.oci.image.layer.v1.tar+gzip";

export interface LayerSpec {
  /** Bytes of file content in the layer (the unpacked size, give or take directory metadata). */
  size: number;
  /** Number of files the content is split into (default: one per MiB, at least one). */
  files?: number;
  /** Content seed; layers with equal seed, size and files are byte-identical (shared blobs). */
  seed?: string;
  /** Unpacking this layer stops part-way until the client is killed (gate.ts). */
  gated?: boolean;
  /** Exact layer content instead of seeded random files (size, files and seed are then unused). */
  entries?: readonly TarEntry[];
}

export interface ImageSpec {
  repo: string;
  tag: string;
  layers: readonly LayerSpec[];
  /** Seed for layers without their own; defaults to "repo:tag", so distinct tags get distinct blobs. */
  seed?: string;
  /** The image config's Entrypoint/Cmd (default: Cmd ["/bin/true"]). */
  entrypoint?: string[];
  cmd?: string[];
}

export interface LayerInfo {
  digest: string;
  /** Compressed blob size (what is downloaded and stored in the content store). */
  size: number;
  diffId: string;
  mediaType: string;
  /** Bytes of file content (what unpacking writes). */
  contentBytes: number;
  files: number;
  gated: boolean;
}

export interface BuiltImage {
  manifest: Buffer;
  manifestDigest: string;
  config: Buffer;
  configDigest: string;
  layers: LayerInfo[];
  /** Every blob (layers, config, manifest) by digest. */
  blobs: Map<string, Buffer>;
}

export function sha256(data: Buffer | string): string {
  return `sha256:${createHash("sha256").update(data).digest("hex")}`;
}

export function buildImage(spec: ImageSpec): BuiltImage {
  const blobs = new Map<string, Buffer>();
  const seed = spec.seed ?? `${spec.repo}:${spec.tag}`;
  const layers = spec.layers.map((layer, index) => {
    const built = buildLayer(layer, layer.seed ?? `${seed}/layer-${index}`);
    blobs.set(built.info.digest, built.blob);
    return built.info;
  });
  const config = json(imageConfig(layers.map((l) => l.diffId), seed, spec));
  const configDigest = sha256(config);
  blobs.set(configDigest, config);
  const manifest = json({
    schemaVersion: 2,
    mediaType: MANIFEST_MEDIA_TYPE,
    config: { mediaType: CONFIG_MEDIA_TYPE, digest: configDigest, size: config.length },
    layers: layers.map((l) => ({ mediaType: l.mediaType, digest: l.digest, size: l.size })),
  });
  const manifestDigest = sha256(manifest);
  blobs.set(manifestDigest, manifest);
  return { manifest, manifestDigest, config, configDigest, layers, blobs };
}

function buildLayer(spec: LayerSpec, seed: string): { blob: Buffer; info: LayerInfo } {
  const { entries, files, contentBytes } = spec.entries ? explicitEntries(spec.entries) : randomEntries(spec, seed);
  const tar = buildTar(entries);
  // Level 0 stores the (incompressible anyway) data: fast, and the blob size is predictable.
  const blob = gzipSync(tar, { level: 0 });
  return {
    blob,
    info: {
      digest: sha256(blob),
      size: blob.length,
      diffId: sha256(tar),
      mediaType: spec.gated ? GATED_LAYER_MEDIA_TYPE : LAYER_MEDIA_TYPE,
      contentBytes,
      files,
      gated: spec.gated ?? false,
    },
  };
}

function randomEntries(spec: LayerSpec, seed: string): { entries: TarEntry[]; files: number; contentBytes: number } {
  const files = spec.files ?? Math.max(1, Math.ceil(spec.size / (1 << 20)));
  const entries: TarEntry[] = [{ name: "data/" }];
  const content = randomBytesFromSeed(seed, spec.size);
  for (let i = 0, offset = 0; i < files; i++) {
    const length = Math.floor(spec.size / files) + (i < spec.size % files ? 1 : 0);
    entries.push({ name: `data/${seedName(seed)}-${String(i).padStart(4, "0")}`, data: content.subarray(offset, offset + length) });
    offset += length;
  }
  return { entries, files, contentBytes: spec.size };
}

function explicitEntries(entries: readonly TarEntry[]): { entries: TarEntry[]; files: number; contentBytes: number } {
  const regular = entries.filter((e) => e.data !== undefined);
  return { entries: [...entries], files: regular.length, contentBytes: regular.reduce((sum, e) => sum + e.data!.length, 0) };
}

/** A short file-name-safe tag derived from the seed, so unpacked files show where they came from. */
function seedName(seed: string): string {
  return createHash("sha256").update(seed).digest("hex").slice(0, 12);
}

function imageConfig(diffIds: string[], seed: string, spec: ImageSpec): object {
  const run = spec.entrypoint ? { Entrypoint: spec.entrypoint, Cmd: spec.cmd ?? [] } : { Cmd: spec.cmd ?? ["/bin/true"] };
  return {
    created: "2024-01-01T00:00:00Z",
    architecture: goArch(),
    os: "linux",
    config: { ...run, Labels: { "containerd-lab.seed": seed } },
    rootfs: { type: "layers", diff_ids: diffIds },
    history: diffIds.map(() => ({ created: "2024-01-01T00:00:00Z", created_by: "containerd-lab" })),
  };
}

/** containerd only pulls/imports manifests for its own platform, so the config must match it. */
export function goArch(): string {
  const map: Record<string, string> = { x64: "amd64", arm64: "arm64", arm: "arm", ia32: "386", ppc64: "ppc64le", s390x: "s390x" };
  return map[process.arch] ?? process.arch;
}

function json(value: object): Buffer {
  return Buffer.from(JSON.stringify(value));
}

/** An OCI image-layout tar (oci-layout, index.json, blobs/sha256/*) holding one tagged image. */
export function ociArchive(image: BuiltImage, tag: string): Buffer {
  const index = {
    schemaVersion: 2,
    manifests: [
      {
        mediaType: MANIFEST_MEDIA_TYPE,
        digest: image.manifestDigest,
        size: image.manifest.length,
        platform: { architecture: goArch(), os: "linux" },
        annotations: { "org.opencontainers.image.ref.name": tag },
      },
    ],
  };
  const entries: TarEntry[] = [
    { name: "oci-layout", data: json({ imageLayoutVersion: "1.0.0" }) },
    { name: "index.json", data: json(index) },
    { name: "blobs/" },
    { name: "blobs/sha256/" },
  ];
  for (const [digest, data] of image.blobs) entries.push({ name: `blobs/sha256/${digest.slice("sha256:".length)}`, data });
  return buildTar(entries);
}

/** Snapshot names containerd gives unpacked layers: chainID(n) = sha256(chainID(n-1) + " " + diffID(n)). */
export function chainIds(diffIds: readonly string[]): string[] {
  const chain: string[] = [];
  for (const diffId of diffIds) {
    const previous = chain[chain.length - 1];
    chain.push(previous === undefined ? diffId : sha256(`${previous} ${diffId}`));
  }
  return chain;
}
