import * as grpc from "@grpc/grpc-js";
import { int64, seconds, snapshotKind } from "./convert.js";
import { type CallContext, toContainerdError } from "./errors.js";
import { loadContainerdProto } from "./proto.js";
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
  SnapshotInfo,
  SnapshotUsage,
  VersionInfo,
} from "./types.js";

export const DEFAULT_ADDRESS = "/run/containerd/containerd.sock";
const MAX_RECEIVE_BYTES = 16 * 1024 * 1024; // containerd's own limit; grpc-js defaults to 4 MiB

export interface ClientOptions {
  /** A socket path, or a unix:// target. */
  address: string;
  /** Budget of a call that is given no deadline of its own. */
  callTimeoutMs?: number;
}

export interface CallOptions {
  /** Absolute deadline in epoch milliseconds; the call's own budget still applies if it is earlier. */
  deadline?: number;
  /** This call's own budget instead of the client's default (a synchronous GC can take long). */
  timeoutMs?: number;
}

export function socketPathOf(address: string): string {
  return address.replace(/^unix:(\/\/)?/, "");
}

type AnyClient = grpc.Client & Record<string, (...args: unknown[]) => unknown>;

/**
 * A thin client for the parts of containerd's gRPC API the exporter reads.
 * One channel serves every service. Each call carries a deadline and the
 * containerd-namespace header, and fails with a ContainerdError that says
 * what to do about it.
 */
export class ContainerdClient {
  readonly socketPath: string;
  /** Calls issued, by "Service/Method": the benchmark reads it. */
  readonly callCounts = new Map<string, number>();
  private readonly channel: grpc.Channel;
  private readonly services: Record<string, AnyClient>;
  private readonly callTimeoutMs: number;

  constructor(options: ClientOptions) {
    this.socketPath = socketPathOf(options.address);
    this.callTimeoutMs = options.callTimeoutMs ?? 10_000;
    const channelOptions: grpc.ChannelOptions = {
      "grpc.max_receive_message_length": MAX_RECEIVE_BYTES,
      // grpc's default backoff grows to two minutes after containerd restarts;
      // a scraper must see it back on the next scrape.
      "grpc.initial_reconnect_backoff_ms": 100,
      "grpc.max_reconnect_backoff_ms": 1000,
    };
    const target = `unix://${this.socketPath}`;
    const credentials = grpc.credentials.createInsecure();
    this.channel = new grpc.Channel(target, credentials, channelOptions);
    const proto = loadContainerdProto();
    const make = (ctor: typeof grpc.Client): AnyClient =>
      new ctor(target, credentials, { channelOverride: this.channel }) as AnyClient;
    const services = proto.containerd.services;
    this.services = {
      Namespaces: make(services.namespaces.v1.Namespaces),
      Leases: make(services.leases.v1.Leases),
      Content: make(services.content.v1.Content),
      Snapshots: make(services.snapshots.v1.Snapshots),
      Images: make(services.images.v1.Images),
      Containers: make(services.containers.v1.Containers),
      Sandboxes: make(services.sandbox.v1.Store),
      Introspection: make(services.introspection.v1.Introspection),
      Version: make(services.version.v1.Version),
    };
  }

  close(): void {
    for (const client of Object.values(this.services)) client.close();
    this.channel.close();
  }

  // --- namespaces, version, plugins -------------------------------------------------

  async listNamespaces(options: CallOptions = {}): Promise<string[]> {
    const res = await this.unary<{ namespaces: { name: string }[] }>("Namespaces", "List", undefined, {}, options);
    return res.namespaces.map((ns) => ns.name).sort();
  }

  async version(options: CallOptions = {}): Promise<VersionInfo> {
    return this.unary<VersionInfo>("Version", "Version", undefined, {}, options);
  }

  async plugins(filters: string[], options: CallOptions = {}): Promise<PluginInfo[]> {
    type Raw = { type: string; id: string; exports: Labels; init_err: { code: number; message: string } | null };
    const res = await this.unary<{ plugins: Raw[] }>("Introspection", "Plugins", undefined, { filters }, options);
    return res.plugins.map((p) => ({
      type: p.type,
      id: p.id,
      exports: p.exports,
      ...(p.init_err ? { initError: p.init_err.message || `code ${p.init_err.code}` } : {}),
    }));
  }

