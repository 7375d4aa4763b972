// A throttling TCP proxy on loopback. It slows the registry→client direction only (requests are
// tiny, blob bodies are what we want to stretch), with one shared budget for all connections,
// so a pull's total speed is the configured rate however many layers download in parallel.
// The rate can change at run time: 0 freezes transfers (connections stay open), Infinity
// removes the limit.
import { connect, createServer, type AddressInfo, type Socket } from "node:net";

export interface ThrottleProxyOptions {
  /** "host:port" to forward to. */
  target: string;
  /** Registry→client bytes per second for all connections together; 0 = hold, Infinity = unlimited. */
  bytesPerSecond: number;
}

export interface ThrottleProxy {
  /** "127.0.0.1:PORT" */
  readonly address: string;
  setRate(bytesPerSecond: number): void;
  /** Bytes forwarded registry→client so far. */
  bytesForwarded(): number;
  /** Closes the listener and every open connection. Idempotent. */
  stop(): Promise<void>;
}

// Budget is handed out in ticks; also bounds how late a rate change bites.
const TICK_MS = 20;

/** Called with the bytes a connection may send this tick. */
type Waiter = (allowance: number) => void;

/**
 * Token bucket shared by all connections of one proxy. Connections with queued data wait for a
 * tick; each tick splits the available bytes evenly among the waiting connections, so parallel
 * layer downloads progress together instead of the first connection starving the rest.
 */
class Budget {
  private tokens = 0;
  private last = Date.now();
  private readonly waiters = new Set<Waiter>();
  private timer: NodeJS.Timeout | undefined;
  forwarded = 0;

  constructor(private rate: number) {}

  setRate(rate: number): void {
    this.refill();
    this.rate = rate;
    this.tokens = Math.min(this.tokens, this.burst());
    if (this.unlimited()) this.tick(); // release waiters now rather than a tick later
  }

  unlimited(): boolean {
    return this.rate === Infinity;
  }

  wait(waiter: Waiter): void {
    if (this.unlimited()) return waiter(Number.MAX_SAFE_INTEGER);
    this.waiters.add(waiter);
    this.timer ??= setTimeout(() => this.tick(), TICK_MS);
  }

  spend(bytes: number): void {
    if (!this.unlimited()) this.tokens -= bytes;
    this.forwarded += bytes;
  }

  stop(): void {
    clearTimeout(this.timer);
    this.waiters.clear();
  }

  private tick(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.refill();
    const waiters = [...this.waiters];
    this.waiters.clear();
    const share = this.unlimited() ? Number.MAX_SAFE_INTEGER : Math.floor(Math.max(0, this.tokens) / Math.max(1, waiters.length));
    for (const waiter of waiters) waiter(share);
  }

  private refill(): void {
    const now = Date.now();
    if (!this.unlimited()) this.tokens = Math.min(this.burst(), this.tokens + ((now - this.last) / 1000) * this.rate);
    this.last = now;
  }

  /** At most 1/10 s worth of bytes saved up, so a pause is not followed by a burst. */
  private burst(): number {
    return this.rate === 0 ? 0 : Math.max(this.rate / 10, 1024);
  }
}

export async function startThrottleProxy(options: ThrottleProxyOptions): Promise<ThrottleProxy> {
  const [host, port] = splitAddress(options.target);
  const budget = new Budget(options.bytesPerSecond);
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = connect(port, host);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.once("close", () => sockets.delete(s));
      s.once("error", () => {
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream); // client→registry: unthrottled
    throttle(upstream, client, budget);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  const { port: listenPort } = server.address() as AddressInfo;
  let stopping: Promise<void> | undefined;
  return {
    address: `127.0.0.1:${listenPort}`,
    setRate: (rate) => budget.setRate(rate),
    bytesForwarded: () => budget.forwarded,
    stop() {
      stopping ??= new Promise<void>((resolve) => {
        budget.stop();
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      });
      return stopping;
    },
  };
}

function splitAddress(address: string): [string, number] {
  const colon = address.lastIndexOf(":");
  const port = Number(address.slice(colon + 1));
  if (colon < 0 || !Number.isInteger(port)) throw new Error(`bad address: ${address}`);
  return [address.slice(0, colon), port];
}

/**
 * Copies `from` to `to` within the budget. Incoming data is queued and `from` is paused while
 * anything is queued, so TCP backpressure reaches the registry instead of memory filling up.
 */
function throttle(from: Socket, to: Socket, budget: Budget): void {
  const queue: Buffer[] = [];
  let ended = false;
  let busy = false; // waiting for budget or for `to` to drain

  const send = (allowance: number): void => {
    busy = false;
    if (to.destroyed) return;
    let writable = true;
    while (allowance > 0 && queue.length > 0 && writable) {
      const head = queue[0]!;
      const part = head.subarray(0, allowance);
      if (part.length < head.length) queue[0] = head.subarray(part.length);
      else queue.shift();
      allowance -= part.length;
      budget.spend(part.length);
      writable = to.write(part);
    }
    if (queue.length === 0) {
      if (ended) to.end();
      else from.resume();
      return;
    }
    busy = true;
    if (writable) budget.wait(send);
    else to.once("drain", () => budget.wait(send));
  };

  from.on("data", (chunk: Buffer) => {
    queue.push(chunk);
    from.pause();
    if (!busy) {
      busy = true;
      budget.wait(send);
    }
  });
  from.on("end", () => {
    ended = true;
    if (queue.length === 0) to.end();
  });
  to.once("close", () => from.destroy());
}
