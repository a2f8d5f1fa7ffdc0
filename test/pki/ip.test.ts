// ipFamily must answer exactly as net.isIP does (it only avoids compiling net's IPv6 pattern for names without a colon).
import { expect } from 'chai';
import fc from 'fast-check';
import { isIP } from 'node:net';
import { ipFamily } from '../../src/pki/index.js';

const ipv6Like = fc
  .array(fc.oneof(fc.stringMatching(/^[0-9a-fA-F]{0,5}$/), fc.constant(''), fc.ipV4()), { minLength: 1, maxLength: 10 })
  .map((parts) => parts.join(':'));

describe('ipFamily', () => {
  it('classifies addresses and names as net.isIP does', () => {
    const cases = ['10.0.0.1', '127.0.0.1', '::1', 'fe80::1', 'fe80::1%eth0', '::ffff:10.0.0.1', '2001:db8::', 'example.com', 'cp-1', '10.0.0.300', '1.2.3.4:80', '', ':', '::', 'a:b'];
    for (const text of cases) expect(ipFamily(text), text).to.equal(isIP(text));
  });

  it('agrees with net.isIP on any string, IPv4 and IPv6 addresses, and colon-separated near-addresses', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.ipV4(), fc.ipV6(), fc.domain(), ipv6Like), (text) => ipFamily(text) === isIP(text)),
      { numRuns: 2000 },
    );
  });
});
