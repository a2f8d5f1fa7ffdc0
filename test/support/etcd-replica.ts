// One replica of a node on an etcd store, run as its own process by the failover tests:
//   node etcd-replica.js <etcd-url> <name> <lease-ttl-seconds>      (TRUSTPLANE_STATE_KEY holds the store key)
// It campaigns, runs the issuer controller while it leads, and prints one line per fact, only after it happened:
//   ready | leader <name> | deposed <name> <reason> | issued <id> <name> | unavailable <error> | fenced <error>
import { Runtime } from '../../src/runtime/runtime.js';
import { runWhileLeader } from '../../src/runtime/leader-election.js';
import { EtcdLeaderElector, openEtcdState } from '../../src/runtime/etcd/index.js';
import { testRegistry } from '../fixtures-runtime/definitions.js';
import { issuerController } from './issuer-controller.js';

const [url, name, ttl] = process.argv.slice(2);
const say = (line: string) => process.stdout.write(`${line}\n`);
const registry = testRegistry();
const state = await openEtcdState({ url, registry, encryptionKey: 'env', callTimeoutMs: 1000 });
const elector = new EtcdLeaderElector({ state, name, ttlSeconds: Number(ttl), retryMs: 100 });
const loop = runWhileLeader({
  elector,
  async lead(term) {
    const runtime = new Runtime({
      state: term.state,
      registry,
      backoff: { initialMs: 100, multiplier: 1.5, maxMs: 1000, jitter: 0.2 },
      logger: (message, fields) => {
        const error = String(fields?.error ?? '');
        if (/no longer the leader/.test(error)) say(`fenced ${error}`);
        else if (/store unavailable/.test(error)) say(`unavailable ${error}`);
      },
    });
    runtime.register(issuerController(name, (id) => say(`issued ${id} ${name}`)));
    await runtime.start();
    return () => runtime.stop();
  },
  onChange: (event, holder, reason) => say(event === 'elected' ? `leader ${name}` : `deposed ${name} ${reason ?? ''} ${holder}`),
});
say('ready');
const shutdown = async () => {
  await loop.stop();
  await state.close();
  process.exit(0);
};
process.on('SIGTERM', () => void shutdown());
