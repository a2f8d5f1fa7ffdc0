// What apid thinks of each connection's client certificate, kept per TLS socket: getPeerX509Certificate and the chain
// check cost more than a whole small request, so a kept-alive connection is judged once, and judged again only when
// the accepted CAs have changed since (a CA dropped by a rotation) or its certificate has expired since: a connection
// must not outlive the trust it was opened with.
import type { TLSSocket } from 'node:tls';
import type { Clock } from '../../runtime/clock.js';
import { verifyClientCertificate } from './client-verification.js';
import type { ClientVerdict } from './client-verification.js';
import type { AcceptedCAs } from './tls-material.js';

/** What is judged: the TLS socket of a connection (a request's req.socket). */
export type PeerSocket = Pick<TLSSocket, 'getPeerX509Certificate'>;

/** The accepted CAs and the generation they belong to (AcceptedCAs, followed from the store). */
export type AcceptedCASource = Pick<AcceptedCAs, 'generation' | 'current'>;

interface Cached {
  /** The generation of the CAs the check used (-1 until it has them: a request meanwhile checks again). */
  generation: number;
  verdict: Promise<ClientVerdict>;
}

export class ClientVerdicts {
  // Weak: a closed socket's verdict goes with it.
  private readonly verdicts = new WeakMap<PeerSocket, Cached>();

  constructor(
    private readonly cas: AcceptedCASource,
    private readonly clock: Clock,
  ) {}

  async of(socket: PeerSocket): Promise<ClientVerdict> {
    const cached = this.verdicts.get(socket);
    if (cached && cached.generation === this.cas.generation) {
      const verdict = await cached.verdict;
      if (!verdict.ok || this.clock.now().toMillis() <= verdict.identity.notAfter.getTime()) return verdict;
    }
    const fresh: Cached = {
      generation: -1,
      verdict: this.cas.current().then(({ certs, generation }) => {
        fresh.generation = generation;
        return verifyClientCertificate(socket.getPeerX509Certificate(), certs, new Date(this.clock.now().toMillis()));
      }),
    };
    this.verdicts.set(socket, fresh);
    return fresh.verdict;
  }
}
