import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bufferIo } from '../../src/cli/buffer-io.js';
import { serve } from '../../src/cli/serve-action.js';
import { serviceOptions } from '../../src/cli/serve-node-options.js';
import { serveLoggers } from '../../src/cli/serve-logs.js';
import type { ServeOptions } from '../../src/cli/serve-options.js';
import { generateMachineConfig } from '../../src/config/index.js';
import { fixtureBundle } from '../controllers/node-harness.js';
import { rejection, thrown } from '../support/caught.js';

/** serve's defaults, as commander gives them. */
const defaults: ServeOptions = {
  nodeIp: [],
  logFormat: 'logfmt',
  listenAddress: '0.0.0.0',
  apidPort: 50000,
  trustdPort: 50001,
  trustdEndpoint: [],
  member: [],
  maxWatchesPerClient: 100,
  maxWatches: 1000,
};

describe("serve's flags as the options of a node", () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'trustplane-serve-options-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('refuses a --metrics-addr without a port before it creates the state directory or the store', async () => {
    const config = join(dir, 'controlplane.yaml');
    writeFileSync(config, generateMachineConfig(fixtureBundle(), { type: 'controlplane', clusterName: 'demo', endpoint: 'https://127.0.0.1:6443' }).toYaml());
    const state = join(dir, 'node');
    const err = await rejection(serve({ ...defaults, config, state, listenAddress: '127.0.0.1', apidPort: 0, trustdPort: 0, metricsAddr: '127.0.0.1' }, bufferIo({ env: {}, cwd: dir })));
    expect(err.message).to.equal('--metrics-addr: expected HOST:PORT, got "127.0.0.1"');
    expect(existsSync(state)).to.equal(false);
  });

  it("serve --once in process: its log lines, the summary and a sealed store's key come from the io, not the process", async function () {
    this.timeout(30_000);
    expect(process.env.TRUSTPLANE_STATE_KEY, 'the test process must not have a key of its own').to.equal(undefined);
    const config = join(dir, 'controlplane.yaml');
    writeFileSync(config, generateMachineConfig(fixtureBundle(), { type: 'controlplane', clusterName: 'demo', endpoint: 'https://127.0.0.1:6443' }).toYaml());
    const state = join(dir, 'node');
    const io = bufferIo({ env: { TRUSTPLANE_STATE_KEY: randomBytes(32).toString('base64') }, cwd: dir });
    await serve({ ...defaults, config, state: 'node', once: true, nodeIp: ['10.5.0.2'], hostname: 'cp-1' }, io);
    expect(io.exitCode, io.written.stderr).to.equal(0);
    expect(io.written.stderr).to.match(/msg="node opening" state=\S+ keys="encrypted at rest"/);
    expect(io.written.stderr).to.include('msg="node settled"');
    expect(io.written.stdout).to.match(/^node settled: (\d+)\/\1 controllers idle; \d+ certificates .*; security: /);
    // sealed with the io's key: no key file was made beside the store
    expect(existsSync(join(state, 'state.db'))).to.equal(true);
    expect(existsSync(join(state, 'state.db.key'))).to.equal(false);
  });

  it('hands the services the listen address, ports, members, watch limits and the metrics address (an empty host kept as given)', () => {
    const loggers = serveLoggers('logfmt', () => undefined);
    const options = serviceOptions({ ...defaults, member: ['10.5.0.3'], trustdEndpoint: ['10.5.0.2:50001'], maxWatches: 7, metricsAddr: ':9100' }, loggers);
    expect(options).to.deep.include({ listenAddress: '0.0.0.0', apidPort: 50000, trustdPort: 50001, members: ['10.5.0.3'], trustdEndpoints: ['10.5.0.2:50001'], watchLimits: { perClient: 100, total: 7 }, metrics: { host: '', port: 9100 } });
    expect(options.serviceLogs).to.equal(loggers.logs);
    expect(thrown(() => serviceOptions({ ...defaults, metricsAddr: 'localhost:http' }, loggers)).message).to.equal('--metrics-addr: expected HOST:PORT, got "localhost:http"');
  });
});
