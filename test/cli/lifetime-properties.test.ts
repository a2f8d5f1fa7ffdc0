import { X509Certificate } from 'node:crypto';
import { expect } from 'chai';
import fc from 'fast-check';
import { durationOption, lifetimeHours, parseDuration } from '../../src/cli/duration.js';
import { MAX_LIFETIME_HOURS, MIN_LIFETIME_HOURS, PkiError, createCA, inspectCertificate, issueCertificate } from '../../src/pki/index.js';
import type { CertificateAuthority } from '../../src/pki/index.js';
import { lifetimesWith } from '../../src/controllers/lifetimes.js';
import { time } from '../../src/pki/der.js';
import { sharedKey } from '../pki/shared-keys.js';

const HOUR = 3_600_000;
const NOW = new Date('2026-01-01T00:00:00Z');
const seconds = (ms: number) => Math.floor(ms / 1000) * 1000;

/** Go duration text, including numbers far past what a Date can hold and parts that are not Go syntax at all. */
const durationText = fc.oneof(
  fc
    .tuple(
      fc.constantFrom('', '-', '+'),
      fc.array(
        fc.tuple(
          fc.oneof(fc.nat().map(String), fc.bigInt({ min: 0n, max: 2n ** 80n }).map(String), fc.stringMatching(/^[0-9]{1,400}$/), fc.tuple(fc.nat(), fc.nat()).map(([a, b]) => `${a}.${b}`)),
          fc.constantFrom('ns', 'us', 'µs', 'ms', 's', 'm', 'h'),
        ),
        { minLength: 1, maxLength: 4 },
      ),
    )
    .map(([sign, parts]) => sign + parts.map(([n, u]) => n + u).join('')),
  fc.integer({ min: 0, max: 2 * MAX_LIFETIME_HOURS }).map((h) => `${h}h`),
  fc.integer({ min: 0, max: 120 }).map((m) => `${m}m`),
  fc.string(),
);

/** Every number a caller can hand over, NaN and the infinities included. */
const anyHours = fc.oneof(fc.double(), fc.constantFrom(0, 1e-9, 1e12, 1e308, Number.MAX_VALUE, MIN_LIFETIME_HOURS, MAX_LIFETIME_HOURS, 87600.0001));

/** The end an issued certificate must have: now + hours, cut to whole seconds, or the CA's own end if that is sooner. */
function expectEnd(ca: CertificateAuthority, hours: number, issued: { certPem: string; clampedTo?: Date }): void {
  const caEnd = inspectCertificate(ca.cert).notAfter.getTime();
  const notAfter = inspectCertificate(issued.certPem).notAfter.getTime();
  expect(Number.isFinite(notAfter)).to.equal(true);
  expect(Number.isFinite(Date.parse(new X509Certificate(issued.certPem).validTo))).to.equal(true);
  const wanted = NOW.getTime() + hours * HOUR;
  expect(notAfter).to.equal(wanted > caEnd ? caEnd : seconds(wanted));
  expect(notAfter).to.be.at.most(caEnd).and.at.least(seconds(NOW.getTime() + MIN_LIFETIME_HOURS * HOUR));
  expect(issued.clampedTo?.getTime()).to.equal(wanted > caEnd ? caEnd : undefined);
}

