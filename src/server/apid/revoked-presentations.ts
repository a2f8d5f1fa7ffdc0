// When a revoked client certificate is presented to apid, the Revocations entry is annotated with when and from where
// (at most once a minute per revocation, so a client retrying in a loop cannot turn refusals into a stream of writes):
// SecurityStatus then says the certificate is still in use, and where to look for it.
import type { Clock } from '../../runtime/clock.js';
import type { RuntimeLogger } from '../../runtime/runtime-context.js';
import type { State } from '../../runtime/state.js';
import { PRESENTED_AT, PRESENTED_FROM, Revocations, revocationId } from '../../resources/revocations.js';
import type { RevocationSpec } from '../../resources/revocations.js';

const EVERY_MS = 60_000;

export class RevokedPresentations {
  private readonly last = new Map<string, number>();

  constructor(
    private readonly state: State,
    private readonly clock: Clock,
    private readonly log: RuntimeLogger,
  ) {}

  /** Records the presentation in the background; a failure is logged, never the caller's. */
  note(r: RevocationSpec, source: string | undefined): void {
    const id = revocationId(r.ca, r.serial);
    const now = this.clock.now().toMillis();
    if (now - (this.last.get(id) ?? -Infinity) < EVERY_MS) return;
    this.last.set(id, now);
    this.write(id, new Date(now).toISOString(), source ?? 'unknown').catch((err: unknown) => this.log('apid could not record a revoked certificate presented', { error: err instanceof Error ? err.message : String(err) }));
  }

  private async write(id: string, at: string, source: string): Promise<void> {
    const pointer = { namespace: Revocations.namespace, type: Revocations.type, id };
    const current = await this.state.find<RevocationSpec>(pointer);
    if (!current) return;
    const annotations = { ...current.metadata.annotations, [PRESENTED_AT]: at, [PRESENTED_FROM]: source };
    // As whoever wrote the entry (a user on a control plane, the revocation follower on a worker): only its owner may.
    await this.state.update({ ...current, metadata: { ...current.metadata, annotations } }, { owner: current.metadata.owner });
  }
}
