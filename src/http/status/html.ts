/**
 * HTML built by escaping every interpolated value, unless it is already HTML
 * made by this same function. Nothing the page shows (lease ids, labels,
 * repositories, error messages) can become markup.
 */
export class Html {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function part(value: unknown): string {
  if (value instanceof Html) return value.text;
  if (Array.isArray(value)) return value.map(part).join("");
  if (value === undefined || value === null || value === false) return "";
  return escapeHtml(String(value));
}

/** Tagged template: html`<td>${text}</td>`; arrays join, undefined/null/false vanish. */
export function html(strings: TemplateStringsArray, ...values: unknown[]): Html {
  let out = strings[0] as string;
  values.forEach((value, i) => {
    out += part(value) + (strings[i + 1] as string);
  });
  return new Html(out);
}
