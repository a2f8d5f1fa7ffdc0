// apid's server certificate, followed from the store: the node's ApiCertificates server certificate, chained with the
// cross-signed CA of a CA rotation when there is one (so clients still on the old CA can verify it), handed to the
// server whenever either changes. Two watches, because the certificate and the cross-signed CA change independently:
// the controller re-issues on renewal, the rotation driver writes CrossSignedCAs per phase.
import type { Subscription } from 'rxjs';
import type { CrossSignedCAsSpec } from '../../resources/cross-signed-cas.js';
import type { IssuedCertificatesSpec } from '../../resources/issued-certificates.js';
import type { RuntimeLogger } from '../../runtime/runtime-context.js';
import type { State, WatchEvent } from '../../runtime/state.js';
import { API_CERTIFICATES, CROSS_SIGNED, apiCertificate, servingChain } from './tls-material.js';
import type { TlsPair } from './tls-material.js';

const isChange = (e: WatchEvent) => e.type === 'created' || e.type === 'updated' || e.type === 'destroyed';

export class ServingCertificate {
  /** Resolves once a certificate is installed: before that, handshakes fail. */
  readonly ready: Promise<void>;
  private markReady: () => void = () => undefined;
  private issued: IssuedCertificatesSpec | undefined;
  private crossSigned: string[] = [];
  private installed = '';
  private readonly subscriptions: Subscription[];

  /** `install` receives each new chain and key (setSecureContext): new connections get it, open ones keep theirs. */
  constructor(
    state: State,
    private readonly install: (tls: TlsPair) => void,
    private readonly log: RuntimeLogger,
  ) {
    this.ready = new Promise<void>((resolve) => (this.markReady = resolve));
    const failed = (what: string) => (err: unknown) => log(`apid ${what} watch failed`, { error: err instanceof Error ? err.message : String(err) });
    this.subscriptions = [
      state.watch<IssuedCertificatesSpec>(API_CERTIFICATES).subscribe({
        next: (e) => {
          if (!isChange(e)) return;
          this.issued = e.type === 'destroyed' ? undefined : e.resource?.spec;
          this.reinstall();
        },
        error: failed('certificate'),
      }),
      state.watch<CrossSignedCAsSpec>(CROSS_SIGNED).subscribe({
        next: (e) => {
          if (!isChange(e)) return;
          this.crossSigned = e.type === 'destroyed' ? [] : (e.resource?.spec.crts ?? []);
          this.reinstall();
        },
        error: failed('cross-signed CA'),
      }),
    ];
  }

  close(): void {
    for (const s of this.subscriptions) s.unsubscribe();
  }

  /** A key that does not load is logged and the certificate installed before is kept. */
  private reinstall(): void {
    try {
      const pair = apiCertificate(this.issued, 'server');
      if (!pair) return;
      const cert = servingChain(pair.cert, this.crossSigned);
      if (cert === this.installed) return;
      this.install({ cert, key: pair.key });
      this.installed = cert;
      this.log('apid server certificate installed', cert === pair.cert ? {} : { chain: 'with the cross-signed CA of a rotation' });
      this.markReady();
    } catch (err) {
      this.log('apid server certificate not installed', { error: (err as Error).message });
    }
  }
}
