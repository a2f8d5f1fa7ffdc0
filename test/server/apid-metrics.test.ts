import http from 'node:http';
import { expect } from 'chai';
import { DateTime } from 'luxon';
import { startMetricsServer } from '../../src/server/metrics.js';
import type { MetricsServer } from '../../src/server/metrics.js';
import { NodeHarness, fixtureBundle } from '../controllers/node-harness.js';

function get(port: number, path: string): Promise<{ status: number; type: string; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), body }));
      })
      .on('error', reject);
  });
}

/** `name{labels} value` lines of one metric, as label text -> value. */
function samples(text: string, name: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    const m = new RegExp(`^${name}\\{([^}]*)\\} (\\S+)$`).exec(line);
    if (m) out.set(m[1], Number(m[2]));
  }
  return out;
}

describe('metrics server', function () {
  let node: NodeHarness;
  let metrics: MetricsServer;

  before(async () => {
    node = await NodeHarness.start({ bundle: fixtureBundle(), start: DateTime.utc() });
    metrics = await startMetricsServer({ state: node.node.state, port: 0 });
  });
  after(async () => {
    await metrics?.close();
    await node?.destroy();
  });

  it('exports expiry, renewal and state of every certificate status, in Prometheus text format', async () => {
    const res = await get(metrics.port, '/metrics');
    expect(res.status).to.equal(200);
    expect(res.type).to.match(/^text\/plain; version=0\.0\.4/);
    const statuses = await node.node.state.list<{ notAfter?: string; renewalTime?: string; state: string; issuerCA: string }>({ namespace: 'runtime', type: 'CertificateStatuses' });
    expect(statuses.length).to.be.greaterThan(3);
    const expiry = samples(res.body, 'trustplane_certificate_expiration_timestamp_seconds');
    const renewal = samples(res.body, 'trustplane_certificate_renewal_timestamp_seconds');
    const ready = samples(res.body, 'trustplane_certificate_ready_status');
    for (const s of statuses) {
      const labels = `id="${s.metadata.id}",ca="${s.spec.issuerCA}"`;
      expect(expiry.get(labels), s.metadata.id).to.equal(Date.parse(s.spec.notAfter!) / 1000);
      if (s.spec.renewalTime) expect(renewal.get(labels)).to.equal(Date.parse(s.spec.renewalTime) / 1000);
      else expect(renewal.has(labels)).to.equal(false);
      expect(ready.get(`${labels},state="${s.spec.state}"`)).to.equal(1);
      expect(ready.get(`${labels},state="${s.spec.state === 'Expired' ? 'Valid' : 'Expired'}"`)).to.equal(0);
    }
  });

  it('exports the consecutive failures of every controller from its status', async () => {
    const failing = { name: 'FailingController', state: 'backoff', failures: 3, reconciles: 3, lastError: 'boom' };
    await node.node.state.create({ metadata: { namespace: 'runtime', type: 'ControllerStatuses', id: failing.name }, spec: failing }, { owner: 'runtime' });
    const res = await get(metrics.port, '/metrics');
    const failures = samples(res.body, 'trustplane_controller_failures');
    expect(failures.get('controller="FailingController"')).to.equal(3);
    expect(failures.get('controller="ApiCertificateController"')).to.equal(0);
    expect(failures.size).to.equal(node.node.runtime.controllers.length + 1);
  });

  it('answers other paths with 404', async () => {
    expect((await get(metrics.port, '/')).status).to.equal(404);
  });
});
