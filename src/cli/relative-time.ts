// "11 months from now" / "3 days ago": the relative times talosctl prints (go-humanize's RelTime magnitudes,
// where a month is 30 days and a year 12 such months).
const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const WEEK = 7 * DAY;
const MONTH = 30 * DAY;
const YEAR = 12 * MONTH;

const MAGNITUDES: readonly [limit: number, format: string, unit: number][] = [
  [SECOND, 'now', 1],
  [2 * SECOND, '1 second %s', 1],
  [MINUTE, '%d seconds %s', SECOND],
  [2 * MINUTE, '1 minute %s', 1],
  [HOUR, '%d minutes %s', MINUTE],
  [2 * HOUR, '1 hour %s', 1],
  [DAY, '%d hours %s', HOUR],
  [2 * DAY, '1 day %s', 1],
  [WEEK, '%d days %s', DAY],
  [2 * WEEK, '1 week %s', 1],
  [MONTH, '%d weeks %s', WEEK],
  [2 * MONTH, '1 month %s', 1],
  [YEAR, '%d months %s', MONTH],
  [18 * MONTH, '1 year %s', 1],
  [2 * YEAR, '2 years %s', 1],
  [37 * YEAR, '%d years %s', YEAR],
];

export function relativeTime(target: Date, now: Date): string {
  const diff = target.getTime() - now.getTime();
  const label = diff >= 0 ? 'from now' : 'ago';
  const abs = Math.abs(diff);
  for (const [limit, format, unit] of MAGNITUDES) {
    if (abs < limit) return format.replace('%d', String(Math.floor(abs / unit))).replace('%s', label);
  }
  return `a long while ${label}`;
}
