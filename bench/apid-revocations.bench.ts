// apid with 10,000 revoked serials against apid with none: the per-request revocation check (a Map look-up by CA and
// serial) must not cost a request rate. Two nodes in a child process (so the load generator, autocannon with 20
// keep-alive connections and an admin client certificate, does not share their event loop), each with apid on
// GET /v1/version (the cheapest call, where a per-request cost shows most), measured in alternating rounds so load from
// elsewhere falls on both alike. Target: with 10,000 revocations >= 0.95x the rate with none.
import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { DateTime } from 'luxon';
import { issueClientCertificate } from '../src/config/index.js';
import { encodePrivateKeyPkcs8Pem, parsePrivateKeyPem } from '../src/pki/index.js';
import { Revocations, revocationId } from '../src/resources/index.js';
import type { RevocationSpec } from '../src/resources/index.js';
import type { BatchOp } from '../src/runtime/state.js';
import { startApid } from '../src/server/apid/index.js';
import { NodeHarness, fixtureBundle } from '../test/controllers/node-harness.js';

const CONNECTIONS = 20;
const ROUND_SECONDS = 4;
const ROUNDS = 3;
const REVOKED = 10_000;
const PATH = '/v1/version';

interface Setup {
  nonePort: number;
  revokedPort: number;
  ca: string;
  cert: string;
  key: string;
}

async function node(revoked: number): Promise<number> {
  const harness = await NodeHarness.start({ bundle: fixtureBundle(), start: DateTime.utc(), addresses: ['127.0.0.1'] });
  const { state, registry } = harness.node;
  const notAfter = DateTime.utc().plus({ days: 30 }).toISO()!;
  for (let done = 0; done < revoked; done += 1000) {
    const ops: BatchOp[] = [];
    for (let i = done; i < Math.min(revoked, done + 1000); i++) {
      const serial = randomBytes(16).toString('hex').replace(/^0+/, '');
      const spec: RevocationSpec = { ca: 'os', serial, subject: `O=os:admin,CN=client-${i}`, fingerprint: '', names: [], publicKey: '', notAfter, reason: 'benchmark', reasonCode: 'keyCompromise', revokedAt: DateTime.utc().toISO()!, revokedBy: 'bench' };
      ops.push({ op: 'create', resource: { metadata: { namespace: Revocations.namespace, type: Revocations.type, id: revocationId('os', serial) }, spec } });
    }
    await state.batch(ops);
  }
  await harness.settle();
  const apid = await startApid({ state, registry, port: 0, clock: harness.clock });
  await apid.ready;
  return apid.port;
}

async function serve(): Promise<void> {
  const bundle = fixtureBundle();
  const client = await issueClientCertificate(bundle.certs.os, { roles: ['os:admin'] });
  const setup: Setup = { nonePort: await node(0), revokedPort: await node(REVOKED), ca: bundle.certs.os.crt, cert: client.crt, key: encodePrivateKeyPkcs8Pem(parsePrivateKeyPem(client.key)) };
  process.send?.(setup);
  process.on('disconnect', () => process.exit(0));
}

async function load(setup: Setup, port: number): Promise<number> {
  const result = await autocannon({ url: `https://127.0.0.1:${port}${PATH}`, connections: CONNECTIONS, duration: ROUND_SECONDS, tlsOptions: { ca: setup.ca, cert: setup.cert, key: setup.key } });
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
    await load(setup, setup.nonePort);
    await load(setup, setup.revokedPort);
    let none = 0;
    let revoked = 0;
    for (let round = 0; round < ROUNDS; round++) {
      none += await load(setup, setup.nonePort);
      revoked += await load(setup, setup.revokedPort);
    }
    none /= ROUNDS;
    revoked /= ROUNDS;
    console.log(`GET ${PATH}, autocannon -c ${CONNECTIONS}, keep-alive, client certificate, ${ROUNDS} x ${ROUND_SECONDS}s alternating`);
    console.log(`apid, no revocations        ${Math.round(none).toLocaleString('en-US').padStart(8)} req/s`);
    console.log(`apid, ${REVOKED.toLocaleString('en-US')} revocations  ${Math.round(revoked).toLocaleString('en-US').padStart(8)} req/s`);
    console.log(`ratio ${(revoked / none).toFixed(2)} (target >= 0.95)`);
  } finally {
    child.disconnect();
  }
}

if (process.argv.includes('--serve')) await serve();
else await main();
