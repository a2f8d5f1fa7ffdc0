// Two in-process nodes with apid, and trustctl run as a child process against them through a talosconfig.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { formatTalosconfig, issueClientCertificate, newContext } from '../../src/config/index.js';
import type { Role } from '../../src/config/index.js';
import { ApidHarness } from '../server/apid-harness.js';
import { NodeSandbox } from './node-sandbox.js';

export class RemoteBox extends NodeSandbox {
  a!: ApidHarness;
  b!: ApidHarness;

  static async open(): Promise<RemoteBox> {
    const box = new RemoteBox();
    box.b = await ApidHarness.start({ hostname: 'node-b' });
    // A forwards `-n` calls to B: B is a member of A's cluster (serve's --member).
    box.a = await ApidHarness.start({ hostname: 'node-a', apid: { forward: { members: [box.b.address] } } });
    await box.writeTalosconfig(box.talosconfig, ['os:admin']);
    return box;
  }

  /** A talosconfig whose one context talks to node A with a certificate for `roles`. */
  async writeTalosconfig(path: string, roles: Role[], options: { validityHours?: number; now?: Date } = {}): Promise<void> {
    const os = this.a.bundle.certs.os;
    const cert = await issueClientCertificate(os, { roles, now: options.now ?? this.a.now(), ...(options.validityHours ? { validityHours: options.validityHours } : {}) });
    const name = `${roles.join('+')}@demo`;
    const context = newContext([this.a.address], { caPem: os.crt, crtPem: cert.crt, keyPem: cert.key });
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    writeFileSync(path, formatTalosconfig({ context: name, contexts: { [name]: context } }), { mode: 0o600 });
  }

  async close(): Promise<void> {
    await this.a?.close();
    await this.b?.close();
    this.remove();
  }
}
