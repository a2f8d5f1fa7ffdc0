// apid `GET /v1/resources/certificatestatus` (mutual TLS, roles, a store read and JSON per request) against a bare
// Node https server with mutual TLS (OpenSSL verifies the client) that returns the same statuses as JSON text serialized
// once at start-up, in the same
// run. Both servers live in a child process so the load generator (autocannon, 20 keep-alive connections, an admin
// client certificate) does not share their event loop; the two are measured in alternating rounds so load from
// elsewhere on the machine falls on both alike. Target: apid >= 70% of the bare server's requests/s.
import { fork } from 'node:child_process';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { DateTime } from 'luxon';
import { issueClientCertificate } from '../src/config/index.js';
import { encodePrivateKeyPkcs8Pem, parsePrivateKeyPem } from '../src/pki/index.js';
import { startApid } from '../src/server/apid/index.js';
import { NodeHarness, fixtureBundle } from '../test/controllers/node-harness.js';

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

async function load(setup: Setup, port: number): Promise<number> {
  const result = await autocannon({
    url: `https://127.0.0.1:${port}${PATH}`,
    connections: CONNECTIONS,
    duration: ROUND_SECONDS,
    tlsOptions: { ca: setup.ca, cert: setup.cert, key: setup.key },
  });
  if (result.non2xx > 0 || result.errors > 0) throw new Error(`port ${port}: ${result.non2xx} non-2xx answers, ${result.errors} errors`);
  return result.requests.total / ROUND_SECONDS;
}

async function main(): Promise<void> {
  const child = fork(fileURLToPath(import.meta.url), ['--serve'], { execArgv: [] });
  const setup = await new Promise<Setup>((resolve, reject) => {
    child.once('message', (m) => resolve(m as Setup));
    child.once('exit', (code) => reject(new Error(`server process exited (${code})`)));
  });
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
    child.disconnect();
  }
}

if (process.argv.includes('--serve')) await serve();
else await main();
