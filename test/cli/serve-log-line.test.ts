import { expect } from 'chai';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { formatLogLine, scrubSecrets } from '../../src/cli/log-line.js';

const AT = new Date('2026-11-25T00:00:00.000Z');

describe('serve log lines', () => {
  it('writes logfmt with time, level and msg first, quoting values that need it', () => {
    const line = formatLogLine('logfmt', AT, 'warn', 'reconcile failed', { controller: 'ApiCertificateController', error: 'the os CA expired', failures: 2 });
    expect(line).to.equal('time=2026-11-25T00:00:00.000Z level=warn msg="reconcile failed" controller=ApiCertificateController error="the os CA expired" failures=2');
  });

  it('writes one JSON object per line with --log-format json, leaving out undefined fields', () => {
    const line = formatLogLine('json', AT, 'info', 'node running', { controllers: 11, missing: undefined });
    expect(JSON.parse(line)).to.deep.equal({ time: '2026-11-25T00:00:00.000Z', level: 'info', msg: 'node running', controllers: 11 });
  });

  it('never lets a PEM block or base64 key material through, in either format', () => {
    const pem = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'sec1', format: 'pem' }).toString();
    const base64Pem = Buffer.from(pem).toString('base64');
    const rawKey = randomBytes(32).toString('base64');
    for (const format of ['logfmt', 'json'] as const) {
      const line = formatLogLine(format, AT, 'error', `failed with ${pem}`, { key: base64Pem, secret: rawKey });
      expect(line).not.to.contain('PRIVATE KEY');
      expect(line).not.to.contain(pem.split('\n')[1]);
      expect(line).not.to.contain(base64Pem.slice(0, 40));
      expect(line).not.to.contain(rawKey.slice(0, 40));
      expect(line).to.contain('<redacted');
      expect(line.split('\n')).to.have.length(1);
    }
  });

  it('never lets a trustd token or join token through, in either format', () => {
    for (const format of ['logfmt', 'json'] as const) {
      const line = formatLogLine(format, AT, 'warn', 'request with abcdef.0123456789abcdef failed', { header: 'Bearer k3x9q2.4f7w0z1m8n2b5c6v' });
      expect(line).not.to.contain('0123456789abcdef');
      expect(line).not.to.contain('4f7w0z1m8n2b5c6v');
      expect(line.match(/<redacted token>/g)).to.have.length(2);
    }
  });

  it('leaves paths, names and hex fingerprints readable', () => {
    const text = 'store /tmp/trustctl-test-AbC123/state/state.db CertificateStatusController 45:50:C5:96:C0:5D:CB:A3 0123456789abcdef0123456789abcdef01234567';
    expect(scrubSecrets(text)).to.equal(text);
  });
});
