import type { ContainerdClient } from "../../src/containerd/client.js";
import { classify, type ClassifiedInventory } from "../../src/inventory/classify.js";
import { InventoryReader } from "../../src/inventory/read.js";
import { DEFAULT_POLICY } from "../../src/inventory/states.js";

/** A fresh read of the daemon, classified now under the default policy: what a scrape would see. */
export async function classifiedNow(client: ContainerdClient): Promise<ClassifiedInventory> {
  return classify(await new InventoryReader(client).read(Date.now() + 30_000), DEFAULT_POLICY, Date.now() / 1000);
}
