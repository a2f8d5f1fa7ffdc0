import { expect } from 'chai';
import { isDNSName, isIPAddress, subjectAltNameProblem } from '../../src/config/index.js';

describe('subject alternative names', () => {
  it('accepts IPv4, IPv6, host names, FQDNs and wildcards', () => {
    for (const ok of ['10.0.0.1', '::1', 'fd00::10', 'foo', 'node-1.example.com', '*.example.com', 'example.com.']) {
      expect(subjectAltNameProblem(ok), ok).to.equal(undefined);
    }
  });

  it('refuses a dotted number that is not an IP address rather than taking it as a host name', () => {
    expect(isIPAddress('10.0.0.300')).to.equal(false);
    expect(isDNSName('10.0.0.300')).to.equal(false);
    expect(subjectAltNameProblem('10.0.0.300')).to.equal('expected an IP address or DNS name, got "10.0.0.300"');
  });

  it('refuses empty labels, underscores, spaces and over-long labels', () => {
    for (const bad of ['', 'a..b', 'under_score.com', 'has space', '-lead.com', `${'a'.repeat(64)}.com`, 'http://x']) {
      expect(subjectAltNameProblem(bad), bad).to.be.a('string');
    }
  });
});
