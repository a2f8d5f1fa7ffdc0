// One-line structured logs for `trustctl serve` (logfmt or JSON on stderr). Every line passes through a scrubber, so a
// PEM block or a long base64 run that slipped into an error message never reaches a log file.
export type LogFormat = 'logfmt' | 'json';
export type LogLevel = 'info' | 'warn' | 'error';

export type LogFields = Record<string, unknown>;

export interface LineLogger {
  (level: LogLevel, message: string, fields?: LogFields): void;
}

const PEM_BLOCK = /-----BEGIN [A-Z0-9 ]+-----[\s\S]*?(?:-----END [A-Z0-9 ]+-----|$)/g;
// Key material in a config is base64 of a PEM or raw base64 of 32+ bytes: 40+ base64 characters mixing upper case,
// lower case and digits. Names, paths and hex fingerprints do not look like that.
const LONG_BASE64 = /[A-Za-z0-9+/]{40,}={0,2}/g;
const looksRandom = (run: string) => /[A-Z]/.test(run) && /[a-z]/.test(run) && /[0-9]/.test(run);

// A trustd token or join token (`abcdef.0123456789abcdef`): never a log line's business, whatever carried it there.
const TOKEN = /\b[a-z0-9]{6}\.[a-z0-9]{16}\b/g;

/** Replaces anything that looks like key material or a token with a marker. */
export function scrubSecrets(text: string): string {
  return text
    .replace(PEM_BLOCK, '<redacted PEM>')
    .replace(LONG_BASE64, (run) => (looksRandom(run) ? '<redacted>' : run))
    .replace(TOKEN, '<redacted token>');
}

export function formatLogLine(format: LogFormat, time: Date, level: LogLevel, message: string, fields: LogFields = {}): string {
  const entries: [string, unknown][] = [['time', time.toISOString()], ['level', level], ['msg', message], ...Object.entries(fields)];
  const line =
    format === 'json'
      ? JSON.stringify(Object.fromEntries(entries.filter(([, v]) => v !== undefined)))
      : entries
          .filter(([, v]) => v !== undefined)
          .map(([k, v]) => `${k}=${logfmtValue(v)}`)
          .join(' ');
  return scrubSecrets(line);
}

export function createLineLogger(format: LogFormat, write: (line: string) => void): LineLogger {
  return (level, message, fields) => write(`${formatLogLine(format, new Date(), level, message, fields)}\n`);
}

function logfmtValue(value: unknown): string {
  const text = typeof value === 'string' ? value : value instanceof Error ? value.message : JSON.stringify(value);
  return /^[^\s"=\\]+$/.test(text) ? text : JSON.stringify(text);
}
