/**
 * containerd's answers decoded straight from the wire into the plain objects of types.ts.
 * Field numbers are those of proto/ (test/containerd/decode.test.ts checks each decoder
 * against protobufjs on the same files). Compared with proto-loader's decode + toObject this
 * builds each object once, reads int64 as a Number instead of a Long turned into a string,
 * fills no defaults objects, skips what the exporter never reads (a container's OCI spec,
 * an image's annotations) and shares repeated strings through the read's Interner.
 */
import type { Interner } from "./intern.js";
import type {
  ContainerInfo,
  ContentInfo,
  ImageInfo,
  IngestStatus,
  Labels,
  Lease,
  LeaseResource,
  PluginInfo,
  SandboxInfo,
  SnapshotKind,
  SnapshotRecord,
  SnapshotUsage,
  VersionInfo,
} from "./types.js";
import { LENGTH, VARINT, WireReader } from "./wire.js";

export type Decode<T> = (buf: Buffer, strings: Interner) => T;

/** Shared by every object without labels (most snapshots and leases' resources): never written to. */
export const NO_LABELS: Labels = Object.freeze({}) as Labels;

/** A google.protobuf.Timestamp field as fractional epoch seconds. */
function timestamp(r: WireReader): number {
  const outer = r.enter();
  let seconds = 0;
  let nanos = 0;
  while (!r.done) {
    const tag = r.tag();
    if (tag === (1 << 3) + VARINT) seconds = r.int64();
    else if (tag === (2 << 3) + VARINT) nanos = r.int32();
    else r.skip(tag & 7);
  }
  r.leave(outer);
  return seconds + nanos / 1e9;
}

/** One map<string, string> entry added to `labels` (a fresh object for the first one). */
function labelEntry(r: WireReader, labels: Labels, strings: Interner): Labels {
  const outer = r.enter();
  let key = "";
  let value = "";
  while (!r.done) {
    const tag = r.tag();
    if (tag === (1 << 3) + LENGTH) key = r.string();
    else if (tag === (2 << 3) + LENGTH) value = strings.intern(r.string());
    else r.skip(tag & 7);
  }
  r.leave(outer);
  const out = labels === NO_LABELS ? {} : labels;
  out[key] = value;
  return out;
}

/** Reads every `field` submessage of a list answer with `item`. */
function list<T>(buf: Buffer, field: number, item: (r: WireReader) => T): T[] {
  const r = new WireReader(buf);
  const out: T[] = [];
  const wanted = (field << 3) + LENGTH;
  while (!r.done) {
    const tag = r.tag();
    if (tag !== wanted) {
      r.skip(tag & 7);
      continue;
    }
    const outer = r.enter();
    out.push(item(r));
    r.leave(outer);
  }
  return out;
}

export const decodeNamespaces: Decode<string[]> = (buf) =>
  list(buf, 1, (r) => {
    let name = "";
    while (!r.done) {
      const tag = r.tag();
      if (tag === (1 << 3) + LENGTH) name = r.string();
      else r.skip(tag & 7);
    }
    return name;
  });

export const decodeVersion: Decode<VersionInfo> = (buf) => {
  const r = new WireReader(buf);
  let version = "";
  let revision = "";
  while (!r.done) {
    const tag = r.tag();
    if (tag === (1 << 3) + LENGTH) version = r.string();
    else if (tag === (2 << 3) + LENGTH) revision = r.string();
    else r.skip(tag & 7);
  }
  return { version, revision };
};

/** google.rpc.Status: the message, else the code. */
function initError(r: WireReader): string {
  const outer = r.enter();
  let code = 0;
  let message = "";
  while (!r.done) {
    const tag = r.tag();
    if (tag === (1 << 3) + VARINT) code = r.int32();
    else if (tag === (2 << 3) + LENGTH) message = r.string();
    else r.skip(tag & 7);
  }
  r.leave(outer);
  return message || `code ${code}`;
}

