import { X509Certificate } from 'node:crypto';
import { expect } from 'chai';
import fc from 'fast-check';
import { inspectCertificate } from '../../src/pki/index.js';
import { apidWithAdmin } from './apid-harness.js';
import type { Credential , ApidHarness} from './apid-harness.js';

describe('apid: POST /v1/talosconfig ttlHours is bounded', function () {
  let h: ApidHarness;
  let admin: Credential;

  apidWithAdmin((started, cred) => {
    h = started;
    admin = cred;
  });

  it('refuses ttlHours 1e12 and 1e-9 with a 400 naming the field and the bounds', async () => {
    for (const ttlHours of [1e12, 1e-9, 1e308]) {
      const r = await h.request(admin, 'POST', '/v1/talosconfig', { roles: ['os:reader'], ttlHours });
      expect(r.status, r.body).to.equal(400);
      expect(r.json.error).to.match(/^ttlHours: must be from 1h to 876000h \(100 years\), got /);
    }
  });

  it('clamps a lifetime past the OS CA to its end and says so in clampedTo', async () => {
    const r = await h.request(admin, 'POST', '/v1/talosconfig', { roles: ['os:reader'], ttlHours: 876000 });
    expect(r.status, r.body).to.equal(200);
    const caEnd = inspectCertificate(h.caPem).notAfter;
    expect(r.json.clampedTo).to.equal(caEnd.toISOString());
    expect(inspectCertificate(r.json.crt as string).notAfter).to.deep.equal(caEnd);
  });

  it('answers every number either 400 or a certificate whose notAfter is finite and within the CA', async () => {
    const caEnd = inspectCertificate(h.caPem).notAfter.getTime();
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.double({ noNaN: true, noDefaultInfinity: true }), fc.double({ min: 1, max: 876000, noNaN: true })), async (ttlHours) => {
        const r = await h.request(admin, 'POST', '/v1/talosconfig', { roles: ['os:reader'], ttlHours });
        if (r.status === 400) {
          expect(ttlHours >= 1 && ttlHours <= 876000).to.equal(false);
          return;
        }
        expect(r.status, r.body).to.equal(200);
        const notAfter = Date.parse(new X509Certificate(r.json.crt as string).validTo);
        expect(Number.isFinite(notAfter)).to.equal(true);
        expect(notAfter).to.be.at.most(caEnd);
      }),
      { numRuns: 20 },
    );
  });
});
