// `trustctl config new` online: asks a node (os:admin) to issue a client certificate with the given roles and
// lifetime from its OS CA, and writes a talosconfig with one context for it (endpoints kept from the current context).
import { contextNameFor, formatTalosconfig, newContext, parseRoles, readTalosconfigFile, resolveTalosconfigPath, selectContext } from '../config/index.js';
import { paths } from '../server/apid/index.js';
import type { ClientConfigResponse } from '../server/apid/index.js';
import { connectApi } from './api-client.js';
import type { RemoteTarget } from './api-client.js';
import { inCwd } from './cli-io.js';
import type { CliIo } from './cli-io.js';
import { clampNotice, DEFAULT_CRT_TTL_MS, lifetimeHours } from './duration.js';
import { refuseOverwrite, writeFileAtomic } from './files.js';

export interface RemoteConfigNewOptions {
  roles: string;
  /** Undefined when --crt-ttl was not given: DEFAULT_CRT_TTL_MS then, clamped to the CA without a notice. */
  crtTtlMs?: number;
  cluster?: string;
  force?: boolean;
}

export async function remoteConfigNew(path: string, opts: RemoteConfigNewOptions, target: RemoteTarget, io: CliIo): Promise<void> {
  const ttlMs = opts.crtTtlMs ?? DEFAULT_CRT_TTL_MS;
  if (!(ttlMs > 0)) throw new Error('crt_ttl should be positive');
  const ttlHours = lifetimeHours('--crt-ttl', ttlMs);
  const roles = parseRoles([opts.roles]);
  refuseOverwrite(path, Boolean(opts.force), inCwd(io, path));
  const { client, nodes } = await connectApi(target, io);
  try {
    const node = nodes[0];
    const issued = await client.call<ClientConfigResponse>('POST', paths.talosconfig, { body: { roles, ttlHours }, ...(node ? { node } : {}) });
    if (issued.clampedTo && opts.crtTtlMs !== undefined) io.stderr.write(`${clampNotice('--crt-ttl', new Date(issued.clampedTo))}\n`);
    const talosconfig = resolveTalosconfigPath(target.talosconfig, io.env);
    const config = await readTalosconfigFile(talosconfig, inCwd(io, talosconfig));
    const current = selectContext(config, target.context || config.context);
    const cluster = opts.cluster || current.name.replace(/^.*@/, '');
    const name = contextNameFor(roles, cluster);
    const endpoints = target.endpoints?.length ? target.endpoints : current.context.endpoints;
    const context = newContext(endpoints, { caPem: issued.ca, crtPem: issued.crt, keyPem: issued.key }, target.nodes ?? current.context.nodes);
    await writeFileAtomic({ path: inCwd(io, path), data: formatTalosconfig({ context: name, contexts: { [name]: context } }), mode: 0o600 });
  } finally {
    client.close();
  }
}