export const decodePlugins: Decode<PluginInfo[]> = (buf, strings) =>
  list(buf, 1, (r) => {
    let type = "";
    let id = "";
    let exports = NO_LABELS;
    let error: string | undefined;
    while (!r.done) {
      const tag = r.tag();
      if (tag === (1 << 3) + LENGTH) type = r.string();
      else if (tag === (2 << 3) + LENGTH) id = r.string();
      else if (tag === (5 << 3) + LENGTH) exports = labelEntry(r, exports, strings);
      else if (tag === (7 << 3) + LENGTH) error = initError(r);
      else r.skip(tag & 7);
    }
    return error === undefined ? { type, id, exports } : { type, id, exports, initError: error };
  });

export const decodeLeases: Decode<Lease[]> = (buf, strings) =>
  list(buf, 1, (r) => {
    let id = "";
    let createdAt = 0;
    let labels = NO_LABELS;
    while (!r.done) {
      const tag = r.tag();
      if (tag === (1 << 3) + LENGTH) id = r.string();
      else if (tag === (2 << 3) + LENGTH) createdAt = timestamp(r);
      else if (tag === (3 << 3) + LENGTH) labels = labelEntry(r, labels, strings);
      else r.skip(tag & 7);
    }
    return { id, createdAt, labels };
  });

export const decodeLeaseResources: Decode<LeaseResource[]> = (buf, strings) =>
  list(buf, 1, (r) => {
    let id = "";
    let type = "";
    while (!r.done) {
      const tag = r.tag();
      if (tag === (1 << 3) + LENGTH) id = strings.intern(r.string());
      else if (tag === (2 << 3) + LENGTH) type = strings.intern(r.string());
      else r.skip(tag & 7);
    }
    return { type, id };
  });

/** One streamed Content/List message: up to 100 blobs. */
export const decodeContentPage: Decode<ContentInfo[]> = (buf, strings) =>
  list(buf, 1, (r) => {
    let digest = "";
    let size = 0;
    let createdAt = 0;
    let updatedAt = 0;
    let labels = NO_LABELS;
    while (!r.done) {
      const tag = r.tag();
      if (tag === (1 << 3) + LENGTH) digest = strings.intern(r.string());
      else if (tag === (2 << 3) + VARINT) size = r.int64();
      else if (tag === (3 << 3) + LENGTH) createdAt = timestamp(r);
      else if (tag === (4 << 3) + LENGTH) updatedAt = timestamp(r);
      else if (tag === (5 << 3) + LENGTH) labels = labelEntry(r, labels, strings);
      else r.skip(tag & 7);
    }
    return { digest, size, createdAt, updatedAt, labels };
  });

export const decodeIngests: Decode<IngestStatus[]> = (buf, strings) =>
  list(buf, 1, (r) => {
    let startedAt = 0;
    let updatedAt = 0;
    let ref = "";
    let offset = 0;
    let total = 0;
    let expected = "";
    while (!r.done) {
      const tag = r.tag();
      if (tag === (1 << 3) + LENGTH) startedAt = timestamp(r);
      else if (tag === (2 << 3) + LENGTH) updatedAt = timestamp(r);
      else if (tag === (3 << 3) + LENGTH) ref = strings.intern(r.string());
      else if (tag === (4 << 3) + VARINT) offset = r.int64();
      else if (tag === (5 << 3) + VARINT) total = r.int64();
      else if (tag === (6 << 3) + LENGTH) expected = strings.intern(r.string());
      else r.skip(tag & 7);
    }
    return { ref, offset, total, expected, startedAt, updatedAt };
  });

const KINDS: readonly SnapshotKind[] = ["unknown", "view", "active", "committed"];

/**
 * One streamed Snapshots/List message, as records of `snapshotter` whose usage is still to
 * be measured (the collector fills it in place: no second object per snapshot).
 */
export function decodeSnapshotPage(snapshotter: string): Decode<SnapshotRecord[]> {
  return (buf, strings) =>
    list(buf, 1, (r) => {
      let name = "";
      let parent = "";
      let kind: SnapshotKind = "unknown";
      let createdAt = 0;
      let updatedAt = 0;
      let labels = NO_LABELS;
      while (!r.done) {
        const tag = r.tag();
        if (tag === (1 << 3) + LENGTH) name = strings.intern(r.string());
        else if (tag === (2 << 3) + LENGTH) parent = strings.intern(r.string());
        else if (tag === (3 << 3) + VARINT) kind = KINDS[r.uint32()] ?? "unknown";
        else if (tag === (4 << 3) + LENGTH) createdAt = timestamp(r);
        else if (tag === (5 << 3) + LENGTH) updatedAt = timestamp(r);
        else if (tag === (6 << 3) + LENGTH) labels = labelEntry(r, labels, strings);
        else r.skip(tag & 7);
      }
      return { name, parent, kind, createdAt, updatedAt, labels, snapshotter, usage: null };
    });
}

