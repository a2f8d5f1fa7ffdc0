// The common tail of every issuing controller: plan the set, write it, come back at the earliest renewal.
import { DateTime } from 'luxon';
import type { ReconcileContext, ReconcileResult } from '../../runtime/controller.js';
import { requeueAt } from '../../runtime/controller.js';
import type { ResourceDefinition } from '../../runtime/resource.js';
import type { IssuedCertificatesSpec } from '../../resources/issued-certificates.js';
import type { AuditSink } from '../audit/audit-event.js';
import { controllerActor } from '../audit/audit-event.js';
import { issueSet } from './issue-set.js';
import type { WantedCertificate } from './issue-set.js';
import type { LeafKeySource } from './leaf-keys.js';

export interface IssuedSetExtras {
  acceptedCAs: string[];
  kubeconfigs?: (certificates: IssuedCertificatesSpec['certificates']) => Record<string, string>;
  /** Where each issuance is recorded, once it is written. */
  audit: AuditSink;
  /** Where each new certificate's key comes from (see leaf-keys.ts). */
  leafKeys: LeafKeySource;
}

export async function writeIssuedSet(
  rt: ReconcileContext,
  definition: ResourceDefinition<IssuedCertificatesSpec>,
  id: string,
  wanted: readonly WantedCertificate[],
  extras: IssuedSetExtras,
): Promise<ReconcileResult> {
  const current = await rt.get(definition, id);
  const now = rt.clock.now().toJSDate();
  const plan = await issueSet(id, current?.spec.certificates ?? {}, wanted, now, extras.leafKeys);
  const next: IssuedCertificatesSpec = {
    certificates: plan.certificates,
    acceptedCAs: extras.acceptedCAs,
    ...(extras.kubeconfigs ? { kubeconfigs: extras.kubeconfigs(plan.certificates) } : {}),
  };
  // The store skips a write whose spec is unchanged, so an idle reconcile writes nothing and wakes no one.
  await rt.modify(definition, id, () => next);
  for (const i of plan.issued) {
    rt.log(`issued ${definition.type}/${id} ${i.name}`, { reason: i.reason, why: i.message });
    // Not awaited: the recorder commits records in groups, off the issuing path.
    void extras.audit.record({ actor: controllerActor(rt.controller), action: 'certificate-issued', details: { ...i.details, certificate: `${definition.type}/${id}/${i.name}`, reason: i.reason } });
  }
  const at = plan.nextRenewal ? DateTime.fromJSDate(plan.nextRenewal, { zone: 'utc' }) : undefined;
  return requeueAt(at, plan.issued.length ? `issued ${plan.issued.map((i) => `${i.name} (${i.reason})`).join(', ')}` : 'up to date');
}
