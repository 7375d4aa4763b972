/**
 * Durations written the way Prometheus and Go users write them: `0s`, `90s`,
 * `10m`, `1h30m`, `500ms`, `7d`. Units must appear from largest to smallest,
 * each at most once, like Prometheus' model.ParseDuration.
 */
const UNITS_MS: ReadonlyArray<readonly [string, number]> = [
  ["y", 365 * 24 * 3600_000],
  ["w", 7 * 24 * 3600_000],
  ["d", 24 * 3600_000],
  ["h", 3600_000],
  ["m", 60_000],
  ["s", 1000],
  ["ms", 1],
];

const PATTERN = /^(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?$/;

export class DurationError extends Error {}

/** Parses a duration into milliseconds; throws DurationError with the offending text. */
export function parseDuration(text: string): number {
  if (text === "0") return 0;
  const match = PATTERN.exec(text);
  if (text === "" || match === null) {
    throw new DurationError(
      `invalid duration ${JSON.stringify(text)}: use a number with a unit, largest unit first, e.g. 90s, 10m, 1h30m`,
    );
  }
  let total = 0;
  UNITS_MS.forEach(([, factor], index) => {
    const value = match[index + 1];
    if (value !== undefined) total += Number(value) * factor;
  });
  if (!Number.isSafeInteger(total)) throw new DurationError(`duration ${JSON.stringify(text)} is too large`);
  return total;
}

/** The shortest text that parseDuration reads back as the same value. */
export function formatDuration(ms: number): string {
  if (ms === 0) return "0s";
  let rest = ms;
  let text = "";
  for (const [unit, factor] of UNITS_MS) {
    if (unit === "y" || unit === "w") continue; // days read better than weeks or years
    const count = Math.floor(rest / factor);
    if (count > 0) {
      text += `${count}${unit}`;
      rest -= count * factor;
    }
  }
  return text;
}
