// The hand-written codec (src/containerd/decode.ts, requests.ts) against protobufjs on the same
// proto/ files: answers that protobufjs encodes decode to the exporter's objects, and requests
// the exporter encodes are what protobufjs reads back.
import * as protoLoader from "@grpc/proto-loader";
import { describe, expect, it } from "vitest";
import * as decode from "../../src/containerd/decode.js";
import { Interner } from "../../src/containerd/intern.js";
import { LOADER_OPTIONS, PROTO_FILES, protoDir } from "../../src/containerd/proto.js";
import * as requests from "../../src/containerd/requests.js";
import { FIXED32, FIXED64, LENGTH, VARINT, WireReader, WireWriter } from "../../src/containerd/wire.js";

const definition = protoLoader.loadSync(PROTO_FILES, { ...LOADER_OPTIONS, includeDirs: [protoDir()] });

function method(service: string, name: string): protoLoader.MethodDefinition<object, object> {
  const svc = definition[`containerd.services.${service}`] as protoLoader.ServiceDefinition;
  const m = svc[name];
  if (!m) throw new Error(`no method ${service}/${name}`);
  return m as protoLoader.MethodDefinition<object, object>;
}

const answer = (service: string, name: string, message: object): Buffer => method(service, name).responseSerialize(message);
const request = (service: string, name: string, buf: Buffer): unknown => method(service, name).requestDeserialize(buf);

const DIGEST_A = `sha256:${"a".repeat(64)}`;
const DIGEST_B = `sha256:${"b".repeat(64)}`;
// 2026-12-01T10:00:00.25Z and a size beyond 32 bits.
const TS = { seconds: "1796119200", nanos: 250_000_000 };
const T = 1796119200.25;
const BIG = 5 * 2 ** 32 + 7;