  // --- leases ------------------------------------------------------------------------

  async listLeases(namespace: string, options: CallOptions = {}): Promise<Lease[]> {
    type Raw = { id: string; created_at: Parameters<typeof seconds>[0]; labels: Labels };
    const res = await this.unary<{ leases: Raw[] }>("Leases", "List", namespace, {}, options);
    return res.leases.map((l) => ({ id: l.id, createdAt: seconds(l.created_at), labels: l.labels }));
  }

  async listLeaseResources(namespace: string, id: string, options: CallOptions = {}): Promise<LeaseResource[]> {
    const res = await this.unary<{ resources: LeaseResource[] }>("Leases", "ListResources", namespace, { id }, options);
    return res.resources.map((r) => ({ type: r.type, id: r.id }));
  }

  async createLease(namespace: string, id: string, labels: Labels, options: CallOptions = {}): Promise<void> {
    await this.unary("Leases", "Create", namespace, { id, labels }, options);
  }

  /** With sync, containerd answers only after a full garbage collection. */
  async deleteLease(namespace: string, id: string, sync: boolean, options: CallOptions = {}): Promise<void> {
    await this.unary("Leases", "Delete", namespace, { id, sync }, options);
  }

  async addLeaseResource(
    namespace: string,
    id: string,
    resource: LeaseResource,
    options: CallOptions = {},
  ): Promise<void> {
    await this.unary("Leases", "AddResource", namespace, { id, resource }, options);
  }

  // --- content -----------------------------------------------------------------------

  async *listContent(namespace: string, options: CallOptions = {}): AsyncGenerator<ContentInfo> {
    for await (const page of this.listContentPages(namespace, options)) yield* page;
  }

  /** Content/List one streamed message (up to 100 blobs) at a time: far less per-item overhead for large stores. */
  async *listContentPages(namespace: string, options: CallOptions = {}): AsyncGenerator<ContentInfo[]> {
    type Raw = { digest: string; size: string; created_at: never; updated_at: never; labels: Labels };
    for await (const page of this.stream<{ info: Raw[] }>("Content", "List", namespace, {}, options)) {
      yield page.info.map((i) => ({
        digest: i.digest,
        size: int64(i.size),
        createdAt: seconds(i.created_at),
        updatedAt: seconds(i.updated_at),
        labels: i.labels,
      }));
    }
  }

  async listIngests(namespace: string, options: CallOptions = {}): Promise<IngestStatus[]> {
    type Raw = { ref: string; offset: string; total: string; expected: string; started_at: never; updated_at: never };
    const res = await this.unary<{ statuses: Raw[] }>("Content", "ListStatuses", namespace, {}, options);
    return res.statuses.map((s) => ({
      ref: s.ref,
      offset: int64(s.offset),
      total: int64(s.total),
      expected: s.expected,
      startedAt: seconds(s.started_at),
      updatedAt: seconds(s.updated_at),
    }));
  }

  async abortIngest(namespace: string, ref: string, options: CallOptions = {}): Promise<void> {
    await this.unary("Content", "Abort", namespace, { ref }, options);
  }

  // --- snapshots ---------------------------------------------------------------------

  async *listSnapshots(namespace: string, snapshotter: string, options: CallOptions = {}): AsyncGenerator<SnapshotInfo> {
    for await (const page of this.listSnapshotPages(namespace, snapshotter, options)) yield* page;
  }

  /** Snapshots/List one streamed message (up to 100 snapshots) at a time. */
  async *listSnapshotPages(namespace: string, snapshotter: string, options: CallOptions = {}): AsyncGenerator<SnapshotInfo[]> {
    type Raw = { name: string; parent: string; kind: string; created_at: never; updated_at: never; labels: Labels };
    const request = { snapshotter };
    for await (const page of this.stream<{ info: Raw[] }>("Snapshots", "List", namespace, request, options)) {
      yield page.info.map((s) => ({
        name: s.name,
        parent: s.parent,
        kind: snapshotKind(s.kind),
        createdAt: seconds(s.created_at),
        updatedAt: seconds(s.updated_at),
        labels: s.labels,
      }));
    }
  }