describe('certificate lifetimes have a floor and a ceiling, and every date is finite', () => {
  let ca: CertificateAuthority;
  before(async () => {
    ca = await createCA('os', { key: sharedKey('ecdsa'), now: NOW });
  });

  it('every duration flag value is refused naming the flag, or issues a certificate ending in [1h, 100y] and within the CA', () => {
    const seen = { syntax: 0, range: 0, issued: 0 };
    fc.assert(
      fc.property(durationText, (text) => {
        let ms: number;
        try {
          ms = durationOption('--crt-ttl')(text);
        } catch (err) {
          expect(parseDuration(text)).to.equal(undefined);
          expect((err as Error).message).to.match(/^--crt-ttl: invalid duration /);
          seen.syntax++;
          return;
        }
        let hours: number;
        try {
          hours = lifetimeHours('--crt-ttl', ms);
        } catch (err) {
          expect((err as Error).message).to.match(/^--crt-ttl: .* is out of range; give a lifetime from 1h to 876000h \(100 years\)$/);
          expect(ms / HOUR >= MIN_LIFETIME_HOURS && ms / HOUR <= MAX_LIFETIME_HOURS).to.equal(false);
          seen.range++;
          return;
        }
        expect(hours).to.be.within(MIN_LIFETIME_HOURS, MAX_LIFETIME_HOURS);
        expectEnd(ca, hours, issueCertificate(ca, 'talos-client', { publicKey: sharedKey('ecdsa').publicKey, now: NOW, organizations: ['os:reader'], validityHours: hours }));
        seen.issued++;
      }),
      { numRuns: 300 },
    );
    // each outcome was exercised, so the property did not pass by never reaching the issuing branch
    expect(Math.min(seen.syntax, seen.range, seen.issued), JSON.stringify(seen)).to.be.above(10);
  });

  it('issueCertificate refuses every lifetime outside [1h, 876000h] (NaN and Infinity too) and bounds every other by the CA', () => {
    fc.assert(
      fc.property(anyHours, (hours) => {
        const issue = () => issueCertificate(ca, 'talos-client', { publicKey: sharedKey('ecdsa').publicKey, now: NOW, organizations: ['os:reader'], validityHours: hours });
        if (!(hours >= MIN_LIFETIME_HOURS && hours <= MAX_LIFETIME_HOURS)) {
          expect(issue).to.throw(PkiError, /^validityHours: must be (positive|from 1h to 876000h)/);
          return;
        }
        expectEnd(ca, hours, issue());
      }),
      { numRuns: 300 },
    );
  });

  it('createCA refuses every lifetime outside the bounds and never writes a date that is not finite', async () => {
    await fc.assert(
      fc.asyncProperty(anyHours, async (hours) => {
        const create = () => createCA('etcd', { key: sharedKey('ecdsa'), now: NOW, validityHours: hours });
        if (!(hours >= MIN_LIFETIME_HOURS && hours <= MAX_LIFETIME_HOURS)) {
          let refused: unknown;
          await create().catch((err: unknown) => (refused = err));
          expect(refused).to.be.instanceOf(PkiError);
          return;
        }
        const notAfter = inspectCertificate((await create()).cert).notAfter.getTime();
        expect(notAfter).to.equal(seconds(NOW.getTime() + hours * HOUR));
      }),
      { numRuns: 100 },
    );
  });

  it('refuses to encode an invalid date instead of writing "0NaNNaN...Z"', () => {
    expect(() => time(new Date(NaN))).to.throw(RangeError, 'time: not a valid date');
    expect(() => issueCertificate(ca, 'talos-client', { publicKey: sharedKey('ecdsa').publicKey, now: new Date(NaN), organizations: ['os:reader'] })).to.throw(
      PkiError,
      'now: is not a valid date',
    );
  });

  it('clamps a lifetime past the CA to the CA end and says so (clampedTo); one inside the CA is not clamped', () => {
    const long = issueCertificate(ca, 'talos-client', { publicKey: sharedKey('ecdsa').publicKey, now: NOW, organizations: ['os:reader'], validityHours: MAX_LIFETIME_HOURS });
    expect(long.clampedTo).to.deep.equal(inspectCertificate(ca.cert).notAfter);
    const short = issueCertificate(ca, 'talos-client', { publicKey: sharedKey('ecdsa').publicKey, now: NOW, organizations: ['os:reader'], validityHours: 24 });
    expect(short.clampedTo).to.equal(undefined);
  });
});

describe('controller lifetimes', () => {
  it('refuses a lifetime outside the bounds naming it, and keeps the defaults otherwise', () => {
    expect(() => lifetimesWith({ apiServerHours: 1 / 3600 })).to.throw(PkiError, /^lifetimes\.apiServerHours: must be from 1h to 876000h \(100 years\), got /);
    expect(() => lifetimesWith({ etcdHours: 1e12 })).to.throw(PkiError, /^lifetimes\.etcdHours: must be from 1h to 876000h/);
    expect(lifetimesWith({ trustdHours: 2 })).to.include({ trustdHours: 2, apiServerHours: 24 });
  });
});
