import { expect } from 'chai';
import { expiryWarning } from '../../src/cli/api-client.js';

describe('talosconfig certificate expiry warning', () => {
  const now = new Date('2026-01-01T00:00:00Z');
  const at = (days: number) => new Date(now.getTime() + days * 86_400_000);

  it('says nothing beyond 30 days', () => {
    expect(expiryWarning('admin@demo', at(30.5), now)).to.equal(undefined);
  });

  it('counts whole days left within 30 days, and less than a day at the end', () => {
    expect(expiryWarning('admin@demo', at(29.9), now)).to.equal(
      'warning: the client certificate of talosconfig context "admin@demo" expires in 29 days (2026-01-30); get a new one with `trustctl config new` (or ask an admin)',
    );
    expect(expiryWarning('admin@demo', at(0.5), now)).to.match(/expires in less than a day \(2026-01-01\)/);
  });

  it('says an expired certificate will be refused', () => {
    expect(expiryWarning('admin@demo', at(-1), now)).to.equal(
      'warning: the client certificate of talosconfig context "admin@demo" expired on 2025-12-31; the API will refuse it: get a new one with `trustctl config new` (or ask an admin)',
    );
  });
});
