// Helpers of the revocation tests: a client that keeps one connection alive across calls (to show a revocation is
// enforced per request, not per handshake), and the Revocations a store holds.
import https from 'node:https';
import type { Credential } from './apid-harness.js';
import { Revocations } from '../../src/resources/index.js';
import type { RevocationSpec } from '../../src/resources/index.js';
import type { State } from '../../src/runtime/state.js';

export interface KeptAnswer {
  status: number;
  json: { error?: string } & Record<string, unknown>;
  /** Whether the call went over the connection an earlier call opened. */
  reused: boolean;
}

export class KeptAliveClient {
  private readonly agent: https.Agent;

  constructor(
    private readonly port: number,
    caPem: string,
    cred: Credential,
  ) {
    this.agent = new https.Agent({ keepAlive: true, maxSockets: 1, ca: caPem, ...(cred.crt ? { cert: cred.crt, key: cred.key } : {}) });
  }

  call(method: string, path: string): Promise<KeptAnswer> {
    return new Promise((resolve, reject) => {
      const req = https.request({ host: '127.0.0.1', port: this.port, method, path, agent: this.agent }, (res) => {
        let data = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (data += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, json: parse(data), reused: req.reusedSocket }));
      });
      req.on('error', reject);
      req.end();
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

function parse(text: string): KeptAnswer['json'] {
  try {
    return JSON.parse(text) as KeptAnswer['json'];
  } catch {
    return {};
  }
}

export async function storedRevocations(state: State): Promise<RevocationSpec[]> {
  return (await state.list<RevocationSpec>({ namespace: Revocations.namespace, type: Revocations.type })).map((r) => r.spec);
}
