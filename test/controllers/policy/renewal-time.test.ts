// Renewal time: between 2/3 and 9/10 of the lifetime, reproducible for one certificate, spread across many.
import { expect } from 'chai';
import { RENEW_FROM, RENEW_UNTIL, renewalFraction, renewalTime, seededFraction } from '../../../src/controllers/policy/renewal-time.js';

describe('renewal time', () => {
  const notBefore = new Date('2026-01-01T00:00:00Z');
  const notAfter = new Date('2027-01-01T00:00:00Z');
  const life = notAfter.getTime() - notBefore.getTime();

  it('is the same for the same seed (a restart renews at the same time)', () => {
    expect(renewalTime(notBefore, notAfter, 'api/os-4f01').getTime()).to.equal(renewalTime(notBefore, notAfter, 'api/os-4f01').getTime());
  });

  it('falls within [2/3, 9/10) of the lifetime for every seed', () => {
    for (let i = 0; i < 2000; i++) {
      const at = renewalTime(notBefore, notAfter, `seed-${i}`).getTime() - notBefore.getTime();
      expect(at).to.be.at.least(Math.floor(life * RENEW_FROM));
      expect(at).to.be.below(life * RENEW_UNTIL);
    }
  });

  it('spreads a fleet: 1,000 seeds cover every tenth of the window', () => {
    const buckets = new Set<number>();
    for (let i = 0; i < 1000; i++) buckets.add(Math.floor(((renewalFraction(`node-${i}`) - RENEW_FROM) / (RENEW_UNTIL - RENEW_FROM)) * 10));
    expect([...buckets].sort((a, b) => a - b)).to.deep.equal([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('derives the fraction from SHA-256 of the seed (first 32 bits), in [0, 1)', () => {
    // sha256("") begins e3b0c442.
    expect(seededFraction('')).to.equal(0xe3b0c442 / 2 ** 32);
  });
});
