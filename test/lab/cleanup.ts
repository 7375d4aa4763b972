// Last-resort cleanup when the owning node process goes away without calling stop(): a crashed
// test run must not leave a containerd with overlay mounts behind. Handlers are synchronous
// because 'exit' listeners cannot wait for promises.

type SyncCleanup = () => void;

const pending = new Set<SyncCleanup>();
let installed = false;

/** Registers `fn` to run at process exit or on a terminating signal; returns an unregister function. */
export function onExit(fn: SyncCleanup): () => void {
  install();
  pending.add(fn);
  return () => pending.delete(fn);
}

/** Last registered runs first, like deferred calls: dockerd before its containerd, the lab's directory last. */
function runAll(): void {
  for (const fn of [...pending].reverse()) {
    pending.delete(fn);
    try {
      fn();
    } catch (error) {
      console.error("lab cleanup failed:", error);
    }
  }
}

function install(): void {
  if (installed) return;
  installed = true;
  process.on("exit", runAll);
  for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    const handler = (): void => {
      process.removeListener(sig, handler);
      // Someone else handles the signal (a script's graceful stop, vitest): let them, and catch
      // whatever is left at 'exit'. Otherwise the signal is about to kill us: clean up, then die
      // by it as if we had never listened.
      if (process.listenerCount(sig) > 0) return;
      runAll();
      process.kill(process.pid, sig);
    };
    process.on(sig, handler);
  }
}
