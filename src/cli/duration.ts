// Go-style durations (`24h`, `8760h`, `1h30m`, `90m`, `1.5h`), as talosctl's flags take them.
const UNIT_MS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  μs: 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

const PART = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/y;

/** Milliseconds, or undefined when `text` is not a Go duration. */
export function parseDuration(text: string): number | undefined {
  let rest = text.trim();
  let sign = 1;
  if (rest.startsWith('-') || rest.startsWith('+')) {
    sign = rest.startsWith('-') ? -1 : 1;
    rest = rest.slice(1);
  }
  if (rest === '0') return 0;
  if (rest === '') return undefined;
  let total = 0;
  PART.lastIndex = 0;
  while (PART.lastIndex < rest.length) {
    const at = PART.lastIndex;
    const m = PART.exec(rest);
    if (!m || m.index !== at) return undefined;
    total += Number(m[1]) * UNIT_MS[m[2]];
  }
  return sign * total;
}

/** For commander: parses the flag or fails naming it, with an example of the syntax. */
export function durationOption(flag: string): (value: string) => number {
  return (value) => {
    const ms = parseDuration(value);
    if (ms === undefined) throw new Error(`${flag}: invalid duration ${JSON.stringify(value)} (use Go syntax such as 24h, 8760h, 90m or 1h30m)`);
    return ms;
  };
}

export function formatHours(ms: number): string {
  return `${ms / 3_600_000}h`;
}