  async snapshotUsage(
    namespace: string,
    snapshotter: string,
    key: string,
    options: CallOptions = {},
  ): Promise<SnapshotUsage> {
    const res = await this.unary<{ size: string; inodes: string }>("Snapshots", "Usage", namespace, { snapshotter, key }, options);
    return { size: int64(res.size), inodes: int64(res.inodes) };
  }

  // --- images and containers ---------------------------------------------------------

  async listImages(namespace: string, options: CallOptions = {}): Promise<ImageInfo[]> {
    type Raw = {
      name: string;
      labels: Labels;
      target: { media_type: string; digest: string; size: string } | null;
      created_at: never;
      updated_at: never;
    };
    const res = await this.unary<{ images: Raw[] }>("Images", "List", namespace, {}, options);
    return res.images.map((i) => ({
      name: i.name,
      target: { mediaType: i.target?.media_type ?? "", digest: i.target?.digest ?? "", size: int64(i.target?.size) },
      labels: i.labels,
      createdAt: seconds(i.created_at),
      updatedAt: seconds(i.updated_at),
    }));
  }

  async listContainers(namespace: string, options: CallOptions = {}): Promise<ContainerInfo[]> {
    type Raw = { id: string; image: string; snapshotter: string; snapshot_key: string; labels: Labels; created_at: never };
    const res = await this.unary<{ containers: Raw[] }>("Containers", "List", namespace, {}, options);
    return res.containers.map((c) => ({
      id: c.id,
      image: c.image,
      snapshotter: c.snapshotter,
      snapshotKey: c.snapshot_key,
      labels: c.labels,
      createdAt: seconds(c.created_at),
    }));
  }

  /** The sandbox store (containerd >= 1.7); older daemons answer UNIMPLEMENTED. */
  async listSandboxes(namespace: string, options: CallOptions = {}): Promise<SandboxInfo[]> {
    type Raw = { sandbox_id: string; labels: Labels; created_at: never };
    const res = await this.unary<{ list: Raw[] }>("Sandboxes", "List", namespace, {}, options);
    return res.list.map((s) => ({ id: s.sandbox_id, labels: s.labels, createdAt: seconds(s.created_at) }));
  }

  // --- plumbing ----------------------------------------------------------------------

  private prepare(service: string, method: string, namespace: string | undefined, options: CallOptions) {
    const call = `${service}/${method}`;
    this.callCounts.set(call, (this.callCounts.get(call) ?? 0) + 1);
    const now = Date.now();
    const deadline = Math.min(options.deadline ?? Infinity, now + (options.timeoutMs ?? this.callTimeoutMs));
    const metadata = new grpc.Metadata();
    if (namespace !== undefined) metadata.set("containerd-namespace", namespace);
    const ctx: CallContext = { call, socketPath: this.socketPath, budgetMs: Math.max(0, deadline - now) };
    if (namespace !== undefined) ctx.namespace = namespace;
    const client = this.services[service];
    if (!client) throw new Error(`unknown containerd service ${service}`);
    return { client, metadata, deadline, ctx };
  }

  private unary<T>(
    service: string,
    method: string,
    namespace: string | undefined,
    request: object,
    options: CallOptions,
  ): Promise<T> {
    const { client, metadata, deadline, ctx } = this.prepare(service, method, namespace, options);
    return new Promise<T>((resolve, reject) => {
      const fn = client[method] as (...args: unknown[]) => unknown;
      fn.call(client, request, metadata, { deadline }, (error: grpc.ServiceError | null, response: T) => {
        if (error) reject(toContainerdError(error, ctx));
        else resolve(response);
      });
    });
  }

  private async *stream<T>(
    service: string,
    method: string,
    namespace: string,
    request: object,
    options: CallOptions,
  ): AsyncGenerator<T> {
    const { client, metadata, deadline, ctx } = this.prepare(service, method, namespace, options);
    const fn = client[method] as (...args: unknown[]) => grpc.ClientReadableStream<T>;
    const call = fn.call(client, request, metadata, { deadline });
    try {
      for await (const page of call) yield page as T;
    } catch (error) {
      throw toContainerdError(error, ctx);
    } finally {
      call.cancel(); // a consumer that stops early must not leave the stream open
    }
  }
}
