export type Limiter = <T>(task: () => Promise<T>) => Promise<T>;

/**
 * A semaphore: at most `concurrency` tasks run at once, the rest wait in
 * order. One limiter is shared by a whole scrape so that the per-lease and
 * per-snapshot calls never flood containerd, however many namespaces there are.
 */
export function createLimiter(concurrency: number): Limiter {
  let running = 0;
  const waiting: Array<() => void> = [];
  const release = () => {
    running--;
    waiting.shift()?.();
  };
  return async <T>(task: () => Promise<T>): Promise<T> => {
    if (running >= concurrency) await new Promise<void>((resolve) => waiting.push(resolve));
    running++;
    try {
      return await task();
    } finally {
      release();
    }
  };
}