describe("decoding containerd's answers", () => {
  it("reads blobs with int64 sizes, timestamps and labels, sharing repeated strings", () => {
    const buf = answer("content.v1.Content", "List", {
      info: [
        { digest: DIGEST_A, size: String(BIG), created_at: TS, updated_at: TS, labels: { "containerd.io/gc.ref.content.l.0": DIGEST_B, "é": "ü" } },
        { digest: DIGEST_B, size: "12" },
      ],
    });
    const strings = new Interner();
    const blobs = decode.decodeContentPage(buf, strings);
    expect(blobs).toEqual([
      { digest: DIGEST_A, size: BIG, createdAt: T, updatedAt: T, labels: { "containerd.io/gc.ref.content.l.0": DIGEST_B, "é": "ü" } },
      { digest: DIGEST_B, size: 12, createdAt: 0, updatedAt: 0, labels: {} },
    ]);
    // The label value and the second blob's digest are one string.
    expect(strings.intern(`sha256:${"b".repeat(64)}`)).toBe(blobs[0]?.labels["containerd.io/gc.ref.content.l.0"]);
    expect(Object.isFrozen(blobs[1]?.labels)).toBe(true);
  });

  it("reads negative int64 (Go's zero time) and the largest exact one", () => {
    const buf = answer("leases.v1.Leases", "List", {
      leases: [
        { id: "zero", created_at: { seconds: "-62135596800", nanos: 0 } },
        { id: "max", created_at: { seconds: String(2 ** 53 - 1), nanos: 0 }, labels: { "containerd.io/gc.expire": "2026-12-02T00:00:00Z" } },
      ],
    });
    expect(decode.decodeLeases(buf, new Interner())).toEqual([
      { id: "zero", createdAt: -62135596800, labels: {} },
      { id: "max", createdAt: 2 ** 53 - 1, labels: { "containerd.io/gc.expire": "2026-12-02T00:00:00Z" } },
    ]);
  });

  it("reads lease resources, ingests and usage", () => {
    expect(
      decode.decodeLeaseResources(
        answer("leases.v1.Leases", "ListResources", { resources: [{ id: DIGEST_A, type: "content" }, { id: "x", type: "snapshots/overlayfs" }] }),
        new Interner(),
      ),
    ).toEqual([
      { type: "content", id: DIGEST_A },
      { type: "snapshots/overlayfs", id: "x" },
    ]);
    expect(
      decode.decodeIngests(
        answer("content.v1.Content", "ListStatuses", {
          statuses: [{ ref: "default/1/layer-sha256:x", offset: String(BIG), total: "9000000000", expected: DIGEST_A, started_at: TS, updated_at: TS }],
        }),
        new Interner(),
      ),
    ).toEqual([{ ref: "default/1/layer-sha256:x", offset: BIG, total: 9_000_000_000, expected: DIGEST_A, startedAt: T, updatedAt: T }]);
    expect(decode.decodeUsage(answer("snapshots.v1.Snapshots", "Usage", { size: String(BIG), inodes: "3" }), new Interner())).toEqual({
      size: BIG,
      inodes: 3,
    });
    expect(decode.decodeUsage(answer("snapshots.v1.Snapshots", "Usage", {}), new Interner())).toEqual({ size: 0, inodes: 0 });
  });

  it("reads snapshots of every kind as records of their snapshotter, usage still to measure", () => {
    const buf = answer("snapshots.v1.Snapshots", "List", {
      info: [
        { name: "sha256:c1", parent: "", kind: "COMMITTED", created_at: TS, updated_at: TS },
        { name: "extract-1", parent: "sha256:c1", kind: "ACTIVE", labels: { "containerd.io/gc.root": "x" } },
        { name: "v", kind: "VIEW" },
        { name: "u", kind: "UNKNOWN" },
      ],
    });
    const strings = new Interner();
    const records = decode.decodeSnapshotPage("native")(buf, strings);
    expect(records).toEqual([
      { name: "sha256:c1", parent: "", kind: "committed", createdAt: T, updatedAt: T, labels: {}, snapshotter: "native", usage: null },
      { name: "extract-1", parent: "sha256:c1", kind: "active", createdAt: 0, updatedAt: 0, labels: { "containerd.io/gc.root": "x" }, snapshotter: "native", usage: null },
      { name: "v", parent: "", kind: "view", createdAt: 0, updatedAt: 0, labels: {}, snapshotter: "native", usage: null },
      { name: "u", parent: "", kind: "unknown", createdAt: 0, updatedAt: 0, labels: {}, snapshotter: "native", usage: null },
    ]);
    expect(records[1]?.parent).toBe(records[0]?.name);
  });

  it("reads images without their annotations and containers without their spec", () => {
    const images = decode.decodeImages(
      answer("images.v1.Images", "List", {
        images: [
          {
            name: "docker.io/library/busybox:latest",
            labels: { a: "b" },
            target: { media_type: "application/vnd.oci.image.index.v1+json", digest: DIGEST_A, size: "512", annotations: { k: "v" } },
            created_at: TS,
            updated_at: TS,
          },
          { name: "no-target" },
        ],
      }),
      new Interner(),
    );
    expect(images).toEqual([
      {
        name: "docker.io/library/busybox:latest",
        target: { mediaType: "application/vnd.oci.image.index.v1+json", digest: DIGEST_A, size: 512 },
        labels: { a: "b" },
        createdAt: T,
        updatedAt: T,
      },
      { name: "no-target", target: { mediaType: "", digest: "", size: 0 }, labels: {}, createdAt: 0, updatedAt: 0 },
    ]);
    const containers = decode.decodeContainers(
      answer("containers.v1.Containers", "List", {
        containers: [
          {
            id: "web-1",
            labels: { "io.kubernetes.pod.name": "web" },
            image: "docker.io/library/busybox:latest",
            runtime: { name: "io.containerd.runc.v2" },
            spec: { type_url: "types.containerd.io/opencontainers/runtime-spec/1/Spec", value: Buffer.from("{}".repeat(500)) },
            snapshotter: "overlayfs",
            snapshot_key: "web-1",
            created_at: TS,
            updated_at: TS,
          },
        ],
      }),
      new Interner(),
    );
    expect(containers).toEqual([
      {
        id: "web-1",
        image: "docker.io/library/busybox:latest",
        snapshotter: "overlayfs",
        snapshotKey: "web-1",
        labels: { "io.kubernetes.pod.name": "web" },
        createdAt: T,
      },
    ]);
  });

  it("reads sandboxes' ids, labels and creation times, skipping their runtime and spec", () => {
    const sandboxes = decode.decodeSandboxes(
      answer("sandbox.v1.Store", "List", {
        list: [
          {
            sandbox_id: "pod-1",
            runtime: { name: "io.containerd.runc.v2" },
            spec: { type_url: "types.containerd.io/opencontainers/runtime-spec/1/Spec", value: Buffer.from("{}".repeat(100)) },
            labels: { "containerd.io/gc.ref.content.m": DIGEST_A },
            created_at: TS,
            updated_at: TS,
            sandboxer: "podsandbox",
          },
          { sandbox_id: "bare" },
        ],
      }),
      new Interner(),
    );
    expect(sandboxes).toEqual([
      { id: "pod-1", labels: { "containerd.io/gc.ref.content.m": DIGEST_A }, createdAt: T },
      { id: "bare", labels: {}, createdAt: 0 },
    ]);
  });

  it("reads namespaces, the version and plugins with their init errors", () => {
    expect(
      decode.decodeNamespaces(answer("namespaces.v1.Namespaces", "List", { namespaces: [{ name: "moby", labels: { x: "y" } }, { name: "k8s.io" }] }), new Interner()),
    ).toEqual(["moby", "k8s.io"]);
    expect(decode.decodeVersion(answer("version.v1.Version", "Version", { version: "1.6.20~ds1", revision: "r" }), new Interner())).toEqual({
      version: "1.6.20~ds1",
      revision: "r",
    });
    expect(
      decode.decodePlugins(
        answer("introspection.v1.Introspection", "Plugins", {
          plugins: [
            { type: "io.containerd.snapshotter.v1", id: "overlayfs", exports: { root: "/var/lib/containerd/x" } },
            { type: "io.containerd.snapshotter.v1", id: "btrfs", init_err: { code: 9, message: "path must be a btrfs filesystem" } },
            { type: "io.containerd.snapshotter.v1", id: "zfs", init_err: { code: 9 } },
          ],
        }),
        new Interner(),
      ),
    ).toEqual([
      { type: "io.containerd.snapshotter.v1", id: "overlayfs", exports: { root: "/var/lib/containerd/x" } },
      { type: "io.containerd.snapshotter.v1", id: "btrfs", exports: {}, initError: "path must be a btrfs filesystem" },
      { type: "io.containerd.snapshotter.v1", id: "zfs", exports: {}, initError: "code 9" },
    ]);
  });

  it("skips fields it does not know, of every wire type, at any depth", () => {
    // A Plugin as a newer containerd sends it: requires (3), platforms (4), capabilities (6),
    // plus fixed-width fields no version has.
    const plugin = new WireWriter()
      .string(1, "io.containerd.snapshotter.v1")
      .string(3, "io.containerd.content.v1")
      .message(4, (w) => w.string(1, "linux").string(2, "amd64"))
      .string(2, "overlayfs")
      .string(6, "remap-ids")
      .finish();
    const withFixed = Buffer.concat([plugin, Buffer.from([(12 << 3) | FIXED64, 1, 2, 3, 4, 5, 6, 7, 8, (13 << 3) | FIXED32, 1, 2, 3, 4, (14 << 3) | VARINT, 0xff, 0xff, 0x03])]);
    const buf = new WireWriter().bytes(1, withFixed).bytes(9, Buffer.from("ignored")).finish();
    expect(decode.decodePlugins(buf, new Interner())).toEqual([{ type: "io.containerd.snapshotter.v1", id: "overlayfs", exports: {} }]);
  });

  it("refuses truncated answers instead of reading past them", () => {
    const buf = answer("content.v1.Content", "List", { info: [{ digest: DIGEST_A, size: "1" }] });
    expect(() => decode.decodeContentPage(buf.subarray(0, buf.length - 3), new Interner())).toThrow(/past the end|truncated/);
    expect(() => new WireReader(Buffer.from([0x80, 0x80])).int64()).toThrow(/truncated/);
    expect(() => new WireReader(Buffer.from([(1 << 3) | 3])).skip(3)).toThrow(/wire type 3/);
    expect(LENGTH).toBe(2);
  });
});

