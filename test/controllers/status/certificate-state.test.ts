// A certificate's state at a moment, and when it next changes, for each state and each boundary.
import { expect } from 'chai';
import { certificateState, expiringSoonFrom, worseState } from '../../../src/controllers/status/certificate-state.js';

const DAY = 86_400_000;
const notBefore = new Date('2026-01-01T00:00:00Z');
const notAfter = new Date(notBefore.getTime() + 100 * DAY);
const renewal = new Date(notBefore.getTime() + 70 * DAY);
const day = (n: number) => new Date(notBefore.getTime() + n * DAY);

describe('certificate state', () => {
  it('NotYetValid before notBefore, changing at notBefore, and says the clock may be skewed', () => {
    const v = certificateState({ notBefore, notAfter, chainsToAcceptedCA: true, now: day(-1) });
    expect(v.state).to.equal('NotYetValid');
    expect(v.message).to.include('clock skew?');
    expect(v.nextChange).to.deep.equal(notBefore);
  });

  it('Expired from notAfter on (the very millisecond), with nothing after it', () => {
    expect(certificateState({ notBefore, notAfter, chainsToAcceptedCA: true, now: new Date(notAfter.getTime() - 1) }).state).to.equal('ExpiringSoon');
    const v = certificateState({ notBefore, notAfter, chainsToAcceptedCA: true, now: notAfter });
    expect(v).to.deep.equal({ state: 'Expired', message: `expired at ${notAfter.toISOString()}` });
  });

  it('Invalid when it does not chain, with the chain message, until it expires', () => {
    const v = certificateState({ notBefore, notAfter, chainsToAcceptedCA: false, chainMessage: 'unknown authority', now: day(1) });
    expect(v).to.deep.equal({ state: 'Invalid', message: 'unknown authority', nextChange: notAfter });
  });

  it('renewed automatically: Valid until the renewal time, then Renewing until notAfter', () => {
    expect(certificateState({ notBefore, notAfter, renewalTime: renewal, chainsToAcceptedCA: true, now: day(69) })).to.deep.equal({
      state: 'Valid',
      message: `renews at ${renewal.toISOString()}`,
      nextChange: renewal,
    });
    expect(certificateState({ notBefore, notAfter, renewalTime: renewal, chainsToAcceptedCA: true, now: renewal })).to.deep.equal({
      state: 'Renewing',
      message: `renewal due since ${renewal.toISOString()}`,
      nextChange: notAfter,
    });
  });

  it('not renewed automatically: ExpiringSoon in the last tenth of the life, capped at a year', () => {
    expect(expiringSoonFrom(notBefore, notAfter)).to.deep.equal(day(90));
    expect(certificateState({ notBefore, notAfter, chainsToAcceptedCA: true, now: day(89) })).to.deep.equal({
      state: 'Valid',
      message: `valid until ${notAfter.toISOString()}`,
      nextChange: day(90),
    });
    expect(certificateState({ notBefore, notAfter, chainsToAcceptedCA: true, now: day(90) }).state).to.equal('ExpiringSoon');
    const tenYears = new Date(notBefore.getTime() + 3650 * DAY);
    expect(expiringSoonFrom(notBefore, tenYears)).to.deep.equal(new Date(tenYears.getTime() - 365 * DAY));
  });

  it('orders states by severity: Expired is worst, Valid is best, and the order is symmetric', () => {
    expect(worseState('Valid', 'Expired')).to.equal('Expired');
    expect(worseState('Expired', 'Valid')).to.equal('Expired');
    expect(worseState('Renewing', 'ExpiringSoon')).to.equal('ExpiringSoon');
    expect(worseState('Invalid', 'NotYetValid')).to.equal('Invalid');
    expect(worseState('Pending', 'Pending')).to.equal('Pending');
  });
});
