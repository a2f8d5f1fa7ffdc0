// `-n NODE`: the endpoint passes a call on to another node's apid, authenticating with its own impersonator client
// certificate (O=os:impersonator) and naming the caller's roles in a header, which the target honours only because the
// certificate is an impersonator's. The endpoint has checked already that the caller's roles allow the call (so a
// certificate without a role cannot make it dial anything); the target authorizes again. Only nodes the cluster knows
// (known-nodes.ts) are dialled: any other target is refused with "unknown node" before a connection is made.
import https from 'node:https';
import { checkServerIdentity } from 'node:tls';
import type { PeerCertificate } from 'node:tls';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { serverNameFor } from '../../pki/index.js';
import type { State } from '../../runtime/state.js';
import { revokedText } from '../revocation/index.js';
import type { RevokedSet } from '../revocation/index.js';
import { ApiError } from './api-error.js';
import { NODE_HEADER, ROLES_HEADER } from './api-paths.js';
import { KnownNodes, UNKNOWN_NODE } from './known-nodes.js';
import { parseNodeAddress } from './node-address.js';
import type { AcceptedCAs } from './tls-material.js';
import { apiCertificate, readApiCertificates } from './tls-material.js';

export interface ForwardOptions {
  /** The apid port of the cluster's nodes, and the port of a node given without one (default: this apid's port). */
  defaultPort?: number;
  /** The cluster's other nodes, host[:port] (serve's --member). */
  members?: readonly string[];
}

const HOP_HEADERS = new Set(['host', 'connection', 'keep-alive', 'transfer-encoding', 'upgrade', NODE_HEADER, ROLES_HEADER]);

export class Forwarder {
  private agent?: { key: string; agent: https.Agent };
  private readonly known: KnownNodes;

  constructor(
    private readonly state: State,
    private readonly cas: AcceptedCAs,
    private readonly revoked: RevokedSet,
    private readonly apidPort: number,
    members: readonly string[] = [],
  ) {
    this.known = new KnownNodes(state, apidPort, members);
  }

  async forward(req: IncomingMessage, res: ServerResponse, target: string, roles: readonly string[]): Promise<void> {
    let address;
    try {
      address = parseNodeAddress(target, this.apidPort);
    } catch (err) {
      throw new ApiError(400, (err as Error).message);
    }
    if (!(await this.known.includes(address))) throw new ApiError(400, UNKNOWN_NODE);
    const impersonator = apiCertificate(await readApiCertificates(this.state), 'impersonator');
    if (!impersonator)
      throw new ApiError(503, 'this node cannot forward calls: it has no impersonator certificate (workers have none); use a control plane node as the endpoint');
    const { pems } = await this.cas.current();
    const agent = this.agentFor(impersonator.cert, impersonator.key, pems);

    await new Promise<void>((resolve) => {
      const upstream = https.request({
        host: address.host,
        port: address.port,
        method: req.method,
        path: req.url,
        agent,
        headers: { ...forwardedHeaders(req.headers), [ROLES_HEADER]: roles.join(',') },
        ...serverNameFor(address.host),
      });
      upstream.on('response', (answer) => {
        res.writeHead(answer.statusCode ?? 502, forwardedHeaders(answer.headers));
        answer.pipe(res);
        answer.on('end', resolve);
        answer.on('error', () => resolve());
      });
      upstream.on('error', (err) => {
        if (!res.headersSent) {
          res.writeHead(502, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ error: `forwarding to node "${target}": ${err.message}` }));
        } else res.destroy();
        resolve();
      });
      // A caller that goes away (a watch ended with Ctrl-C) ends the call on the target too.
      res.on('close', () => {
        upstream.destroy();
        resolve();
      });
      req.pipe(upstream);
    });
  }

  private agentFor(cert: string, key: string, ca: string[]): https.Agent {
    // A change of the revocations starts a new agent: its connections are checked afresh (serverProblem), so a kept-alive
    // connection to a node revoked since is not reused.
    const cacheKey = `${cert}\n${ca.join('\n')}\n${this.revoked.etag}`;
    if (this.agent?.key !== cacheKey) {
      this.agent?.agent.destroy();
      this.agent = { key: cacheKey, agent: new https.Agent({ keepAlive: true, cert, key, ca, checkServerIdentity: (host, peer) => this.serverProblem(host, peer) }) };
    }
    return this.agent.agent;
  }

  /** A node whose apid certificate was revoked (a compromised node) is not talked to, nor told the caller's roles. */
  private serverProblem(host: string, peer: PeerCertificate): Error | undefined {
    const revocation = this.revoked.find('os', peer.serialNumber);
    if (revocation) return new Error(`node "${host}" presented a revoked apid certificate: ${revokedText(revocation)}; lift it with trustctl revoke --undo --serial ${revocation.serial} once the node is trusted again`);
    return checkServerIdentity(host, peer);
  }

  close(): void {
    this.agent?.agent.destroy();
  }
}

function forwardedHeaders(headers: IncomingHttpHeaders): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(headers)) if (value !== undefined && !HOP_HEADERS.has(name)) out[name] = value;
  return out;
}
