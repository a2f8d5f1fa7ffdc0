// Token buckets keyed by a source (an address, or one key for a whole service): each may spend `burst` at once and
// earns `perSecond` back over time.
// Time comes from the injected clock, so tests step it instead of sleeping.
import type { Clock } from '../runtime/clock.js';

export interface RateLimitOptions {
  /** Requests a source earns per second. */
  perSecond: number;
  /** Requests a source may make at once (the bucket size). */
  burst: number;
  /** Sources remembered at most; full buckets are forgotten first. */
  maxSources?: number;
}

export const DEFAULT_RATE_LIMIT: Readonly<RateLimitOptions> = { perSecond: 5, burst: 20, maxSources: 10_000 };

interface Bucket {
  tokens: number;
  at: number;
}

export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();
  private readonly maxSources: number;

  constructor(
    private readonly options: RateLimitOptions,
    private readonly clock: Clock,
  ) {
    if (!(options.perSecond > 0) || !(options.burst >= 1)) {
      throw new RangeError(`rateLimit: perSecond must be positive and burst at least 1, got ${options.perSecond}/s burst ${options.burst}`);
    }
    this.maxSources = options.maxSources ?? DEFAULT_RATE_LIMIT.maxSources!;
  }

  /** Spends one token of `source`; false when its bucket is empty. `now` (ms) saves a clock read when the caller has one. */
  take(source: string, now = this.clock.now().toMillis()): boolean {
    let bucket = this.buckets.get(source);
    if (!bucket) {
      if (this.buckets.size >= this.maxSources) this.forgetFull(now);
      bucket = { tokens: this.options.burst, at: now };
      this.buckets.set(source, bucket);
    } else {
      this.refill(bucket, now);
    }
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  }

  /** Seconds until `source` has a token again (for Retry-After). */
  retryAfterSeconds(source: string): number {
    const bucket = this.buckets.get(source);
    if (!bucket || bucket.tokens >= 1) return 0;
    return Math.ceil((1 - bucket.tokens) / this.options.perSecond);
  }

  private refill(bucket: Bucket, now: number): void {
    if (now <= bucket.at) return;
    bucket.tokens = Math.min(this.options.burst, bucket.tokens + ((now - bucket.at) / 1000) * this.options.perSecond);
    bucket.at = now;
  }

  private forgetFull(now: number): void {
    for (const [source, bucket] of this.buckets) {
      this.refill(bucket, now);
      if (bucket.tokens >= this.options.burst) this.buckets.delete(source);
    }
    // Still full of busy sources: forget the oldest rather than grow without bound.
    while (this.buckets.size >= this.maxSources) this.buckets.delete(this.buckets.keys().next().value as string);
  }
}
