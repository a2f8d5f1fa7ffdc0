// A stand-in for an issuing controller, in runtime terms (no certificates at this layer): for every request (a Widget)
// it writes one sensitive KeyPairs resource, "issued" once with a fresh nonce, and reports each issuance it made.
// Re-issuing, or two replicas issuing the same request, shows up as a second report or a version above 1.
import { randomUUID } from 'node:crypto';
import { requeueAt } from '../../src/runtime/controller.js';
import { exclusive, idle, input } from '../../src/runtime/controller.js';
import type { Controller } from '../../src/runtime/controller.js';
import { KeyPairs, Widgets } from '../fixtures-runtime/definitions.js';

export interface Issuance {
  by: string;
  nonce: string;
}

/** `everyMs`: also wake on a timer, so a reconcile runs (and meets the store) even when no request changes. */
export function issuerController(replica: string, issued: (id: string) => void, everyMs?: number): Controller {
  return {
    name: 'IssuerController',
    inputs: [input(Widgets, 'default')],
    outputs: [exclusive(KeyPairs)],
    async reconcile(rt) {
      const requests = await rt.list(Widgets, 'default');
      for (const request of requests) {
        const id = request.metadata.id;
        const nonce = randomUUID();
        const result = await rt.modify(KeyPairs, id, (current) => (current ? undefined : { key: JSON.stringify({ by: replica, nonce }) }), 'secrets');
        if (result && (JSON.parse(result.spec.key) as Issuance).nonce === nonce) issued(id);
      }
      const message = `${requests.length} requests issued`;
      return everyMs ? requeueAt(rt.clock.now().plus({ milliseconds: everyMs }), message) : idle(message);
    },
  };
}
