// Where a store lives inside etcd, all under one prefix so several stores (and the leader key) share one cluster:
//   PREFIX/rev              the store's logical revision (the last bookmark), bumped by every write transaction
//   PREFIX/log/<revision>   one entry per change, the history watches resume from (pruned to historyLimit)
//   PREFIX/res/<ns>\0<type>\0<id>   one key per resource; byte order of ids gives list order (as SQLite's BINARY)
//   PREFIX/meta/<name>      store facts, e.g. the encryption key check
//   PREFIX/leader           the leader election key (held with a lease)
import type { Kind, Pointer } from '../resource.js';

const REVISION_DIGITS = 16;

export class EtcdKeys {
  readonly revision: Buffer;
  readonly logPrefix: string;
  readonly leader: Buffer;

  constructor(readonly prefix: string) {
    this.revision = Buffer.from(`${prefix}/rev`);
    this.logPrefix = `${prefix}/log/`;
    this.leader = Buffer.from(`${prefix}/leader`);
  }

  resource(p: Pointer): Buffer {
    return Buffer.from(`${this.kindPrefix(p)}${p.id}`);
  }

  kindPrefix(kind: Kind): string {
    return `${this.prefix}/res/${kind.namespace}\u0000${kind.type}\u0000`;
  }

  meta(name: string): Buffer {
    return Buffer.from(`${this.prefix}/meta/${name}`);
  }

  log(revision: number): Buffer {
    return Buffer.from(`${this.logPrefix}${String(revision).padStart(REVISION_DIGITS, '0')}`);
  }
}

/** The smallest key greater than every key starting with `prefix` (etcd's range_end for a prefix). */
export function prefixEnd(prefix: string | Buffer): Buffer {
  const end = Buffer.from(prefix);
  for (let i = end.length - 1; i >= 0; i--) {
    if (end[i] < 0xff) {
      end[i]++;
      return end.subarray(0, i + 1);
    }
  }
  return Buffer.from([0]);
}
