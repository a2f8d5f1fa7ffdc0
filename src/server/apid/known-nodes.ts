// The nodes apid forwards `-n` calls to: the cluster's members as this node knows them, and nothing else, so that an
// endpoint cannot be used to reach (or probe) other hosts and ports. A node is known when it is
//   - this node itself: any of its own names in CertSANs (its addresses, hostname, machine.certSANs, 127.0.0.1),
//   - a node of a CA rotation this node drives (CARotations: the addresses an admin gave `rotate-ca`, ports included),
//   - a member given to apid (serve's `--member`: the operator's list of the cluster's other nodes).
// Names without a port mean the apid port (every node of a cluster listens on the same one). There is no discovery
// service here: a worker that joined through this node's trustd is not known until it is listed in one of these.
import { ipFamily } from '../../pki/index.js';
import { CERT_SANS_ID } from '../../controllers/cert-sans-controller.js';
import { CARotations } from '../../resources/ca-rotation.js';
import type { CARotationSpec } from '../../resources/ca-rotation.js';
import { CertSANs } from '../../resources/cert-sans.js';
import type { CertSANsSpec } from '../../resources/cert-sans.js';
import type { State } from '../../runtime/state.js';
import { parseNodeAddress } from './node-address.js';
import type { NodeAddress } from './node-address.js';

export const UNKNOWN_NODE = 'unknown node';

export class KnownNodes {
  private readonly members: ReadonlySet<string>;

  constructor(
    private readonly state: State,
    private readonly apidPort: number,
    members: readonly string[] = [],
  ) {
    this.members = new Set(members.map((m) => keyOf(parseNodeAddress(m, apidPort))));
  }

  async includes(target: NodeAddress): Promise<boolean> {
    const key = keyOf(target);
    if (this.members.has(key)) return true;
    if (target.port === this.apidPort) {
      const own = await this.state.find<CertSANsSpec>({ namespace: CertSANs.namespace, type: CertSANs.type, id: CERT_SANS_ID });
      if (own && [...own.spec.ips, ...own.spec.dnsNames].some((name) => keyOf({ host: name, port: this.apidPort }) === key)) return true;
    }
    const rotations = await this.state.list<CARotationSpec>({ namespace: CARotations.namespace, type: CARotations.type });
    return rotations.some((r) => r.spec.nodes.some((n) => storedKey(n.address, this.apidPort) === key));
  }
}

/** The key of an address read from the store, or undefined for one that does not parse (stored by an older apid). */
function storedKey(address: string, apidPort: number): string | undefined {
  try {
    return keyOf(parseNodeAddress(address, apidPort));
  } catch {
    return undefined; // such a node cannot be dialled, so it is known as nothing
  }
}

/** One spelling per address: DNS names in lower case without a final dot, IPv6 in its compressed form. */
function keyOf({ host, port }: NodeAddress): string {
  const h = ipFamily(host) === 6 ? new URL(`http://[${host}]/`).hostname : host.toLowerCase().replace(/\.$/, '');
  return `${h}|${port}`;
}
