import { Gauge, type Registry } from "prom-client";

/** A gauge that lives in one scrape's registry only, so vanished label sets vanish. */
export function scrapeGauge<L extends string>(
  registry: Registry,
  name: string,
  help: string,
  labelNames: readonly L[] = [],
): Gauge<L> {
  return new Gauge<L>({ name, help, labelNames, registers: [registry] });
}

/** Counts items by a key, with every expected key present (0 allowed). */
export function countBy<T, K extends string>(
  items: readonly T[],
  keys: readonly K[],
  keyOf: (item: T) => K,
  amount: (item: T) => number = () => 1,
): Record<K, number> {
  const totals = Object.fromEntries(keys.map((k) => [k, 0])) as Record<K, number>;
  for (const item of items) totals[keyOf(item)] += amount(item);
  return totals;
}

/** The smallest value of a field per key, for "oldest" timestamps; absent keys have none. */
export function minBy<T, K extends string>(
  items: readonly T[],
  keyOf: (item: T) => K,
  value: (item: T) => number,
): Map<K, number> {
  const result = new Map<K, number>();
  for (const item of items) {
    const key = keyOf(item);
    const v = value(item);
    if (!result.has(key) || v < (result.get(key) as number)) result.set(key, v);
  }
  return result;
}

/** Sets a count gauge and a bytes gauge per state, every state present (0 allowed). */
export function setCountAndBytesByState<T, S extends string, L extends string>(
  count: Gauge<L | "state">,
  bytes: Gauge<L | "state">,
  labels: Record<L, string>,
  items: readonly T[],
  states: readonly S[],
  stateOf: (item: T) => S,
  sizeOf: (item: T) => number,
): void {
  const counts = countBy(items, states, stateOf);
  const sizes = countBy(items, states, stateOf, sizeOf);
  for (const state of states) {
    count.set({ ...labels, state } as Record<L | "state", string>, counts[state]);
    bytes.set({ ...labels, state } as Record<L | "state", string>, sizes[state]);
  }
}
