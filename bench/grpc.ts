// The seeder's own gRPC client: the write side of containerd's API that the exporter never
// needs (Content/Write, Snapshots/Prepare+Commit, Images/Create, Containers/Create, Leases
// Create/AddResource/Delete). Built from the same proto files as src/containerd/client.ts
// (loadContainerdProto), on one channel, with the namespace header on every call and, when
// given, the `containerd-lease` header that makes containerd add whatever the call creates to
// that lease in the same transaction (how real clients protect a pull from the GC).
import * as grpc from "@grpc/grpc-js";
import { loadContainerdProto } from "../src/containerd/proto.js";
import { socketPathOf } from "../src/containerd/client.js";

type AnyClient = grpc.Client & Record<string, (...args: unknown[]) => unknown>;

export interface SeedCallOptions {
  /** Attach what the call creates to this lease (containerd's `containerd-lease` gRPC header). */
  lease?: string;
  timeoutMs?: number;
}

export interface Mount {
  type: string;
  source: string;
  target: string;
  options: string[];
}

export interface Descriptor {
  media_type: string;
  digest: string;
  size: number;
}

export class SeedClient {
  readonly callCounts = new Map<string, number>();
  private readonly channel: grpc.Channel;
  private readonly services: Record<string, AnyClient>;

  constructor(address: string) {
    const target = `unix://${socketPathOf(address)}`;
    const credentials = grpc.credentials.createInsecure();
    this.channel = new grpc.Channel(target, credentials, { "grpc.max_receive_message_length": 16 << 20 });
    const s = loadContainerdProto().containerd.services;
    const make = (ctor: typeof grpc.Client): AnyClient =>
      new ctor(target, credentials, { channelOverride: this.channel }) as AnyClient;
    this.services = {
      Leases: make(s.leases.v1.Leases),
      Content: make(s.content.v1.Content),
      Snapshots: make(s.snapshots.v1.Snapshots),
      Images: make(s.images.v1.Images),
      Containers: make(s.containers.v1.Containers),
    };
  }

  close(): void {
    for (const client of Object.values(this.services)) client.close();
    this.channel.close();
  }

  // --- leases ------------------------------------------------------------------------

  async createLease(ns: string, id: string, labels: Record<string, string>): Promise<void> {
    await this.unary(ns, "Leases", "Create", { id, labels });
  }

  async addResource(ns: string, lease: string, resource: { type: string; id: string }): Promise<void> {
    await this.unary(ns, "Leases", "AddResource", { id: lease, resource });
  }

  /** With sync, answers after a full garbage collection. */
  async deleteLease(ns: string, id: string, sync: boolean): Promise<void> {
    await this.unary(ns, "Leases", "Delete", { id, sync }, { timeoutMs: 600_000 });
  }

  // --- content -----------------------------------------------------------------------

  /** Writes and commits one blob in a single WRITE+COMMIT message. */
  async writeBlob(
    ns: string,
    ref: string,
    data: Buffer,
    digest: string,
    labels: Record<string, string>,
    options: SeedCallOptions = {},
  ): Promise<void> {
    await this.writeStream(ns, [{ action: "COMMIT", ref, total: data.length, expected: digest, offset: 0, data, labels }], options);
  }

  /**
   * An ingest: STAT, then WRITE of the first `data.length` bytes of a `total`-byte blob, and no
   * COMMIT, the way a download cut off mid-way leaves it.
   */
  async writeIngest(ns: string, ref: string, data: Buffer, total: number, expected: string, options: SeedCallOptions = {}): Promise<void> {
    await this.writeStream(
      ns,
      [
        { action: "STAT", ref, total, expected },
        { action: "WRITE", ref, total, expected, offset: 0, data },
      ],
      options,
    );
  }

  // --- snapshots ---------------------------------------------------------------------

  async prepare(
    ns: string,
    snapshotter: string,
    key: string,
    parent: string,
    labels: Record<string, string> = {},
    options: SeedCallOptions = {},
  ): Promise<Mount[]> {
    const res = await this.unary<{ mounts: Mount[] }>(ns, "Snapshots", "Prepare", { snapshotter, key, parent, labels }, options);
    return res.mounts;
  }

  async commit(
    ns: string,
    snapshotter: string,
    name: string,
    key: string,
    labels: Record<string, string> = {},
    options: SeedCallOptions = {},
  ): Promise<void> {
    await this.unary(ns, "Snapshots", "Commit", { snapshotter, name, key, labels }, options);
  }

  // --- images and containers ---------------------------------------------------------

  async createImage(ns: string, name: string, target: Descriptor, labels: Record<string, string> = {}): Promise<void> {
    await this.unary(ns, "Images", "Create", { image: { name, labels, target } });
  }

  async createContainer(
    ns: string,
    container: { id: string; image: string; snapshotter: string; snapshotKey: string; labels?: Record<string, string> },
  ): Promise<void> {
    const spec = Buffer.from(JSON.stringify({ ociVersion: "1.0.2", process: { args: ["/bin/true"], cwd: "/" }, root: { path: "rootfs" } }));
    await this.unary(ns, "Containers", "Create", {
      container: {
        id: container.id,
        labels: container.labels ?? {},
        image: container.image,
        runtime: { name: "io.containerd.runc.v2" },
        spec: { type_url: "types.containerd.io/opencontainers/runtime-spec/1/Spec", value: spec },
        snapshotter: container.snapshotter,
        snapshot_key: container.snapshotKey,
      },
    });
  }

  // --- plumbing ----------------------------------------------------------------------

  private metadata(ns: string, options: SeedCallOptions): grpc.Metadata {
    const md = new grpc.Metadata();
    md.set("containerd-namespace", ns);
    if (options.lease) md.set("containerd-lease", options.lease);
    return md;
  }

  private count(service: string, method: string): void {
    const key = `${service}/${method}`;
    this.callCounts.set(key, (this.callCounts.get(key) ?? 0) + 1);
  }

  private unary<T = unknown>(ns: string, service: string, method: string, request: object, options: SeedCallOptions = {}): Promise<T> {
    this.count(service, method);
    const client = this.services[service] as AnyClient;
    const deadline = Date.now() + (options.timeoutMs ?? 60_000);
    return new Promise<T>((resolve, reject) => {
      (client[method] as (...args: unknown[]) => unknown).call(
        client,
        request,
        this.metadata(ns, options),
        { deadline },
        (error: grpc.ServiceError | null, response: T) => {
          if (error) reject(new Error(`${service}/${method} in ${ns}: ${error.details || error.message}`));
          else resolve(response);
        },
      );
    });
  }

  private writeStream(ns: string, messages: object[], options: SeedCallOptions): Promise<void> {
    this.count("Content", "Write");
    const client = this.services.Content as AnyClient;
    const deadline = Date.now() + (options.timeoutMs ?? 60_000);
    return new Promise<void>((resolve, reject) => {
      const call = (client.Write as (...args: unknown[]) => grpc.ClientDuplexStream<object, object>).call(
        client,
        this.metadata(ns, options),
        { deadline },
      );
      call.on("data", () => undefined);
      call.on("error", (error: grpc.ServiceError) =>
        reject(new Error(`Content/Write in ${ns}: ${error.details || error.message}`)),
      );
      call.on("end", () => resolve());
      for (const message of messages) call.write(message);
      call.end();
    });
  }
}
