// The recent log lines of each service of a node (apid, trustd, controller-runtime), kept in memory for `trustctl
// logs` as Talos keeps its services' logs: a ring bounded by lines and by bytes (the oldest lines go first), with
// followers that get each new line as it is appended. Lines arrive formatted and scrubbed of secrets by the logger that
// writes them to stderr, so what apid serves is exactly what the node printed.

/** The services whose logs a node keeps, as `talosctl logs` names them. */
export const SERVICE_NAMES = ['apid', 'trustd', 'controller-runtime'] as const;
export type ServiceName = (typeof SERVICE_NAMES)[number];

export interface LogRingLimits {
  /** Lines kept at most (default 2000). */
  lines: number;
  /** Bytes (UTF-8, newlines not counted) kept at most (default 1 MiB). */
  bytes: number;
}

export const DEFAULT_LOG_RING_LIMITS: Readonly<LogRingLimits> = { lines: 2000, bytes: 1 << 20 };

/** A line longer than this is cut, so one huge error cannot push every other line out of the ring. */
export const MAX_LINE_BYTES = 8 << 10;

export function isServiceName(name: string): name is ServiceName {
  return (SERVICE_NAMES as readonly string[]).includes(name);
}

export class LogRing {
  private readonly lines: string[] = [];
  private bytes = 0;
  private readonly followers = new Set<(line: string) => void>();

  constructor(private readonly limits: LogRingLimits = DEFAULT_LOG_RING_LIMITS) {
    if (!(limits.lines >= 1) || !(limits.bytes >= 1)) throw new RangeError(`log ring: lines and bytes must be at least 1, got ${limits.lines} and ${limits.bytes}`);
  }

  append(text: string): void {
    const line = cut(text.endsWith('\n') ? text.slice(0, -1) : text);
    this.lines.push(line);
    this.bytes += Buffer.byteLength(line);
    while (this.lines.length > this.limits.lines || (this.bytes > this.limits.bytes && this.lines.length > 1)) this.bytes -= Buffer.byteLength(this.lines.shift()!);
    for (const follower of this.followers) follower(line);
  }

  /** The last `count` lines (all of them when count is undefined), oldest first. */
  tail(count?: number): string[] {
    return count === undefined ? [...this.lines] : count <= 0 ? [] : this.lines.slice(-count);
  }

  /** Calls `onLine` with every line appended from now on; the returned function stops it. */
  follow(onLine: (line: string) => void): () => void {
    this.followers.add(onLine);
    return () => this.followers.delete(onLine);
  }

  /** Readers following now. */
  get following(): number {
    return this.followers.size;
  }

  get size(): { lines: number; bytes: number } {
    return { lines: this.lines.length, bytes: this.bytes };
  }
}

function cut(line: string): string {
  if (Buffer.byteLength(line) <= MAX_LINE_BYTES) return line;
  // Cut on a character boundary: the bytes are decoded again and a split character dropped.
  const head = Buffer.from(line).subarray(0, MAX_LINE_BYTES).toString('utf8').replace(/\uFFFD$/, '');
  return `${head}... (line cut at ${MAX_LINE_BYTES} bytes)`;
}

/** One ring per service of the node. */
export class ServiceLogs {
  private readonly rings = new Map<ServiceName, LogRing>();

  constructor(limits: LogRingLimits = DEFAULT_LOG_RING_LIMITS) {
    for (const name of SERVICE_NAMES) this.rings.set(name, new LogRing(limits));
  }

  of(service: ServiceName): LogRing {
    return this.rings.get(service)!;
  }
}
