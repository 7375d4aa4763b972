import type { ClassifiedInventory } from "../inventory/classify.js";

export interface Rendered {
  /**
   * A Buffer, not a string: Node prepends the headers to a string body
   * (one copy per response) but writes a Buffer as it is, so every
   * connection sends the same bytes.
   */
  body: Buffer;
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

  get(
    classified: ClassifiedInventory,
    format: string,
    render: () => Promise<{ body: string; contentType: string }>,
  ): Promise<Rendered> {
    let byFormat = this.bodies.get(classified);
    if (!byFormat) this.bodies.set(classified, (byFormat = new Map()));
    let rendered = byFormat.get(format);
    if (!rendered) {
      rendered = render().then(({ body, contentType }) => ({ body: Buffer.from(body), contentType }));
      byFormat.set(format, rendered);
    }
    return rendered;
  }
}
