// ipFamily must answer exactly as net.isIP does: it reads addresses by hand only so that no process compiles net's large
// IPv6 pattern.
import { expect } from 'chai';
import fc from 'fast-check';
import { isIP } from 'node:net';
import { ipFamily, serverNameFor } from '../../src/pki/index.js';

const ipv6Like = fc
  .array(fc.oneof(fc.stringMatching(/^[0-9a-fA-F]{0,5}$/), fc.constant(''), fc.ipV4()), { minLength: 1, maxLength: 10 })
  .map((parts) => parts.join(':'));
// Near-addresses: octets with leading zeros or past 255, and zones, good and bad.
const octet = fc.oneof(fc.integer({ min: 0, max: 300 }).map(String), fc.stringMatching(/^0[0-9]{1,2}$/));
const quad = fc.array(octet, { minLength: 3, maxLength: 5 }).map((o) => o.join('.'));
const zone = fc.oneof(fc.constant(''), fc.stringMatching(/^%[0-9a-zA-Z.:%-]{0,6}$/), fc.stringMatching(/^%.{0,3}$/));
const nearV6 = fc
  .tuple(fc.array(fc.oneof(fc.stringMatching(/^[0-9a-fA-F]{1,4}$/), fc.constant('')), { maxLength: 9 }), fc.option(quad), zone)
  .map(([groups, v4, z]) => `${[...groups, ...(v4 ? [v4] : [])].join(':')}${z}`);
const alphabet = fc.string({ unit: fc.constantFrom(...'0123456789abcdefABCDEF:.%z'), maxLength: 24 });

describe('ipFamily', () => {
  it('classifies addresses and names as net.isIP does', () => {
    const cases = ['10.0.0.1', '127.0.0.1', '::1', 'fe80::1', 'fe80::1%eth0', '::ffff:10.0.0.1', '2001:db8::', 'example.com', 'cp-1', '10.0.0.300', '1.2.3.4:80', '', ':', '::', 'a:b'];
    cases.push('1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7::', '1:2:3:4:5:6::', '1:2:3:4:5:6:1.2.3.4', '1:2:3:4:5::1.2.3.4', '1:2:3:4:5:6::1.2.3.4');
    cases.push('::1.2.3.4', '::01.2.3.4', '1.2.3.4::', ':::', '1:::2', ':1::2', '1::2::3', 'fe80::1%', 'fe80::1%a%b', 'fe80::1%en-0.1:2', '12345::', 'g::');
    cases.push('1:2:3:4:5:6:7', '1:2:3:4:5:6:7:8:9', '::1:2:3:4:5:6:7', '::1:2:3:4:5:6:7:8', '1.2.3.4\n', '::1\n', '0.0.0.0', '255.255.255.255', '256.0.0.1');
    for (const text of cases) expect(ipFamily(text), text).to.equal(isIP(text));
  });

  it('agrees with net.isIP on any string, IPv4 and IPv6 addresses, and colon-separated near-addresses', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.ipV4(), fc.ipV6(), fc.domain(), ipv6Like, nearV6, alphabet, quad), (text) => ipFamily(text) === isIP(text)),
      { numRuns: 20_000 },
    );
  });
});

describe('serverNameFor', () => {
  it('names a DNS host for SNI and never an IP address, v4, v6 or with a zone', () => {
    expect(serverNameFor('cp-1.example.com')).to.deep.equal({ servername: 'cp-1.example.com' });
    expect(serverNameFor('localhost')).to.deep.equal({ servername: 'localhost' });
    for (const ip of ['10.5.0.2', '::1', 'fd00::1', 'fe80::1%eth0', '::ffff:10.0.0.1']) expect(serverNameFor(ip), ip).to.deep.equal({});
  });
});