describe("encoding the exporter's requests", () => {
  it("writes what protobufjs reads back", () => {
    expect(request("introspection.v1.Introspection", "Plugins", requests.plugins(["type==io.containerd.snapshotter.v1", "id==é"]))).toEqual({
      filters: ["type==io.containerd.snapshotter.v1", "id==é"],
    });
    expect(request("leases.v1.Leases", "ListResources", requests.leaseId("lease-1"))).toEqual({ id: "lease-1" });
    expect(request("leases.v1.Leases", "Create", requests.createLease("l", { "containerd.io/gc.expire": "2026-12-02T00:00:00Z", a: "" }))).toEqual({
      id: "l",
      labels: { "containerd.io/gc.expire": "2026-12-02T00:00:00Z", a: "" },
    });
    expect(request("leases.v1.Leases", "Delete", requests.deleteLease("l", true))).toEqual({ id: "l", sync: true });
    expect(request("leases.v1.Leases", "Delete", requests.deleteLease("l", false))).toEqual({ id: "l", sync: false });
    expect(request("leases.v1.Leases", "AddResource", requests.addLeaseResource("l", { type: "snapshots/overlayfs", id: "s" }))).toEqual({
      id: "l",
      resource: { id: "s", type: "snapshots/overlayfs" },
    });
    expect(request("content.v1.Content", "Abort", requests.abortIngest("ref-1"))).toEqual({ ref: "ref-1" });
    expect(request("snapshots.v1.Snapshots", "List", requests.listSnapshots("overlayfs"))).toEqual({ snapshotter: "overlayfs", filters: [] });
    expect(request("snapshots.v1.Snapshots", "Usage", requests.snapshotUsage("overlayfs", "k".repeat(300)))).toEqual({
      snapshotter: "overlayfs",
      key: "k".repeat(300),
    });
    expect(request("content.v1.Content", "List", requests.empty())).toEqual({ filters: [] });
  });
});
