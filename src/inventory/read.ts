import type { ContainerdClient } from "../containerd/client.js";
import { Interner } from "../containerd/intern.js";
import type { VersionInfo } from "../containerd/types.js";
import { createLimiter } from "../util/limit.js";
import { NAMESPACE_COLLECTORS, type ReadContext } from "./collectors/index.js";
import {
  type CollectorName,
  type CollectorReport,
  emptyNamespace,
  type Inventory,
  type NamespaceInventory,
} from "./types.js";
import { UsageCache } from "./usage-cache.js";

const SNAPSHOTTER_PLUGIN = "io.containerd.snapshotter.v1";

export interface ReaderOptions {
  /** Only these namespaces; all of them when empty. */
  namespaces?: string[];
  /** Per-object calls (ListResources, Usage) in flight at once. */
  concurrency?: number;
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Times named pieces of work and records, per collector, whether all of them succeeded. */
class ReportBook {
  private reports = new Map<CollectorName, CollectorReport & { start: number }>();

  async run<T>(collector: CollectorName, work: () => Promise<T>): Promise<{ ok: true; value: T } | { ok: false }> {
    const report = this.open(collector);
    try {
      return { ok: true, value: await work() };
    } catch (error) {
      report.success = false;
      const message = errorMessage(error);
      if (!report.errors.includes(message)) report.errors.push(message);
      return { ok: false };
    } finally {
      report.durationSeconds = Math.max(report.durationSeconds, (performance.now() - report.start) / 1000);
    }
  }

  fail(collector: CollectorName, message: string): void {
    const report = this.open(collector);
    report.success = false;
    report.errors.push(message);
  }

  list(): CollectorReport[] {
    return [...this.reports.values()].map(({ start: _start, ...report }) => report);
  }

  private open(collector: CollectorName) {
    let report = this.reports.get(collector);
    if (!report) {
      report = { collector, success: true, durationSeconds: 0, errors: [], start: performance.now() };
      this.reports.set(collector, report);
    }
    return report;
  }
}

/**
 * Reads the whole state the exporter reasons about, every namespace and every
 * collector in parallel. Concurrent callers share one read in flight, so ten scrapes at
 * once cost containerd one pass.
 */
export class InventoryReader {
  readonly usageCache = new UsageCache();
  private inflight: { read: Promise<Inventory>; deadline: number } | undefined;

  constructor(
    private readonly client: ContainerdClient,
    private readonly options: ReaderOptions = {},
  ) {}

  /**
   * Joins the read in flight, if any, unless its deadline is later than the
   * caller's: a 1s scrape must not wait on a prune's 60s read. `fresh` starts a
   * new one instead, for callers that must see the state after their own
   * changes (the prune); later callers join the newest read.
   */
  read(deadline: number, options: { fresh?: boolean } = {}): Promise<Inventory> {
    if (this.inflight && !options.fresh && this.inflight.deadline <= deadline) return this.inflight.read;
    const read: Promise<Inventory> = this.readOnce(deadline).finally(() => {
      if (this.inflight?.read === read) this.inflight = undefined;
    });
    this.inflight = { read, deadline };
    return read;
  }

  private async readOnce(deadline: number): Promise<Inventory> {
    const readAt = Date.now() / 1000;
    const book = new ReportBook();
    const options = { deadline };
    const [listed, version, plugins] = await Promise.all([
      book.run("namespaces", () => this.client.listNamespaces(options)),
      book.run("version", () => this.client.version(options)),
      book.run("snapshots", () => this.client.plugins([`type==${SNAPSHOTTER_PLUGIN}`], options)),
    ]);
    const containerd: VersionInfo | null = version.ok ? version.value : null;
    if (!listed.ok) {
      for (const collector of NAMESPACE_COLLECTORS) book.fail(collector.name, "containerd did not answer");
      this.usageCache.resetSeen();
      return { readAt, up: false, containerd, snapshotters: [], namespaces: [], collectors: book.list() };
    }
    const snapshotters = plugins.ok
      ? plugins.value.filter((p) => p.initError === undefined).map((p) => p.id).sort()
      : [];
    const names = this.options.namespaces?.length ? [...this.options.namespaces].sort() : listed.value;
    const ctx: ReadContext = {
      client: this.client,
      deadline,
      // One string table per read: digests and names shared across objects and namespaces
      // are kept once, and the table goes with the read.
      calls: { deadline, strings: new Interner() },
      snapshotters,
      usageCache: this.usageCache,
      limit: createLimiter(this.options.concurrency ?? 16),
    };
    const namespaces = await Promise.all(names.map((name) => this.readNamespace(ctx, book, name)));
    const collectors = book.list();
    if (collectors.every((c) => c.success)) this.usageCache.sweep();
    else this.usageCache.resetSeen();
    return { readAt, up: true, containerd, snapshotters, namespaces, collectors };
  }

  private async readNamespace(ctx: ReadContext, book: ReportBook, name: string): Promise<NamespaceInventory> {
    const inventory = emptyNamespace(name);
    await Promise.all(
      NAMESPACE_COLLECTORS.map(async (collector) => {
        const result = await book.run(collector.name, () => collector.read(ctx, name));
        if (result.ok) (inventory as unknown as Record<string, unknown>)[collector.name] = result.value;
        else inventory.failed.push(collector.name);
      }),
    );
    inventory.failed.sort();
    return inventory;
  }
}