export const decodeUsage: Decode<SnapshotUsage> = (buf) => {
  const r = new WireReader(buf);
  let size = 0;
  let inodes = 0;
  while (!r.done) {
    const tag = r.tag();
    if (tag === (1 << 3) + VARINT) size = r.int64();
    else if (tag === (2 << 3) + VARINT) inodes = r.int64();
    else r.skip(tag & 7);
  }
  return { size, inodes };
};

/** containerd.types.Descriptor without its annotations. */
function descriptor(r: WireReader, strings: Interner): ImageInfo["target"] {
  const outer = r.enter();
  let mediaType = "";
  let digest = "";
  let size = 0;
  while (!r.done) {
    const tag = r.tag();
    if (tag === (1 << 3) + LENGTH) mediaType = strings.intern(r.string());
    else if (tag === (2 << 3) + LENGTH) digest = strings.intern(r.string());
    else if (tag === (3 << 3) + VARINT) size = r.int64();
    else r.skip(tag & 7);
  }
  r.leave(outer);
  return { mediaType, digest, size };
}

const NO_TARGET: ImageInfo["target"] = Object.freeze({ mediaType: "", digest: "", size: 0 });

export const decodeImages: Decode<ImageInfo[]> = (buf, strings) =>
  list(buf, 1, (r) => {
    let name = "";
    let labels = NO_LABELS;
    let target = NO_TARGET;
    let createdAt = 0;
    let updatedAt = 0;
    while (!r.done) {
      const tag = r.tag();
      if (tag === (1 << 3) + LENGTH) name = strings.intern(r.string());
      else if (tag === (2 << 3) + LENGTH) labels = labelEntry(r, labels, strings);
      else if (tag === (3 << 3) + LENGTH) target = descriptor(r, strings);
      else if (tag === (7 << 3) + LENGTH) createdAt = timestamp(r);
      else if (tag === (8 << 3) + LENGTH) updatedAt = timestamp(r);
      else r.skip(tag & 7);
    }
    return { name, target, labels, createdAt, updatedAt };
  });

export const decodeContainers: Decode<ContainerInfo[]> = (buf, strings) =>
  list(buf, 1, (r) => {
    let id = "";
    let labels = NO_LABELS;
    let image = "";
    let snapshotter = "";
    let snapshotKey = "";
    let createdAt = 0;
    while (!r.done) {
      const tag = r.tag();
      if (tag === (1 << 3) + LENGTH) id = r.string();
      else if (tag === (2 << 3) + LENGTH) labels = labelEntry(r, labels, strings);
      else if (tag === (3 << 3) + LENGTH) image = strings.intern(r.string());
      else if (tag === (6 << 3) + LENGTH) snapshotter = strings.intern(r.string());
      else if (tag === (7 << 3) + LENGTH) snapshotKey = strings.intern(r.string());
      else if (tag === (8 << 3) + LENGTH) createdAt = timestamp(r);
      else r.skip(tag & 7);
    }
    return { id, image, snapshotter, snapshotKey, labels, createdAt };
  });

/** StoreListResponse{list=1: Sandbox{sandbox_id=1, labels=4, created_at=5}}: what GC reads of a sandbox. */
export const decodeSandboxes: Decode<SandboxInfo[]> = (buf, strings) =>
  list(buf, 1, (r) => {
    let id = "";
    let labels = NO_LABELS;
    let createdAt = 0;
    while (!r.done) {
      const tag = r.tag();
      if (tag === (1 << 3) + LENGTH) id = r.string();
      else if (tag === (4 << 3) + LENGTH) labels = labelEntry(r, labels, strings);
      else if (tag === (5 << 3) + LENGTH) createdAt = timestamp(r);
      else r.skip(tag & 7);
    }
    return { id, labels, createdAt };
  });
