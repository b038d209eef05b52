// Durations as the spec writes them ("90s", "5m", "1h30m", "250ms"): the Go/CEL form admission already checked.

const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Milliseconds in a duration such as "1h30m"; undefined when it is not one. */
export function durationMs(text: string): number | undefined {
  if (!/^(\d+(\.\d+)?(ms|s|m|h))+$/.test(text)) return undefined;
  let total = 0;
  for (const [, value, unit] of text.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)) {
    total += Number(value) * UNIT_MS[unit ?? '']!;
  }
  return total;
}
