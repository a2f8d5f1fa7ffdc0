// An indexed binary min-heap of wake-up times: at most one entry per key, so rescheduling a key moves its entry
// instead of leaving stale ones behind. Ties break by insertion order, which keeps firing order deterministic.
interface Entry<K> {
  key: K;
  at: number;
  seq: number;
}

export class TimerHeap<K> {
  private readonly entries: Entry<K>[] = [];
  private readonly index = new Map<K, number>();
  private seq = 0;

  get size(): number {
    return this.entries.length;
  }

  has(key: K): boolean {
    return this.index.has(key);
  }

  /** The time (epoch ms) at which `key` is due, if it is scheduled. */
  at(key: K): number | undefined {
    const i = this.index.get(key);
    return i === undefined ? undefined : this.entries[i].at;
  }

  /** Schedules `key` at `at` (epoch ms), replacing its previous time. O(log n). */
  set(key: K, at: number): void {
    if (!Number.isFinite(at)) throw new RangeError(`timer time must be a finite number of milliseconds, got ${at}`);
    const i = this.index.get(key);
    if (i === undefined) {
      this.entries.push({ key, at, seq: this.seq++ });
      this.index.set(key, this.entries.length - 1);
      this.up(this.entries.length - 1);
      return;
    }
    const entry = this.entries[i];
    if (entry.at === at) return;
    entry.at = at;
    entry.seq = this.seq++;
    this.down(this.up(i));
  }

  delete(key: K): boolean {
    const i = this.index.get(key);
    if (i === undefined) return false;
    this.removeAt(i);
    return true;
  }

  /** The earliest entry, without removing it. O(1). */
  peek(): { key: K; at: number } | undefined {
    const top = this.entries[0];
    return top && { key: top.key, at: top.at };
  }

  /** Removes and returns the earliest entry. */
  pop(): { key: K; at: number } | undefined {
    const top = this.entries[0];
    if (!top) return undefined;
    this.removeAt(0);
    return { key: top.key, at: top.at };
  }

  /** Removes and returns, in time order, every key due at or before `now`. O(due log n): nothing due costs O(1). */
  popDue(now: number): K[] {
    const due: K[] = [];
    while (this.entries.length > 0 && this.entries[0].at <= now) due.push(this.pop()!.key);
    return due;
  }

  private removeAt(i: number): void {
    const removed = this.entries[i];
    this.index.delete(removed.key);
    const last = this.entries.pop()!;
    if (last === removed) return;
    this.entries[i] = last;
    this.index.set(last.key, i);
    this.down(this.up(i));
  }

  private before(a: Entry<K>, b: Entry<K>): boolean {
    return a.at < b.at || (a.at === b.at && a.seq < b.seq);
  }

  private up(i: number): number {
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.before(this.entries[i], this.entries[parent])) break;
      this.swap(i, parent);
      i = parent;
    }
    return i;
  }

  private down(i: number): void {
    const n = this.entries.length;
    for (;;) {
      const left = 2 * i + 1;
      const right = left + 1;
      let least = i;
      if (left < n && this.before(this.entries[left], this.entries[least])) least = left;
      if (right < n && this.before(this.entries[right], this.entries[least])) least = right;
      if (least === i) return;
      this.swap(i, least);
      i = least;
    }
  }

  private swap(a: number, b: number): void {
    const ea = this.entries[a];
    const eb = this.entries[b];
    this.entries[a] = eb;
    this.entries[b] = ea;
    this.index.set(eb.key, a);
    this.index.set(ea.key, b);
  }
}
