// apid's and trustd's TLS options: the client's certificate is asked for and reaches the server whatever CA signed it,
// because the TLS stack trusts no CA there (not even Node's bundled public roots); apid's and trustd's own checks judge it.
import { expect } from 'chai';
import { X509Certificate } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import tls from 'node:tls';
import { connectionTimeouts } from '../../src/server/connection-timeouts.js';
import { mtlsServerOptions, servingContextOptions } from '../../src/server/server-tls.js';
import { OLD_OS_CA, credentials } from './rotation-cluster.js';

interface Seen {
  authorized: boolean;
  error: string;
  fingerprint?: string;
}

describe('the TLS options apid and trustd serve with', () => {
  it('trust no CA, in the first context and in each installed one', () => {
    expect(mtlsServerOptions(connectionTimeouts()).ca).to.deep.equal([]);
    expect(servingContextOptions({ cert: 'c', key: 'k' })).to.deep.equal({ cert: 'c', key: 'k', minVersion: 'TLSv1.2', ca: [] });
  });

  it('ask for the client certificate and hand it on unjudged: the TLS stack trusts not even the CA that signed it', async () => {
    const serving = await credentials(OLD_OS_CA, [OLD_OS_CA.crt]);
    const client = await credentials(OLD_OS_CA, [OLD_OS_CA.crt]);
    const server = tls.createServer(mtlsServerOptions(connectionTimeouts()));
    server.setSecureContext(servingContextOptions({ cert: serving.cert, key: serving.key }));
    const seen = new Promise<Seen>((resolve, reject) => {
      server.once('secureConnection', (socket: tls.TLSSocket) => {
        resolve({ authorized: socket.authorized, error: String(socket.authorizationError), fingerprint: socket.getPeerX509Certificate()?.fingerprint256 });
        socket.end();
      });
      server.once('tlsClientError', reject);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      // The serving certificate here is a client one: the client does not judge it, the test is about the server's side.
      const socket = tls.connect({ host: '127.0.0.1', port, cert: client.cert, key: client.key, rejectUnauthorized: false });
      socket.on('error', () => undefined);
      const got = await seen;
      socket.destroy();
      expect(got.fingerprint).to.equal(new X509Certificate(client.cert).fingerprint256);
      expect(got.authorized).to.equal(false);
      expect(got.error).to.equal('UNABLE_TO_VERIFY_LEAF_SIGNATURE');
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
