import { expect } from 'chai';
import { X509Certificate } from 'node:crypto';
import { DateTime } from 'luxon';
import { ApiCertificates, EtcdSecrets, KubernetesSecrets, SecurityStatuses, TrustdCertificates } from '../../src/resources/index.js';
import type { IssuedCertificatesSpec, SecurityStatusSpec } from '../../src/resources/index.js';
import { NodeHarness, freshBundle } from './node-harness.js';

const START = DateTime.fromISO('2027-01-01T00:00:00Z', { zone: 'utc' });
const SETS = [
  [ApiCertificates, 'api'],
  [TrustdCertificates, 'trustd'],
  [EtcdSecrets, 'etcd'],
  [KubernetesSecrets, 'k8s'],
] as const;

// Each day reads every certificate in use, mostly the same ones: parsing each once (not 3,650 times) was half the file's time.
const validities = new Map<string, { from: number; to: number }>();
function validity(crt: string): { from: number; to: number } {
  let known = validities.get(crt);
  if (!known) {
    const cert = new X509Certificate(crt);
    known = { from: Date.parse(cert.validFrom), to: Date.parse(cert.validTo) };
    validities.set(crt, known);
  }
  return known;
}

interface Held {
  crt: string;
  issuedAt: string;
  renewAt: string;
}

describe('ten years of a control-plane node under a manual clock', function () {
  this.timeout(300_000);

  it('never holds an expired certificate, renews on schedule, and warns before the CA expires', async () => {
    // A 30-day lifetime for apid/trustd gives ~150 renewals in ten years; Kubernetes keeps its 1-year default.
    const bundle = await freshBundle(START.toJSDate());
    const h = await NodeHarness.start({ bundle, start: START, lifetimes: { apiServerHours: 720, impersonatorHours: 720, trustdHours: 720 } });
    const caNotAfter = DateTime.fromJSDate(new Date(new X509Certificate(bundle.certs.os.crt).validTo), { zone: 'utc' });
    const held = new Map<string, Held>();
    const renewals = new Map<string, number>();
    let firstWarning: DateTime | undefined;
    let healthyDays = 0;
    try {
      const end = caNotAfter.minus({ days: 1 });
      for (let now = START; now < end; now = DateTime.min(now.plus({ days: 1 }), end)) {
        await h.clock.set(now);
        await h.node.runtime.settled();
        const at = now.toMillis();
        for (const [def, id] of SETS) {
          const set = await h.node.state.get<IssuedCertificatesSpec>({ namespace: 'secrets', type: def.type, id });
          for (const [name, c] of Object.entries(set.spec.certificates)) {
            const key = `${id}-${name}`;
            const cert = validity(c.crt);
            expect(cert.from <= at && at < cert.to, `${key} in use at ${now.toISO()} but valid ${new Date(cert.from).toISOString()} .. ${new Date(cert.to).toISOString()}`).to.equal(true);
            const previous = held.get(key);
            if (previous && previous.crt !== c.crt) {
              renewals.set(key, (renewals.get(key) ?? 0) + 1);
              // Renewed exactly when it was scheduled (timers fire at their time, not at the next daily step).
              expect(c.issuedAt, `${key} renewal time`).to.equal(previous.renewAt);
            }
            held.set(key, { crt: c.crt, issuedAt: c.issuedAt, renewAt: c.renewAt });
          }
        }
        const security = await h.node.state.get<SecurityStatusSpec>({ namespace: 'runtime', type: SecurityStatuses.type, id: 'securitystatus' });
        if (security.spec.healthy) healthyDays++;
        if (!firstWarning && security.spec.findings.some((f) => f.code === 'CAExpiringSoon' && f.subject === 'ca-os')) firstWarning = now;
        if (now.equals(end)) break;
      }
    } finally {
      await h.destroy();
    }
    // Each renewal comes between 2/3 and 9/10 of the lifetime, so over the run the count lies between run/(0.9 L)
    // and run/(2/3 L); the Kubernetes certificates get clamped to the CA in the last year, which only adds renewals.
    const hours = caNotAfter.minus({ days: 1 }).diff(START, 'hours').hours;
    const expected = (lifetime: number) => [Math.floor(hours / (lifetime * 0.9)) - 1, Math.ceil(hours / (lifetime * (2 / 3)))] as const;
    expect(renewals.get('api-server') ?? 0).to.be.within(...expected(720));
    expect(renewals.get('trustd-server') ?? 0).to.be.within(...expected(720));
    const [k8sLow] = expected(8760);
    expect(renewals.get('k8s-kube-apiserver') ?? 0).to.be.within(k8sLow, k8sLow + 20);
    // etcd certificates ask for the CA's ten years and are clamped to its end, so they renew at 2/3..9/10 of what is
    // left: a few times near the end, never zero.
    expect(renewals.get('etcd-server') ?? 0).to.be.within(1, 20);
    // The OS CA shows as expiring a year before its end, and not before.
    expect(firstWarning, 'a CAExpiringSoon finding before the CA expires').to.not.equal(undefined);
    const lead = caNotAfter.diff(firstWarning!, 'days').days;
    expect(lead).to.be.within(364, 366);
    expect(healthyDays).to.be.greaterThan(9 * 365 - 5);
  });
});
