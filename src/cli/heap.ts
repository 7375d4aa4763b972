// Imported first by main.ts, for its effect: V8's heap sized for an exporter that runs on every
// node, before any other module allocates.
//
// V8's defaults suit a program that has the machine to itself: its young generation grows to
// 2 × 16 MiB as soon as a read keeps objects alive across scavenges, and its old generation is
// allowed to grow to a multiple of what is live (up to 4×) before the next full collection.
// Each scrape builds a fresh inventory and drops the previous one, so with those defaults the
// process sat at 2-3× its live heap (bench/NOTES.md). Here the young generation stays at its
// initial 2 × 1 MiB and the old one may grow 25% past what the last collection kept. Both only
// change when V8 collects, never how much it may hold: the heap limit stays V8's own, so
// however large the host no read runs out of heap; it costs some CPU in more frequent
// collections (measured in BENCHMARKS.md). Flags given on the command line or in NODE_OPTIONS
// win.
import { setFlagsFromString } from "node:v8";

export const HEAP_FLAGS: readonly string[] = ["--semi-space-growth-factor=1", "--heap-growing-percent=25"];

/** The HEAP_FLAGS not already chosen by the user (node's own flags, NODE_OPTIONS). */
export function heapFlagsToSet(execArgv: readonly string[], nodeOptions: string | undefined): string[] {
  const given = [...execArgv, ...(nodeOptions ?? "").split(/\s+/)].map((f) => f.replace(/_/g, "-").split("=")[0]);
  const growthChosen = given.some((f) => f === "--max-semi-space-size" || f === "--semi-space-growth-factor");
  return HEAP_FLAGS.filter((flag) => {
    const name = flag.split("=")[0];
    if (name === "--semi-space-growth-factor") return !growthChosen;
    return !given.includes(name);
  });
}

for (const flag of heapFlagsToSet(process.execArgv, process.env.NODE_OPTIONS)) setFlagsFromString(flag);
