import { expect } from 'chai';
import { createServer } from 'node:https';
import type { Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { createCA, encodePrivateKeyPkcs8Pem, issueCertificateAndKey } from '../../src/pki/index.js';
import { callNode } from '../../src/server/rotation/node-client.js';
import type { NodeCredentials } from '../../src/server/rotation/node-client.js';
import { sharedKey } from '../pki/shared-keys.js';

describe("the rotation driver's node client", () => {
  let server: Server;
  let address: string;
  let creds: NodeCredentials;
  let handshakes = 0;

  before(async () => {
    const ca = await createCA('os', { key: sharedKey('ecdsa') });
    const serving = await issueCertificateAndKey(ca, 'node-server', { ipAddresses: ['127.0.0.1'] });
    const client = await issueCertificateAndKey(ca, 'talos-client', { commonName: 'admin', organizations: ['os:admin'] });
    server = createServer({ cert: serving.certPem, key: encodePrivateKeyPkcs8Pem(serving.key), ca: ca.certPem, requestCert: true, rejectUnauthorized: true }, (req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ client: req.socket.remoteAddress ? 'seen' : 'none' }));
    });
    server.on('secureConnection', () => handshakes++);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    address = `127.0.0.1:${(server.address() as AddressInfo).port}`;
    creds = { ca: ca.certPem, cert: client.certPem, key: encodePrivateKeyPkcs8Pem(client.key) };
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('opens a fresh TLS connection for every call, also when the credentials are the same', async () => {
    const before = handshakes;
    for (let i = 0; i < 3; i++) expect(await callNode(address, creds, 'GET', '/v1/version')).to.deep.equal({ status: 200, body: { client: 'seen' } });
    expect(handshakes - before).to.equal(3);
  });

  it('answers unreadable credentials as a failed call, without throwing, and a later good call still works', async () => {
    const bad = await callNode(address, { ...creds, key: 'not a key' }, 'GET', '/v1/version');
    expect(bad.status).to.equal(0);
    expect(bad.error).to.match(/DECODER|PEM|key/i);
    expect((await callNode(address, creds, 'GET', '/v1/version')).status).to.equal(200);
  });

  it('refuses a server whose certificate does not chain to the CA of the credentials, as before the context was cached', async () => {
    const other = await createCA('os', { key: sharedKey('ed25519') });
    const before = handshakes;
    const refused = await callNode(address, { ...creds, ca: other.certPem }, 'GET', '/v1/version');
    expect(refused.status).to.equal(0);
    expect(refused.error).to.match(/certificate/i);
    // The same client certificate with the right CA still gets through: the refusal was the server check, not a stale context.
    expect((await callNode(address, creds, 'GET', '/v1/version')).status).to.equal(200);
    expect(handshakes - before).to.equal(1);
  });

  it('is refused by a server that does not trust the client certificate', async () => {
    const other = await createCA('os', { key: sharedKey('ed25519') });
    const stranger = await issueCertificateAndKey(other, 'talos-client', { commonName: 'admin', organizations: ['os:admin'] });
    const refused = await callNode(address, { ...creds, cert: stranger.certPem, key: encodePrivateKeyPkcs8Pem(stranger.key) }, 'GET', '/v1/version');
    expect(refused.status).to.equal(0);
    expect(refused.error).to.be.a('string').and.not.equal('');
  });
});
