import { expect } from 'chai';
import { DateTime } from 'luxon';
import { parse as parseYaml } from 'yaml';
import { applyPatches, firstServiceAddress, generateMachineConfig, machineConfigProblems, parseMachineConfig, parsePatch } from '../../src/config/index.js';
import { certificateImpact, formatCertificateImpact } from '../../src/controllers/impact/index.js';
import { CertificateStatuses, KubernetesSecrets, MACHINE_CONFIG_ID, MachineConfigs } from '../../src/resources/index.js';
import type { CertificateStatusSpec, IssuedCertificatesSpec, MachineConfigSpec } from '../../src/resources/index.js';
import type { State } from '../../src/runtime/state.js';
import { x509Text } from '../pki/openssl.js';
import { NodeHarness, fixtureBundle } from './node-harness.js';

const START = DateTime.fromISO('2026-11-25T00:00:00Z', { zone: 'utc' });
const NODE = { addresses: ['10.5.0.2'], hostname: 'cp-1' };
const CUSTOM = `cluster:
  network:
    dnsDomain: corp.example
    serviceSubnets: [10.100.0.0/16, 'fd00:10:96::/112']
  controlPlane:
    localAPIServerPort: 7443
`;

const pointer = { namespace: 'config', type: MachineConfigs.type, id: MACHINE_CONFIG_ID };
const k8sSet = (state: State) => state.get<IssuedCertificatesSpec>({ namespace: 'secrets', type: KubernetesSecrets.type, id: 'k8s' });
const serverOf = (kubeconfig: string | undefined) => (parseYaml(kubeconfig ?? '') as { clusters: { cluster: { server: string } }[] }).clusters[0].cluster.server;

/** The SANs as openssl prints them, one entry per element. */
function sansOf(certPem: string): string[] {
  const m = /X509v3 Subject Alternative Name:.*\n\s*(.*)\n/.exec(x509Text(certPem));
  return m ? m[1].split(', ').map((s) => s.trim()) : [];
}

async function patchStored(state: State, text: string): Promise<void> {
  const mc = await state.get<MachineConfigSpec>(pointer);
  const next = applyPatches(parseMachineConfig(mc.spec.yaml), [parsePatch(text, 'p.yaml')]).config;
  await state.update<MachineConfigSpec>({ ...mc, spec: { yaml: next.toYaml() } });
}

