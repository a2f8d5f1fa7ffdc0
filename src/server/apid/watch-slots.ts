// Open watch streams, counted per client certificate and in total, so that one client (or many) cannot hold so many
// streams that every other call waits behind their fan-out: a watch beyond either limit is refused with a 429.
import { ApiError } from './api-error.js';

export interface WatchLimits {
  /** Open watches one client certificate may hold (forwarded watches count against the forwarding node's). */
  perClient: number;
  /** Open watches on this apid, all clients together. */
  total: number;
}

export const DEFAULT_WATCH_LIMITS: Readonly<WatchLimits> = { perClient: 100, total: 1000 };

export class WatchSlots {
  private readonly byClient = new Map<string, number>();
  private open = 0;

  constructor(private readonly limits: WatchLimits) {
    for (const [name, value] of Object.entries(limits))
      if (!Number.isInteger(value) || value < 1) throw new RangeError(`watch limit ${name}: expected a whole number >= 1, got ${value}`);
  }

  /** Open watches now. */
  get size(): number {
    return this.open;
  }

  /** Takes a slot for `client` (a certificate fingerprint; `who` names it in the refusal); call the result once done. */
  take(client: string, who: string): () => void {
    const mine = this.byClient.get(client) ?? 0;
    if (mine >= this.limits.perClient)
      throw new ApiError(429, `too many watches: ${who} has ${mine} open, the most one client may hold; end some (each get -w holds one) and retry`);
    if (this.open >= this.limits.total) throw new ApiError(429, `too many watches on this node: ${this.open} open, the most it serves; retry later`);
    this.byClient.set(client, mine + 1);
    this.open++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.open--;
      const left = (this.byClient.get(client) ?? 1) - 1;
      if (left > 0) this.byClient.set(client, left);
      else this.byClient.delete(client);
    };
  }
}
