import { expect } from 'chai';
import { randomBytes, X509Certificate } from 'node:crypto';
import { DateTime } from 'luxon';
import { createCsr, generateKeyPairSync } from '../../src/pki/index.js';
import { JoinTokens, SecurityStatuses } from '../../src/resources/index.js';
import type { JoinTokenSpec, SecurityStatusSpec } from '../../src/resources/index.js';
import type { Resource } from '../../src/runtime/resource.js';
import type { State } from '../../src/runtime/state.js';
import { openStateFromUrl } from '../../src/runtime/store-url.js';
import { checkJoinTokenRequest, createJoinToken, revokeJoinToken, setStaticTokenMode } from '../../src/server/join-tokens/index.js';
import type { JoinTokenRequest } from '../../src/server/join-tokens/index.js';
import { nodeResourceRegistry, openNodeState } from '../../src/server/node.js';
import { postCsr } from '../../src/server/trustd-client/post-csr.js';
import { consumeJoinToken } from '../../src/server/trustd/join-token-check.js';
import { startTrustd } from '../../src/server/trustd/index.js';
import type { Trustd } from '../../src/server/trustd/index.js';
import { NodeHarness, fixtureBundle } from '../controllers/node-harness.js';
import { verifyStrict } from '../pki/openssl.js';
import { rejection } from '../support/caught.js';
import { startEtcd } from '../support/etcd-server.js';

const bundle = fixtureBundle();
const OS_CA = bundle.certs.os.crt;
const STATIC_TOKEN = bundle.trustdInfo.token;
const KEY = generateKeyPairSync('ecdsa');
const WORKER_CSR = createCsr(KEY, { commonName: 'talos-node' }, { dnsNames: ['worker-1'], ipAddresses: ['10.0.0.7', '127.0.0.1'] });

