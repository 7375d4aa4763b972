import { availableParallelism } from "node:os";
import { createRequire } from "node:module";
import { Worker } from "node:worker_threads";

/**
 * bcrypt comparisons off the main thread, on a small pool of worker threads,
 * so that a flood of wrong passwords costs at most the pool's cores and
 * never delays the event loop that answers scrapes and /healthz. The worker
 * is a few lines of CommonJS given as text, so that it runs the same from
 * src/ (tsx, tests) and from dist/.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require("node:worker_threads");
const bcrypt = require(workerData.bcrypt);
parentPort.on("message", ({ id, password, hash }) => {
  let ok = false;
  try { ok = bcrypt.compareSync(password, hash); } catch { ok = false; }
  parentPort.postMessage({ id, ok });
});
`;

interface Task {
  id: number;
  password: string;
  hash: string;
  resolve: (ok: boolean) => void;
  reject: (error: Error) => void;
}

interface PoolWorker {
  worker: Worker;
  task: Task | undefined;
}

export const POOL_SIZE = Math.max(1, Math.min(2, availableParallelism() - 1));

export class BcryptPool {
  private readonly workers: PoolWorker[] = [];
  private readonly queue: Task[] = [];
  private nextId = 0;
  private readonly bcryptPath = createRequire(import.meta.url).resolve("bcryptjs");

  constructor(private readonly size = POOL_SIZE) {}

  /** Comparisons waiting for a worker. */
  get waiting(): number {
    return this.queue.length;
  }

  compare(password: string, hash: string): Promise<boolean> {
    return new Promise((resolve, reject) => {
      this.queue.push({ id: this.nextId++, password, hash, resolve, reject });
      this.dispatch();
    });
  }

  close(): void {
    for (const { worker } of this.workers.splice(0)) void worker.terminate();
    for (const task of this.queue.splice(0)) task.reject(new Error("the password checker was closed"));
  }

  private dispatch(): void {
    while (this.queue.length > 0) {
      const idle = this.workers.find((w) => w.task === undefined) ?? (this.workers.length < this.size ? this.spawn() : undefined);
      if (!idle) return;
      const task = this.queue.shift() as Task;
      idle.task = task;
      idle.worker.postMessage({ id: task.id, password: task.password, hash: task.hash });
    }
  }

  private spawn(): PoolWorker {
    const entry: PoolWorker = { worker: new Worker(WORKER_SOURCE, { eval: true, workerData: { bcrypt: this.bcryptPath } }), task: undefined };
    entry.worker.unref(); // idle workers never keep the process alive
    entry.worker.on("message", ({ id, ok }: { id: number; ok: boolean }) => {
      const task = entry.task;
      if (task?.id !== id) return;
      entry.task = undefined;
      task.resolve(ok);
      this.dispatch();
    });
    entry.worker.on("error", (error) => this.retire(entry, error));
    entry.worker.on("exit", () => this.retire(entry, new Error("the password checker stopped")));
    this.workers.push(entry);
    return entry;
  }

  /** A worker that died fails its comparison (as a mismatch would be unsafe to assume) and is replaced on demand. */
  private retire(entry: PoolWorker, error: Error): void {
    const index = this.workers.indexOf(entry);
    if (index === -1) return;
    this.workers.splice(index, 1);
    entry.task?.reject(error);
    entry.task = undefined;
    this.dispatch();
  }
}
