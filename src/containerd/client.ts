import * as grpc from "@grpc/grpc-js";
import * as decode from "./decode.js";
import type { Decode } from "./decode.js";
import { type CallContext, toContainerdError } from "./errors.js";
import { Interner } from "./intern.js";
import * as requests from "./requests.js";
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
  SnapshotRecord,
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
  /**
   * Shares repeated strings (digests, names, label values) with the rest of a read; without
   * one, strings are shared within this call's answer only.
   */
  strings?: Interner;
}

export function socketPathOf(address: string): string {
  return address.replace(/^unix:(\/\/)?/, "");
}

/** containerd's gRPC services, by the short names callCounts and error messages use. */
const SERVICES = {
  Namespaces: "containerd.services.namespaces.v1.Namespaces",
  Leases: "containerd.services.leases.v1.Leases",
  Content: "containerd.services.content.v1.Content",
  Snapshots: "containerd.services.snapshots.v1.Snapshots",
  Images: "containerd.services.images.v1.Images",
  Containers: "containerd.services.containers.v1.Containers",
  Sandboxes: "containerd.services.sandbox.v1.Store",
  Introspection: "containerd.services.introspection.v1.Introspection",
  Version: "containerd.services.version.v1.Version",
} as const;
type Service = keyof typeof SERVICES;

/** Requests arrive encoded already (requests.ts). */
const passThrough = (request: Buffer): Buffer => request;
const ignoreAnswer: Decode<void> = () => undefined;

/**
 * A thin client for the parts of containerd's gRPC API the exporter reads.
 * One channel serves every service. Each call carries a deadline and the
 * containerd-namespace header, and fails with a ContainerdError that says
 * what to do about it. Answers are decoded by decode.ts straight into the
 * objects of types.ts (no protobuf runtime, no intermediate messages).
 */
export class ContainerdClient {
  readonly socketPath: string;
  /** Calls issued, by "Service/Method": the benchmark reads it. */
  readonly callCounts = new Map<string, number>();
  private readonly client: grpc.Client;
  private readonly callTimeoutMs: number;

  constructor(options: ClientOptions) {
    this.socketPath = socketPathOf(options.address);
    this.callTimeoutMs = options.callTimeoutMs ?? 10_000;
    this.client = new grpc.Client(`unix://${this.socketPath}`, grpc.credentials.createInsecure(), {
      "grpc.max_receive_message_length": MAX_RECEIVE_BYTES,
      // grpc's default backoff grows to two minutes after containerd restarts;
      // a scraper must see it back on the next scrape.
      "grpc.initial_reconnect_backoff_ms": 100,
      "grpc.max_reconnect_backoff_ms": 1000,
    });
  }

  close(): void {
    this.client.close();
  }

  // --- namespaces, version, plugins -------------------------------------------------

  async listNamespaces(options: CallOptions = {}): Promise<string[]> {
    const names = await this.unary("Namespaces", "List", undefined, requests.empty(), decode.decodeNamespaces, options);
    return names.sort();
  }

  version(options: CallOptions = {}): Promise<VersionInfo> {
    return this.unary("Version", "Version", undefined, requests.empty(), decode.decodeVersion, options);
  }

  plugins(filters: string[], options: CallOptions = {}): Promise<PluginInfo[]> {
    return this.unary("Introspection", "Plugins", undefined, requests.plugins(filters), decode.decodePlugins, options);
  }

  // --- leases ------------------------------------------------------------------------

  listLeases(namespace: string, options: CallOptions = {}): Promise<Lease[]> {
    return this.unary("Leases", "List", namespace, requests.empty(), decode.decodeLeases, options);
  }

  listLeaseResources(namespace: string, id: string, options: CallOptions = {}): Promise<LeaseResource[]> {
    return this.unary("Leases", "ListResources", namespace, requests.leaseId(id), decode.decodeLeaseResources, options);
  }

  async createLease(namespace: string, id: string, labels: Labels, options: CallOptions = {}): Promise<void> {
    await this.unary("Leases", "Create", namespace, requests.createLease(id, labels), ignoreAnswer, options);
  }

  /** With sync, containerd answers only after a full garbage collection. */
  async deleteLease(namespace: string, id: string, sync: boolean, options: CallOptions = {}): Promise<void> {
    await this.unary("Leases", "Delete", namespace, requests.deleteLease(id, sync), ignoreAnswer, options);
  }

  async addLeaseResource(
    namespace: string,
    id: string,
    resource: LeaseResource,
    options: CallOptions = {},
  ): Promise<void> {
    await this.unary("Leases", "AddResource", namespace, requests.addLeaseResource(id, resource), ignoreAnswer, options);
  }

  // --- content -----------------------------------------------------------------------

  async *listContent(namespace: string, options: CallOptions = {}): AsyncGenerator<ContentInfo> {
    for await (const page of this.listContentPages(namespace, options)) yield* page;
  }

