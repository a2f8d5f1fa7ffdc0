// apid `GET /v1/resources/certificatestatus` (mutual TLS, roles, a store read and JSON per request) against a bare
// Node https server with mutual TLS (OpenSSL verifies the client) that returns the same statuses as JSON text serialized
// once at start-up, in the same
// run. Both servers live in a child process so the load generator (autocannon, 20 keep-alive connections, an admin
// client certificate) does not share their event loop; the two are measured in alternating rounds so load from
// elsewhere on the machine falls on both alike. Target: apid >= 70% of the bare server's requests/s.
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { DateTime } from 'luxon';
import { issueClientCertificate } from '../src/config/index.js';
import { encodePrivateKeyPkcs8Pem, parsePrivateKeyPem } from '../src/pki/index.js';
import { startApid } from '../src/server/apid/index.js';
import { NodeHarness, fixtureBundle } from '../test/controllers/node-harness.js';
import { forkServers, mtlsRate } from './support/mtls-load.js';

const CONNECTIONS = 20;
const ROUND_SECONDS = 4;
const ROUNDS = 3;
const PATH = '/v1/resources/certificatestatus';

interface Setup {
  apidPort: number;
  barePort: number;
  ca: string;
  cert: string;
  key: string;
  statuses: number;
}

/** The child: a node with apid, and the bare server answering with the same list. */
async function serve(): Promise<void> {
  const bundle = fixtureBundle();
  const harness = await NodeHarness.start({ bundle, start: DateTime.utc(), addresses: ['127.0.0.1'] });
  const { state, registry } = harness.node;
  const apid = await startApid({ state, registry, port: 0, clock: harness.clock });
  await apid.ready;
  const certs = await state.get<{ certificates: Record<string, { crt: string; key: string }> }>({ namespace: 'secrets', type: 'ApiCertificates', id: 'api' });
  const server = certs.spec.certificates.server;
  const statuses = await state.list({ namespace: 'runtime', type: 'CertificateStatuses' });
  // The strictest baseline: the answer serialized once, so the bare server does nothing but TLS and HTTP.
  const text = JSON.stringify(statuses);
  const bare = https.createServer(
    { cert: server.crt, key: encodePrivateKeyPkcs8Pem(parsePrivateKeyPem(server.key)), ca: bundle.certs.os.crt, requestCert: true, rejectUnauthorized: true },
    (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
      res.end(text);
    },
  );
  await new Promise<void>((resolve) => bare.listen(0, '127.0.0.1', resolve));
  const client = await issueClientCertificate(bundle.certs.os, { roles: ['os:admin'] });
  const setup: Setup = {
    apidPort: apid.port,
    barePort: (bare.address() as AddressInfo).port,
    ca: bundle.certs.os.crt,
    cert: client.crt,
    key: encodePrivateKeyPkcs8Pem(parsePrivateKeyPem(client.key)),
    statuses: statuses.length,
  };
  process.send?.(setup);
  process.on('disconnect', () => process.exit(0));
}

const load = (setup: Setup, port: number) => mtlsRate(port, PATH, setup, CONNECTIONS, ROUND_SECONDS);

async function main(): Promise<void> {
  const { setup, stop } = await forkServers<Setup>(fileURLToPath(import.meta.url));
  try {
    // one short warm-up of each, not counted
    await load({ ...setup }, setup.apidPort);
    await load({ ...setup }, setup.barePort);
    let apid = 0;
    let bare = 0;
    for (let round = 0; round < ROUNDS; round++) {
      apid += await load(setup, setup.apidPort);
      bare += await load(setup, setup.barePort);
    }
    apid /= ROUNDS;
    bare /= ROUNDS;
    console.log(`GET ${PATH} (${setup.statuses} statuses), autocannon -c ${CONNECTIONS}, keep-alive, client certificate, ${ROUNDS} x ${ROUND_SECONDS}s alternating`);
    console.log(`apid                  ${Math.round(apid).toLocaleString('en-US').padStart(8)} req/s`);
    console.log(`bare https mTLS       ${Math.round(bare).toLocaleString('en-US').padStart(8)} req/s`);
    console.log(`ratio ${(apid / bare).toFixed(2)} (target >= 0.70)`);
  } finally {
    stop();
  }
}

if (process.argv.includes('--serve')) await serve();
else await main();
