import { expect } from 'chai';
import { DateTime } from 'luxon';
import { applyPatches, generateMachineConfig, generateSecretsBundle, parseMachineConfig, parsePatch } from '../../../src/config/index.js';
import type { MachineConfig } from '../../../src/config/index.js';
import { certificateImpact, formatCertificateImpact } from '../../../src/controllers/impact/index.js';
import type { CertificateImpact } from '../../../src/controllers/impact/index.js';
import { ApiCertificates, EtcdSecrets, KubernetesSecrets, MACHINE_CONFIG_ID, MachineConfigs, TrustdCertificates } from '../../../src/resources/index.js';
import type { IssuedCertificatesSpec, MachineConfigSpec } from '../../../src/resources/index.js';
import type { State } from '../../../src/runtime/state.js';
import { NodeHarness, fixtureBundle } from '../node-harness.js';

const NODE = { addresses: ['10.5.0.2'], hostname: 'cp-1' };
const START = DateTime.fromISO('2026-01-10T00:00:00Z', { zone: 'utc' });

const baseConfig = (type: 'controlplane' | 'worker' = 'controlplane') =>
  generateMachineConfig(fixtureBundle(), { type, clusterName: 'demo', endpoint: 'https://10.5.0.2:6443' });
const patched = (config: MachineConfig, text: string) => applyPatches(config, [parsePatch(text, 'p.yaml')]).config;

/** Sets a field through the model and reads the result back from its YAML, as the store would. */
function edited(config: MachineConfig, change: (c: MachineConfig) => void): MachineConfig {
  const copy = config.clone();
  change(copy);
  return parseMachineConfig(copy.toYaml());
}

/** `ApiCertificates/server` for every certificate the impact says would be (re-)issued. */
const reissued = (impact: CertificateImpact) =>
  impact.sets.flatMap((s) => s.changes.filter((c) => c.reason !== 'Removed').map((c) => `${s.type}/${c.name}`)).sort();

describe('certificate impact of a config change', () => {
  it('names the SAN a certSANs patch adds, for apid and trustd only', () => {
    const before = baseConfig();
    const impact = certificateImpact(before, patched(before, 'machine:\n  certSANs: [10.0.0.5]\n'), NODE);
    expect(reissued(impact)).to.deep.equal(['ApiCertificates/server', 'TrustdCertificates/server']);
    expect(formatCertificateImpact(impact)).to.deep.equal(['ApiCertificates: SAN +10.0.0.5', 'TrustdCertificates: SAN +10.0.0.5']);
  });

  it('sends every OS leaf to IncorrectIssuer when the OS CA changes, and leaves the other CAs\' leaves alone', async () => {
    const before = baseConfig();
    const other = await generateSecretsBundle({ now: new Date('2026-01-01T00:00:00Z') });
    const after = edited(before, (c) => (c.osCA = other.certs.os));
    const impact = certificateImpact(before, after, NODE);
    expect(impact.caChanges).to.deep.equal([{ ca: 'os', change: 'changed' }]);
    expect(reissued(impact)).to.deep.equal(['ApiCertificates/impersonator', 'ApiCertificates/server', 'TrustdCertificates/server']);
    expect(impact.sets.flatMap((s) => s.changes.map((c) => c.reason))).to.satisfy((r: string[]) => r.every((x) => x === 'IncorrectIssuer'));
    expect(formatCertificateImpact(impact)[0]).to.equal('OS CA changed: every OS leaf IncorrectIssuer');
  });

  it('re-issues only kube-apiserver for a cluster.apiServer.certSANs patch', () => {
    const before = baseConfig();
    const impact = certificateImpact(before, patched(before, 'cluster:\n  apiServer:\n    certSANs: [k8s.example.com]\n'), NODE);
    expect(reissued(impact)).to.deep.equal(['KubernetesSecrets/kube-apiserver']);
    expect(formatCertificateImpact(impact)).to.deep.equal(['KubernetesSecrets: SAN +k8s.example.com']);
  });

  it('reports an accepted CA as a trust bundle change without re-issuing anything', async () => {
    const before = baseConfig();
    const other = await generateSecretsBundle({ now: new Date('2026-01-01T00:00:00Z') });
    const after = edited(before, (c) => (c.acceptedCAs = [other.certs.os.crt]));
    const impact = certificateImpact(before, after, NODE);
    expect(reissued(impact)).to.deep.equal([]);
    expect(formatCertificateImpact(impact)).to.deep.equal([
      'ApiCertificates: accepted CAs +1 (trust bundle only, no re-issue)',
      'TrustdCertificates: accepted CAs +1 (trust bundle only, no re-issue)',
    ]);
  });

  it('finds nothing to re-issue for a change outside the PKI', () => {
    const before = baseConfig();
    const impact = certificateImpact(before, patched(before, 'machine:\n  install:\n    wipe: true\n'), NODE);
    expect(impact).to.deep.equal({ caChanges: [], sets: [] });
  });

  it('on a worker, names the SAN its trustd-issued apid certificate would be requested again for', () => {
    const before = baseConfig('worker');
    const impact = certificateImpact(before, patched(before, 'machine:\n  certSANs: [10.0.0.5]\n'), NODE);
    expect(formatCertificateImpact(impact)).to.deep.equal(['ApiCertificates: SAN +10.0.0.5']);
  });

  it('on a worker, keeps the trustd-issued certificate while the old OS CA stays accepted, and not once it is dropped', async () => {
    const before = baseConfig('worker');
    const other = await generateSecretsBundle({ now: new Date('2026-01-01T00:00:00Z') });
    const rotating = edited(before, (c) => {
      c.osCA = { crt: other.certs.os.crt, key: '' };
      c.acceptedCAs = [before.osCA.crt];
    });
    expect(reissued(certificateImpact(before, rotating, NODE))).to.deep.equal([]);
    const dropped = edited(before, (c) => (c.osCA = { crt: other.certs.os.crt, key: '' }));
    const impact = certificateImpact(before, dropped, NODE);
    expect(reissued(impact)).to.deep.equal(['ApiCertificates/server']);
    expect(formatCertificateImpact(impact)).to.include('ApiCertificates: server IncorrectIssuer (issued by an OS CA that would no longer be accepted)');
  });

  it('shows a control plane turned worker dropping its control-plane certificates', () => {
    const before = baseConfig();
    const after = parseMachineConfig(before.toYaml().replace('type: controlplane', 'type: worker'));
    const lines = formatCertificateImpact(certificateImpact(before, after, NODE));
    expect(lines).to.include('TrustdCertificates: server would be removed');
    expect(lines).to.include('EtcdSecrets: server, peer, admin, apiserver-etcd-client would be removed');
  });
});

