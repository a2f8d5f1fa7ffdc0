// GET /metrics on a plain-HTTP listener (`--metrics-addr`), in Prometheus text format: certificate expiry, renewal
// time and state from CertificateStatuses (cert-manager's metric shapes), and controller failures from
// ControllerStatuses. Values are read from the store at scrape time, so they are never stale.
import http from 'node:http';
import { Gauge, Registry } from 'prom-client';
import { CERTIFICATE_STATES, CertificateStatuses } from '../resources/certificate-status.js';
import type { CertificateStatusSpec } from '../resources/certificate-status.js';
import { ControllerStatuses } from '../runtime/controller-status.js';
import type { ControllerStatus } from '../runtime/controller-status.js';
import type { State } from '../runtime/state.js';
import { listen } from './listener.js';
import type { Listener } from './listener.js';

export interface MetricsServerOptions {
  state: State;
  /** Default 127.0.0.1. */
  host?: string;
  /** 0 picks a free port (tests). */
  port: number;
}

export type MetricsServer = Listener;

const seconds = (iso: string) => Date.parse(iso) / 1000;

/** A registry whose gauges read the store on each scrape. */
export function metricsRegistry(state: State): Registry {
  const registry = new Registry();
  const certificates = () => state.list<CertificateStatusSpec>({ namespace: CertificateStatuses.namespace, type: CertificateStatuses.type });
  new Gauge({
    name: 'trustplane_certificate_expiration_timestamp_seconds',
    help: 'The date after which the certificate expires, as a Unix timestamp.',
    labelNames: ['id', 'ca'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const c of await certificates()) if (c.spec.notAfter) this.set({ id: c.metadata.id, ca: c.spec.issuerCA }, seconds(c.spec.notAfter));
    },
  });
  new Gauge({
    name: 'trustplane_certificate_renewal_timestamp_seconds',
    help: 'The time at which the certificate will be renewed automatically, as a Unix timestamp (absent when not renewed automatically).',
    labelNames: ['id', 'ca'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const c of await certificates()) if (c.spec.renewalTime) this.set({ id: c.metadata.id, ca: c.spec.issuerCA }, seconds(c.spec.renewalTime));
    },
  });
  new Gauge({
    name: 'trustplane_certificate_ready_status',
    help: 'The state of the certificate: 1 for its current state, 0 for the others.',
    labelNames: ['id', 'ca', 'state'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const c of await certificates())
        for (const state of CERTIFICATE_STATES) this.set({ id: c.metadata.id, ca: c.spec.issuerCA, state }, c.spec.state === state ? 1 : 0);
    },
  });
  new Gauge({
    name: 'trustplane_controller_failures',
    help: 'Consecutive failed reconciles of the controller (0 after a success).',
    labelNames: ['controller'],
    registers: [registry],
    async collect() {
      this.reset();
      const statuses = await state.list<ControllerStatus>({ namespace: ControllerStatuses.namespace, type: ControllerStatuses.type });
      for (const s of statuses) this.set({ controller: s.spec.name }, s.spec.failures);
    },
  });
  return registry;
}

export async function startMetricsServer(options: MetricsServerOptions): Promise<MetricsServer> {
  const registry = metricsRegistry(options.state);
  const server = http.createServer((req, res) => {
    if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: metrics are at GET /metrics\n');
      return;
    }
    registry.metrics().then(
      (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text),
      (err: unknown) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`metrics unavailable: ${err instanceof Error ? err.message : String(err)}\n`),
    );
  });
  return listen(server, 'metrics', options.host ?? '127.0.0.1', options.port);
}
