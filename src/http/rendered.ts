import type { ClassifiedInventory } from "../inventory/classify.js";

export interface Rendered {
  body: string;
  contentType: string;
}

/**
 * One rendered body per classified snapshot and format. Scrapes that joined
 * the same read answer with the same string, so a thousand queued requests
 * hold one body between them, not a thousand copies; the entry goes with the
 * snapshot (a WeakMap), so nothing outlives the read it came from.
 */
export class RenderOnce {
  private readonly bodies = new WeakMap<ClassifiedInventory, Map<string, Promise<Rendered>>>();

  get(classified: ClassifiedInventory, format: string, render: () => Promise<Rendered>): Promise<Rendered> {
    let byFormat = this.bodies.get(classified);
    if (!byFormat) this.bodies.set(classified, (byFormat = new Map()));
    let rendered = byFormat.get(format);
    if (!rendered) {
      rendered = render();
      byFormat.set(format, rendered);
    }
    return rendered;
  }
}
