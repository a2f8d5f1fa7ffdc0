// apid with 10,000 revoked serials against apid with none: the per-request revocation check (a Map look-up by CA and
// serial) must not cost a request rate. Two nodes in a child process (so the load generator, autocannon with 20
// keep-alive connections and an admin client certificate, does not share their event loop), each with apid on
// GET /v1/version (the cheapest call, where a per-request cost shows most), measured in alternating rounds so load from
// elsewhere falls on both alike. Target: with 10,000 revocations >= 0.95x the rate with none.
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { DateTime } from 'luxon';
import { issueClientCertificate } from '../src/config/index.js';
import { encodePrivateKeyPkcs8Pem, parsePrivateKeyPem } from '../src/pki/index.js';
import { Revocations, revocationId } from '../src/resources/index.js';
import type { RevocationSpec } from '../src/resources/index.js';
import type { BatchOp } from '../src/runtime/state.js';
import { startApid } from '../src/server/apid/index.js';
import { NodeHarness, fixtureBundle } from '../test/controllers/node-harness.js';
import { forkServers, mtlsRate } from './support/mtls-load.js';

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

const load = (setup: Setup, port: number) => mtlsRate(port, PATH, setup, CONNECTIONS, ROUND_SECONDS);

async function main(): Promise<void> {
  const { setup, stop } = await forkServers<Setup>(fileURLToPath(import.meta.url));
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
    stop();
  }
}

if (process.argv.includes('--serve')) await serve();
else await main();