describe('certificate impact agrees with what the controllers then do', () => {
  const ISSUED = [ApiCertificates, TrustdCertificates, EtcdSecrets, KubernetesSecrets];
  const POINTER = { namespace: 'config', type: MachineConfigs.type, id: MACHINE_CONFIG_ID };

  async function certificates(state: State): Promise<Record<string, string>> {
    const out: Record<string, string> = {};
    for (const def of ISSUED) {
      for (const set of await state.list<IssuedCertificatesSpec>({ namespace: 'secrets', type: def.type })) {
        for (const [name, c] of Object.entries(set.spec.certificates)) out[`${def.type}/${name}`] = c.crt;
      }
    }
    return out;
  }

  const patches: [string, (config: MachineConfig) => Promise<MachineConfig> | MachineConfig][] = [
    ['machine.certSANs', (c) => patched(c, 'machine:\n  certSANs: [10.0.0.5, api.example.com]\n')],
    ['cluster.apiServer.certSANs', (c) => patched(c, 'cluster:\n  apiServer:\n    certSANs: [k8s.example.com]\n')],
    [
      'the OS CA',
      async (c) => {
        const other = await generateSecretsBundle({ now: START.toJSDate() });
        return edited(c, (next) => (next.osCA = other.certs.os));
      },
    ],
  ];

  for (const [what, change] of patches) {
    it(`predicts exactly the certificates re-issued when ${what} changes`, async () => {
      const h = await NodeHarness.start({ bundle: fixtureBundle(), start: START, addresses: NODE.addresses, hostname: NODE.hostname });
      try {
        const stored = await h.node.state.get<MachineConfigSpec>(POINTER);
        const before = parseMachineConfig(stored.spec.yaml);
        const after = await change(before);
        const predicted = reissued(certificateImpact(before, after, NODE));
        const held = await certificates(h.node.state);
        await h.node.state.update({ ...stored, spec: { yaml: after.toYaml() } });
        await h.settle();
        const now = await certificates(h.node.state);
        const actual = Object.keys(now).filter((k) => now[k] !== held[k]).sort();
        expect(actual.length).to.be.greaterThan(0);
        expect(predicted).to.deep.equal(actual);
      } finally {
        await h.destroy();
      }
    });
  }
});
