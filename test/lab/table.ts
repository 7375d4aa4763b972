// Parsing ctr's tabular output. ctr prints tables with Go's tabwriter in two styles:
// - padded with tabs (`content ls`, `content active`): cells never contain tabs, split on tabs;
// - padded with spaces (`leases ls`, `snapshots ls`, `images ls`): cells may contain spaces
//   (an extract snapshot key is "extract-<nanos>-<rand> <chainID>", an image size is "6.0 MiB"),
//   but tabwriter starts every cell of a column at the same offset as its header, so we slice
//   rows at the header offsets.

export type Row = Record<string, string>;

/** Parses a ctr table whose header consists of `columns`, in order. */
export function parseTable(text: string, columns: readonly string[]): Row[] {
  const lines = text.split("\n").filter((line) => line.trim() !== "");
  const header = lines.shift();
  if (header === undefined) return [];
  return header.includes("\t") ? splitOnTabs(lines, columns) : sliceAtOffsets(header, lines, columns);
}

function splitOnTabs(lines: string[], columns: readonly string[]): Row[] {
  return lines.map((line) => {
    const cells = line.split(/\t+/);
    return Object.fromEntries(columns.map((name, i) => [name, (cells[i] ?? "").trim()]));
  });
}

function sliceAtOffsets(header: string, lines: string[], columns: readonly string[]): Row[] {
  const offsets: number[] = [];
  let from = 0;
  for (const name of columns) {
    const at = header.indexOf(name, from);
    if (at < 0) throw new Error(`column ${name} not in ctr header: ${header}`);
    offsets.push(at);
    from = at + name.length;
  }
  return lines.map((line) =>
    Object.fromEntries(columns.map((name, i) => [name, line.slice(offsets[i], offsets[i + 1] ?? line.length).trim()])),
  );
}

/** Parses ctr's label cell: "k=v,k2=v2", or "-"/"" for none. */
export function parseLabels(cell: string): Record<string, string> {
  if (cell === "" || cell === "-") return {};
  return Object.fromEntries(
    cell.split(",").map((pair) => {
      const eq = pair.indexOf("=");
      return eq < 0 ? [pair, ""] : [pair.slice(0, eq), pair.slice(eq + 1)];
    }),
  );
}

const UNITS: Record<string, number> = {
  B: 1,
  kB: 1e3,
  MB: 1e6,
  GB: 1e9,
  TB: 1e12,
  KiB: 1024,
  MiB: 1024 ** 2,
  GiB: 1024 ** 3,
  TiB: 1024 ** 4,
};

/**
 * Converts ctr's human sizes to bytes: "1.049MB" (decimal, 4 significant digits; content
 * commands) or "6.0 MiB" (binary; images ls). Approximate by nature.
 */
export function parseHumanSize(text: string): number {
  const match = /^([\d.]+)\s*([A-Za-z]+)$/.exec(text.trim());
  const factor = match ? UNITS[match[2]!] : undefined;
  if (!match || factor === undefined) throw new Error(`unrecognised size: ${text}`);
  return Math.round(Number(match[1]) * factor);
}
