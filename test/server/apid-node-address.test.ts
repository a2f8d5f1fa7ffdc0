import { expect } from 'chai';
import { effectiveRoles } from '../../src/server/apid/authorization.js';
import { formatNodeAddress, parseNodeAddress } from '../../src/server/apid/index.js';

describe('apid node addresses and forwarded roles', () => {
  it('reads host[:port] with port 50000 by default, IPv6 bare or bracketed', () => {
    expect(parseNodeAddress('10.5.0.2')).to.deep.equal({ host: '10.5.0.2', port: 50000 });
    expect(parseNodeAddress('cp-1.example.com:50001')).to.deep.equal({ host: 'cp-1.example.com', port: 50001 });
    expect(parseNodeAddress('fd00::2')).to.deep.equal({ host: 'fd00::2', port: 50000 });
    expect(parseNodeAddress('[fd00::2]:8443')).to.deep.equal({ host: 'fd00::2', port: 8443 });
    expect(formatNodeAddress({ host: 'fd00::2', port: 8443 })).to.equal('[fd00::2]:8443');
  });

  it('refuses a bad port naming the address and the expected form', () => {
    expect(() => parseNodeAddress('10.5.0.2:99999')).to.throw('node address "10.5.0.2:99999": port must be 1-65535, got "99999"');
    expect(() => parseNodeAddress(':50000')).to.throw(/expected host\[:port\]/);
  });

  it('takes forwarded roles only from an impersonator, never os:impersonator itself', () => {
    expect(effectiveRoles(['os:reader'], 'os:admin')).to.deep.equal(['os:reader']);
    expect(effectiveRoles(['os:impersonator'], 'os:reader, os:impersonator')).to.deep.equal(['os:reader']);
    expect(effectiveRoles(['os:impersonator'], undefined)).to.deep.equal([]);
  });
});