describe('Kubernetes names from the config (service subnets, DNS domain, local API port)', function () {
  this.timeout(60_000);

  describe('first service address', () => {
    it('is the network address plus one, host bits cleared, for both families', () => {
      expect(firstServiceAddress('10.96.0.0/12')).to.equal('10.96.0.1');
      expect(firstServiceAddress('10.100.7.9/16')).to.equal('10.100.0.1');
      expect(firstServiceAddress('172.16.255.0/24')).to.equal('172.16.255.1');
      expect(firstServiceAddress('fd00:10:96::/112')).to.equal('fd00:10:96::1');
      expect(firstServiceAddress('2001:db8::ffff/64')).to.equal('2001:db8::1');
    });
  });

  describe('validation', () => {
    const base = () => generateMachineConfig(fixtureBundle(), { type: 'controlplane', clusterName: 'demo', endpoint: 'https://10.5.0.2:6443' });
    /** Problems of the config with one field set (through the model: a patch would be refused before validation). */
    const problems = (path: string[], value: unknown) => {
      const config = base();
      config.set(path, value);
      return machineConfigProblems(parseMachineConfig(config.toYaml()));
    };

    it('accepts the defaults and a dual-stack pair', () => {
      expect(machineConfigProblems(base())).to.deep.equal([]);
      expect(problems(['cluster', 'network', 'serviceSubnets'], ['10.100.0.0/16', 'fd00:10:96::/112'])).to.deep.equal([]);
    });

    it('refuses a patch that breaks them, naming the patch and the field', () => {
      expect(() => applyPatches(base(), [parsePatch('cluster:\n  network:\n    dnsDomain: "-bad-"\n', 'p.yaml')])).to.throw(/p\.yaml: cluster\.network\.dnsDomain: expected a DNS domain/);
    });

    it('names the field and the fix for a bad subnet, two subnets of one family, a bad domain and a bad port', () => {
      const subnets = ['cluster', 'network', 'serviceSubnets'];
      expect(problems(subnets, ['10.96.0.0'])).to.deep.equal([
        'cluster.network.serviceSubnets[0]: expected a CIDR such as 10.96.0.0/12 or fd00:10:96::/112, got "10.96.0.0"',
      ]);
      expect(problems(subnets, ['10.96.0.0/12', '10.97.0.0/16'])[0]).to.match(
        /^cluster\.network\.serviceSubnets: expected one IPv4 subnet, one IPv6 subnet or one of each/,
      );
      expect(problems(subnets, ['10.96.0.1/32'])[0]).to.match(/^cluster\.network\.serviceSubnets\[0\]: 10\.96\.0\.1\/32 is a single address/);
      expect(problems(['cluster', 'network', 'dnsDomain'], 'bad domain')).to.deep.equal(['cluster.network.dnsDomain: expected a DNS domain such as cluster.local, got "bad domain"']);
      expect(problems(['cluster', 'controlPlane', 'localAPIServerPort'], 70000)).to.deep.equal([
        'cluster.controlPlane.localAPIServerPort: expected a port number from 1 to 65535, got 70000',
      ]);
    });
  });

  describe('on a control-plane node', () => {
    let h: NodeHarness;
    before(async () => {
      h = await NodeHarness.start({ bundle: fixtureBundle(), start: START });
    });
    after(async () => h.destroy());

    it('issues the default names before anything is configured', async () => {
      const set = await k8sSet(h.node.state);
      const sans = sansOf(set.spec.certificates['kube-apiserver'].crt);
      expect(sans).to.include.members(['DNS:kubernetes.default.svc.cluster.local', 'IP Address:10.96.0.1', 'IP Address:127.0.0.1', 'DNS:localhost']);
      expect(serverOf(set.spec.kubeconfigs?.['controller-manager'])).to.equal('https://127.0.0.1:6443');
    });

    it('re-issues only kube-apiserver (RequestChanged, the names in its status) and rewrites the local kubeconfigs', async () => {
      const before = await k8sSet(h.node.state);
      await patchStored(h.node.state, CUSTOM);
      await h.settle();
      const after = await k8sSet(h.node.state);
      expect(sansOf(after.spec.certificates['kube-apiserver'].crt).sort()).to.deep.equal(
        [
          'DNS:cp-1',
          'DNS:kubernetes',
          'DNS:kubernetes.default',
          'DNS:kubernetes.default.svc',
          'DNS:kubernetes.default.svc.corp.example',
          'DNS:localhost',
          'IP Address:10.100.0.1',
          'IP Address:10.5.0.2',
          'IP Address:127.0.0.1',
          'IP Address:FD00:10:96:0:0:0:0:1',
        ].sort(),
      );
      for (const name of ['apiserver-kubelet-client', 'controller-manager', 'scheduler', 'admin', 'front-proxy-client'])
        expect(after.spec.certificates[name].crt, name).to.equal(before.spec.certificates[name].crt);
      for (const name of ['controller-manager', 'scheduler']) expect(serverOf(after.spec.kubeconfigs?.[name]), name).to.equal('https://127.0.0.1:7443');
      expect(serverOf(after.spec.kubeconfigs?.admin)).to.equal('https://10.5.0.2:6443');
      const status = await h.node.state.get<CertificateStatusSpec>({ namespace: 'runtime', type: CertificateStatuses.type, id: 'k8s-kube-apiserver' });
      expect(status.spec.lastIssuanceReason).to.equal('RequestChanged');
      expect(status.spec.lastIssuanceMessage).to.include('SAN +kubernetes.default.svc.corp.example').and.include('SAN -10.96.0.1').and.include('SAN +fd00:10:96::1');
    });
  });

  describe('dry-run impact', () => {
    it('names the SANs a dnsDomain or serviceSubnets change would re-issue and the kubeconfigs a port change rewrites', () => {
      const before = generateMachineConfig(fixtureBundle(), { type: 'controlplane', clusterName: 'demo', endpoint: 'https://10.5.0.2:6443' });
      const after = applyPatches(before, [parsePatch(CUSTOM, 'p.yaml')]).config;
      expect(formatCertificateImpact(certificateImpact(before, after, NODE))).to.deep.equal([
        'KubernetesSecrets: SAN +kubernetes.default.svc.corp.example, SAN -kubernetes.default.svc.cluster.local, SAN +10.100.0.1, SAN +fd00:10:96::1, SAN -10.96.0.1',
        'KubernetesSecrets: kubeconfig server controller-manager: https://127.0.0.1:6443 -> https://127.0.0.1:7443, scheduler: https://127.0.0.1:6443 -> https://127.0.0.1:7443 (kubeconfig only, no re-issue)',
      ]);
      const worker = generateMachineConfig(fixtureBundle(), { type: 'worker', clusterName: 'demo', endpoint: 'https://10.5.0.2:6443' });
      expect(formatCertificateImpact(certificateImpact(worker, applyPatches(worker, [parsePatch(CUSTOM, 'p.yaml')]).config, NODE))).to.deep.equal([]);
    });
  });
});