describe('trustd join tokens (single use, expiry, binding, revocation, races)', function () {
  this.timeout(60_000);
  let h: NodeHarness;
  let trustd: Trustd;
  const logs: { message: string; fields?: Record<string, unknown> }[] = [];

  const ask = (token: string, csr = WORKER_CSR, port = trustd.port) =>
    postCsr({ endpoint: { host: '127.0.0.1', port }, csr, token, trusted: [new X509Certificate(OS_CA)], at: h.clock.now().toJSDate(), timeoutMs: 10_000 });
  const refusal = async (token: string, csr = WORKER_CSR, port?: number) => (await rejection(ask(token, csr, port))).message;
  const make = async (request: JoinTokenRequest, state: State = h.node.state) => createJoinToken(state, checkJoinTokenRequest({ ...request }), 'test', h.clock.now().toJSDate());
  const stored = (id: string, state: State = h.node.state) => state.find<JoinTokenSpec>({ namespace: JoinTokens.namespace, type: JoinTokens.type, id });

  /** A control plane's trustd on `state` (its own, or another handle of the same store), logging into `logs`. */
  const serveTrustd = (state: State) => startTrustd({ state, host: '127.0.0.1', port: 0, clock: h.clock, rateLimit: false, logger: (message, fields) => logs.push({ message, fields }) });
  const controlPlane = (start: DateTime, dir?: string) => NodeHarness.start({ bundle, start, addresses: ['10.5.0.2'], hostname: 'cp-1', ...(dir ? { dir } : {}) });

  before(async () => {
    h = await controlPlane(DateTime.utc().startOf('second'));
    trustd = await serveTrustd(h.node.state);
  });
  after(async () => {
    await trustd.close();
    await h.destroy();
  });

  it('signs once with a single-use token (openssl verifies the certificate), then refuses it as used, and the store holds the use', async () => {
    const { token, resource } = await make({ uses: 1 });
    const answer = await ask(token);
    expect(verifyStrict(OS_CA, answer.crt, 'sslserver').ok).to.equal(true);
    expect(await refusal(token)).to.equal('trustd answered 401: token already used (1 of 1 use): ask an admin for a new one (trustctl token create)');
    const after = (await stored(resource.metadata.id))!;
    expect(after.spec.used).to.equal(1);
    expect(after.spec.lastUse?.names).to.deep.equal(['10.0.0.7', '127.0.0.1', 'worker-1']);
    expect(after.metadata.version).to.equal(2);
    expect(logs.filter((l) => l.message === 'trustd signed a certificate').at(-1)?.fields?.token).to.equal(`join token ${resource.metadata.id}`);
  });

  it('accepts a token until its expiry on the injected clock and refuses it after, spending nothing then', async () => {
    const { token, resource } = await make({ uses: 5, ttlSeconds: 3600 });
    await h.clock.advance({ minutes: 59 });
    await ask(token);
    await h.clock.advance({ minutes: 2 });
    expect(await refusal(token)).to.equal(`trustd answered 401: token expired at ${resource.spec.expires}: ask an admin for a new one (trustctl token create)`);
    expect((await stored(resource.metadata.id))!.spec.used).to.equal(1);
  });

  it('refuses a CSR asking for an address or host outside the binding, naming both, and spends no use', async () => {
    const { token, resource } = await make({ uses: 1, nodeIPs: ['10.0.0.7'], hostname: 'worker-1' });
    const otherIp = createCsr(KEY, { commonName: 'talos-node' }, { dnsNames: ['worker-1'], ipAddresses: ['10.0.0.8', '127.0.0.1'] });
    expect(await refusal(token, otherIp)).to.equal('trustd answered 403: token is bound to 10.0.0.7, CSR asks for 10.0.0.8');
    const noIp = createCsr(KEY, { commonName: 'talos-node' }, { dnsNames: ['worker-1'], ipAddresses: ['127.0.0.1'] });
    expect(await refusal(token, noIp)).to.equal('trustd answered 403: token is bound to 10.0.0.7, CSR asks for none of them');
    const otherHost = createCsr(KEY, { commonName: 'talos-node' }, { dnsNames: ['worker-2'], ipAddresses: ['10.0.0.7'] });
    expect(await refusal(token, otherHost)).to.equal('trustd answered 403: token is bound to worker-1, CSR asks for worker-2');
    expect((await stored(resource.metadata.id))!.spec.used).to.equal(0);
    // The loopback address every node's certificate carries is no other node's: it never breaks a binding.
    await ask(token);
    expect((await stored(resource.metadata.id))!.spec.used).to.equal(1);
  });

  it('refuses a revoked token from the next request on, and a token whose secret part is wrong', async () => {
    const { token, resource } = await make({ uses: 3 });
    await ask(token);
    expect(await revokeJoinToken(h.node.state, resource.metadata.id)).to.equal(resource.metadata.id);
    expect(await refusal(token)).to.equal('trustd answered 401: invalid token');
    expect(await stored(resource.metadata.id)).to.equal(undefined);
    const live = await make({ uses: 3 });
    const forged = `${live.resource.metadata.id}.${'0'.repeat(16)}`;
    expect(await refusal(forged)).to.equal('trustd answered 401: invalid token');
    expect((await stored(live.resource.metadata.id))!.spec.used).to.equal(0);
  });

  it('accepts the static machine.token by default and refuses it once the token policy says refused; SecurityStatus follows', async () => {
    const finding = async () => {
      await h.settle();
      const status = await h.node.state.get<SecurityStatusSpec>({ namespace: SecurityStatuses.namespace, type: SecurityStatuses.type, id: 'securitystatus' });
      return status.spec.findings.find((f) => f.code === 'StaticTokenAccepted');
    };
    await ask(STATIC_TOKEN);
    expect((await finding())?.message).to.contain('trustctl token static refuse');
    await setStaticTokenMode(h.node.state, 'refused', 'test');
    try {
      expect(await refusal(STATIC_TOKEN)).to.match(/^trustd answered 401: the static machine\.token is turned off for this cluster/);
      expect(await finding()).to.equal(undefined);
      await ask((await make({})).token);
    } finally {
      await setStaticTokenMode(h.node.state, 'accepted', 'test');
    }
    await ask(STATIC_TOKEN);
  });

  it('lets exactly as many requests through as a token has uses when two trustd on one store race for it', async () => {
    // A second control plane: its own connection to the same SQLite file, its own trustd.
    const second = await openNodeState(h.dir, h.clock);
    const other = await serveTrustd(second.state);
    try {
      for (const uses of [1, 3]) {
        const { token, resource } = await make({ uses });
        const ports = Array.from({ length: 12 }, (_, i) => (i % 2 === 0 ? trustd.port : other.port));
        const outcomes = await Promise.allSettled(ports.map((port) => ask(token, WORKER_CSR, port)));
        const won = outcomes.filter((o) => o.status === 'fulfilled');
        expect(won, `uses ${uses}`).to.have.length(uses);
        for (const o of outcomes) if (o.status === 'rejected') expect((o.reason as Error).message).to.match(/^trustd answered 401: token already used/);
        expect((await stored(resource.metadata.id, second.state))!.spec.used).to.equal(uses);
      }
    } finally {
      await other.close();
      await second.state.close();
    }
  });

  it('keeps the use count across a restart of the node and its trustd', async () => {
    const { token, resource } = await make({ uses: 2 });
    await ask(token);
    await trustd.close();
    await h.stop();
    h = await controlPlane(DateTime.fromMillis(h.clock.now().toMillis()), h.dir);
    trustd = await serveTrustd(h.node.state);
    await ask(token);
    expect(await refusal(token)).to.equal('trustd answered 401: token already used (2 of 2 uses): ask an admin for a new one (trustctl token create)');
    expect((await stored(resource.metadata.id))!.spec.used).to.equal(2);
  });

  /** Eight consumers on two handles of one store spend a single-use token: exactly one may win, and the store says 1. */
  async function raceOneUse(a: State, b: State): Promise<void> {
    const { token, resource } = await make({ uses: 1 }, a);
    const use = { now: h.clock.now().toJSDate(), source: 'test', names: ['10.0.0.7'] };
    // Every consumer reads the token before any writes (the reads resolve first): without the compare-and-swap and the
    // check made again after a conflict, all eight would win.
    const outcomes = await Promise.allSettled(Array.from({ length: 8 }, (_, i) => consumeJoinToken(i % 2 === 0 ? a : b, token, use)));
    expect(outcomes.filter((o) => o.status === 'fulfilled')).to.have.length(1);
    const refused = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected').map((o) => (o.reason as Error).message);
    expect(new Set(refused)).to.deep.equal(new Set(['token already used (1 of 1 use): ask an admin for a new one (trustctl token create)']));
    const after: Resource<JoinTokenSpec> | undefined = await b.find({ namespace: JoinTokens.namespace, type: JoinTokens.type, id: resource.metadata.id });
    expect(after?.spec.used).to.equal(1);
  }

  it('spends a single-use token once when two control planes on one SQLite store consume it at the same time', async () => {
    const second = await openNodeState(h.dir, h.clock);
    try {
      await raceOneUse(h.node.state, second.state);
    } finally {
      await second.state.close();
    }
  });

  it('spends a single-use token once when two control planes on one etcd store consume it at the same time', async function () {
    this.timeout(30_000);
    const etcd = await startEtcd();
    const key = randomBytes(32);
    const open = () => openStateFromUrl(`etcd://${etcd.endpoint}/jt`, { registry: nodeResourceRegistry(), encryptionKey: key });
    const [a, b] = [await open(), await open()];
    try {
      await raceOneUse(a, b);
    } finally {
      await a.close();
      await b.close();
      await etcd.stop();
    }
  });
});