  /** Content/List one streamed message (up to 100 blobs) at a time: far less per-item overhead for large stores. */
  listContentPages(namespace: string, options: CallOptions = {}): AsyncGenerator<ContentInfo[]> {
    return this.stream("Content", "List", namespace, requests.empty(), decode.decodeContentPage, options);
  }

  listIngests(namespace: string, options: CallOptions = {}): Promise<IngestStatus[]> {
    return this.unary("Content", "ListStatuses", namespace, requests.empty(), decode.decodeIngests, options);
  }

  async abortIngest(namespace: string, ref: string, options: CallOptions = {}): Promise<void> {
    await this.unary("Content", "Abort", namespace, requests.abortIngest(ref), ignoreAnswer, options);
  }

  // --- snapshots ---------------------------------------------------------------------

  async *listSnapshots(namespace: string, snapshotter: string, options: CallOptions = {}): AsyncGenerator<SnapshotRecord> {
    for await (const page of this.listSnapshotPages(namespace, snapshotter, options)) yield* page;
  }

  /**
   * Snapshots/List one streamed message (up to 100 snapshots) at a time, each with its
   * snapshotter and a usage still to be measured (null).
   */
  listSnapshotPages(namespace: string, snapshotter: string, options: CallOptions = {}): AsyncGenerator<SnapshotRecord[]> {
    const request = requests.listSnapshots(snapshotter);
    return this.stream("Snapshots", "List", namespace, request, decode.decodeSnapshotPage(snapshotter), options);
  }

  snapshotUsage(namespace: string, snapshotter: string, key: string, options: CallOptions = {}): Promise<SnapshotUsage> {
    const request = requests.snapshotUsage(snapshotter, key);
    return this.unary("Snapshots", "Usage", namespace, request, decode.decodeUsage, options);
  }

  // --- images and containers ---------------------------------------------------------

  listImages(namespace: string, options: CallOptions = {}): Promise<ImageInfo[]> {
    return this.unary("Images", "List", namespace, requests.empty(), decode.decodeImages, options);
  }

  listContainers(namespace: string, options: CallOptions = {}): Promise<ContainerInfo[]> {
    return this.unary("Containers", "List", namespace, requests.empty(), decode.decodeContainers, options);
  }

  /** The sandbox store (containerd >= 1.7); older daemons answer UNIMPLEMENTED. */
  listSandboxes(namespace: string, options: CallOptions = {}): Promise<SandboxInfo[]> {
    return this.unary("Sandboxes", "List", namespace, requests.empty(), decode.decodeSandboxes, options);
  }

  // --- plumbing ----------------------------------------------------------------------

  private prepare<T>(service: Service, method: string, namespace: string | undefined, decoder: Decode<T>, options: CallOptions) {
    const call = `${service}/${method}`;
    this.callCounts.set(call, (this.callCounts.get(call) ?? 0) + 1);
    const now = Date.now();
    const deadline = Math.min(options.deadline ?? Infinity, now + (options.timeoutMs ?? this.callTimeoutMs));
    const metadata = new grpc.Metadata();
    if (namespace !== undefined) metadata.set("containerd-namespace", namespace);
    const ctx: CallContext = { call, socketPath: this.socketPath, budgetMs: Math.max(0, deadline - now) };
    if (namespace !== undefined) ctx.namespace = namespace;
    const strings = options.strings ?? new Interner();
    // A decoding error surfaces as the call's failure (grpc-js reports it as INTERNAL).
    const deserialize = (buf: Buffer): T => decoder(buf, strings);
    return { path: `/${SERVICES[service]}/${method}`, metadata, deadline, ctx, deserialize };
  }

  private unary<T>(
    service: Service,
    method: string,
    namespace: string | undefined,
    request: Buffer,
    decoder: Decode<T>,
    options: CallOptions,
  ): Promise<T> {
    const { path, metadata, deadline, ctx, deserialize } = this.prepare(service, method, namespace, decoder, options);
    return new Promise<T>((resolve, reject) => {
      this.client.makeUnaryRequest(path, passThrough, deserialize, request, metadata, { deadline }, (error, response) => {
        if (error) reject(toContainerdError(error, ctx));
        else resolve(response as T);
      });
    });
  }

  private async *stream<T>(
    service: Service,
    method: string,
    namespace: string,
    request: Buffer,
    decoder: Decode<T>,
    options: CallOptions,
  ): AsyncGenerator<T> {
    const { path, metadata, deadline, ctx, deserialize } = this.prepare(service, method, namespace, decoder, options);
    const call = this.client.makeServerStreamRequest(path, passThrough, deserialize, request, metadata, { deadline });
    try {
      for await (const page of call) yield page as T;
    } catch (error) {
      throw toContainerdError(error, ctx);
    } finally {
      call.cancel(); // a consumer that stops early must not leave the stream open
    }
  }
}
