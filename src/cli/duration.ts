// Go-style durations (`24h`, `8760h`, `1h30m`, `90m`, `1.5h`), as talosctl's flags take them.
import { LIFETIME_RANGE, lifetimeProblem } from '../pki/lifetime.js';

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

/** For the help of every lifetime flag. */
export const LIFETIME_BOUNDS_HELP = `from ${LIFETIME_RANGE}; never past the CA's own end`;

/** A lifetime flag's value in hours, or an error naming the flag, the value and the bounds. */
export function lifetimeHours(flag: string, ms: number): number {
  const hours = ms / 3_600_000;
  if (lifetimeProblem(hours)) throw new Error(`${flag}: ${describeMs(ms)} is out of range; give a lifetime from ${LIFETIME_RANGE}`);
  return hours;
}

function describeMs(ms: number): string {
  if (!Number.isFinite(ms)) return 'the duration';
  if (Math.abs(ms) >= 3_600_000) return `${ms / 3_600_000}h`;
  if (Math.abs(ms) >= 60_000) return `${ms / 60_000}m`;
  if (Math.abs(ms) >= 1000) return `${ms / 1000}s`;
  return `${Math.round(ms * 1e6)}ns`;
}

/** `config new`'s default lifetime: 365 days, the Talos PKI page's default validity for client certificates. */
export const DEFAULT_CRT_TTL_MS = 8760 * 3_600_000;

/** What a command prints when the lifetime asked for ran past the CA's end. */
export function clampNotice(flag: string, clampedTo: Date): string {
  return `note: ${flag} runs past the end of the CA; the certificate ends with the CA, at ${clampedTo.toISOString()}`;
}
