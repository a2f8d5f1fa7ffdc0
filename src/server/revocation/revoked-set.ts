// The revoked certificates as a server checks them on every request: Maps keyed by CA and serial (and, for trustd, by
// name and public key), kept current from a watch of Revocations, so a look-up costs one hash probe however many
// certificates are revoked, and a revocation written anywhere reaches the next request.
import { createHash } from 'node:crypto';
import type { Subscription } from 'rxjs';
import type { CaName } from '../../resources/common.js';
import { Revocations, normalSerial, revocationId } from '../../resources/revocations.js';
import type { RevocationSpec } from '../../resources/revocations.js';
import type { State } from '../../runtime/state.js';

export class RevokedSet {
  private readonly byId = new Map<string, RevocationSpec>();
  private byName = new Map<string, RevocationSpec>();
  private byKey = new Map<string, RevocationSpec>();
  private subscription: Subscription | undefined;
  private waiters: (() => void)[] = [];
  /** Names the set's content (the same on every control plane holding the same revocations): what workers sync by. */
  etag = '';

  private constructor() {}

  /** Resolves once the revocations stored now are loaded; follows changes until close(). */
  static follow(state: State, report: (message: string, fields?: Record<string, unknown>) => void = () => undefined): Promise<RevokedSet> {
    const set = new RevokedSet();
    return new Promise((resolve) => {
      let loaded = false;
      const done = () => {
        if (loaded) return;
        loaded = true;
        set.reindex();
        resolve(set);
      };
      set.subscription = state.watchKind<RevocationSpec>({ namespace: Revocations.namespace, type: Revocations.type }, { bootstrap: true }).subscribe({
        next: (e) => {
          if (e.type === 'bootstrapped') return done();
          if (!e.resource) return;
          if (e.type === 'destroyed') set.byId.delete(e.resource.metadata.id);
          else if (e.type === 'created' || e.type === 'updated') set.byId.set(e.resource.metadata.id, e.resource.spec);
          if (loaded) set.reindex();
        },
        error: (err: unknown) => {
          // What was loaded keeps being enforced; a later revocation is not seen until restart, which is said loudly.
          report('stopped following revocations', { error: err instanceof Error ? err.message : String(err) });
          done();
        },
      });
    });
  }

  close(): void {
    this.subscription?.unsubscribe();
    this.wake();
  }

  /** Every revocation, in id order. */
  entries(): RevocationSpec[] {
    return [...this.byId.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([, r]) => r);
  }

  /** Resolves at the next change of the set (or when it is closed). */
  changed(): Promise<void> {
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }

  get size(): number {
    return this.byId.size;
  }

  /** The revocation of the certificate with this serial from this CA, if any. */
  find(ca: CaName, serial: string): RevocationSpec | undefined {
    return this.byId.get(revocationId(ca, normalSerial(serial)));
  }

  /** A revocation of an OS-CA certificate issued for one of these names (a node's), if any. */
  forNames(names: readonly string[]): RevocationSpec | undefined {
    for (const n of names) {
      const r = this.byName.get(n.toLowerCase());
      if (r) return r;
    }
    return undefined;
  }

  /** A revocation of an OS-CA certificate of this public key (SHA-256 of the SPKI, hex), if any. */
  forPublicKey(digest: string): RevocationSpec | undefined {
    return this.byKey.get(digest);
  }

  /** Name and key indexes are rebuilt on change (revocations are rare; look-ups are per request). */
  private reindex(): void {
    const byName = new Map<string, RevocationSpec>();
    const byKey = new Map<string, RevocationSpec>();
    for (const r of this.byId.values()) {
      if (r.ca !== 'os') continue;
      for (const n of r.names) byName.set(n.toLowerCase(), r);
      if (r.publicKey) byKey.set(r.publicKey, r);
    }
    this.byName = byName;
    this.byKey = byKey;
    const etag = createHash('sha256').update(JSON.stringify(this.entries())).digest('base64url').slice(0, 22);
    // Only a change of the entries themselves (an annotation written by apid is not one) wakes the long polls.
    if (etag === this.etag) return;
    this.etag = etag;
    this.wake();
  }
}

/** `certificate revoked (serial 4f..., 2026-12-05 14:02 UTC: "laptop stolen")`: what happened, for every refusal. */
export function revokedText(r: RevocationSpec): string {
  const at = r.revokedAt.slice(0, 16).replace('T', ' ');
  return `certificate revoked (serial ${r.serial}, ${at} UTC: ${JSON.stringify(r.reason)})`;
}

/** apid's refusal of a revoked client certificate, with the way out. */
export const revokedClientMessage = (r: RevocationSpec): string => `${revokedText(r)}; get a new one with trustctl config new`;
