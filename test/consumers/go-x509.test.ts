import { expect } from 'chai';
import { DateTime } from 'luxon';
import { applyPatches, parseMachineConfig, parsePatch } from '../../src/config/index.js';
import { ApiCertificates, EtcdSecrets, KubeletCertificates, KubernetesSecrets, MACHINE_CONFIG_ID, MachineConfigs, TrustdCertificates } from '../../src/resources/index.js';
import type { IssuedCertificatesSpec, MachineConfigSpec } from '../../src/resources/index.js';
import type { ResourceDefinition } from '../../src/runtime/resource.js';
import { NodeHarness, fixtureBundle } from '../controllers/node-harness.js';
import { buildJudge, haveGo, judge } from './go-judge.js';
import type { JudgeCheck } from './go-judge.js';

const bundle = fixtureBundle();
const CA = { os: bundle.certs.os.crt, etcd: bundle.certs.etcd.crt, kubernetes: bundle.certs.k8s.crt, aggregator: bundle.certs.k8sAggregator.crt };
const START = DateTime.fromISO('2026-11-25T00:00:00Z', { zone: 'utc' });
const NETWORK = "cluster:\n  network:\n    dnsDomain: corp.example\n    serviceSubnets: [10.100.0.0/16, 'fd00:10:96::/112']\n";

type Usage = JudgeCheck['usage'];

/** Each certificate a control plane holds, the CA its consumer trusts, the usage it asks for and the names it dials. */
const CONSUMERS: { set: ResourceDefinition<IssuedCertificatesSpec>; id: string; name: string; ca: keyof typeof CA; usages: Usage[]; names?: string[]; consumer: string }[] = [
  { set: ApiCertificates, id: 'api', name: 'server', ca: 'os', usages: ['server'], names: ['cp-1', '10.5.0.2', '127.0.0.1'], consumer: 'talosctl dialling apid' },
  { set: ApiCertificates, id: 'api', name: 'impersonator', ca: 'os', usages: ['client'], consumer: 'apid of another node' },
  { set: TrustdCertificates, id: 'trustd', name: 'server', ca: 'os', usages: ['server'], names: ['10.5.0.2'], consumer: 'a worker dialling trustd' },
  { set: EtcdSecrets, id: 'etcd', name: 'server', ca: 'etcd', usages: ['server', 'client'], names: ['localhost', '127.0.0.1', '::1', '10.5.0.2', 'cp-1'], consumer: 'etcd clients (local and remote)' },
  { set: EtcdSecrets, id: 'etcd', name: 'peer', ca: 'etcd', usages: ['server', 'client'], names: ['10.5.0.2', 'cp-1'], consumer: 'etcd peers' },
  { set: EtcdSecrets, id: 'etcd', name: 'admin', ca: 'etcd', usages: ['client'], consumer: 'etcd (talosctl etcd)' },
  { set: EtcdSecrets, id: 'etcd', name: 'apiserver-etcd-client', ca: 'etcd', usages: ['client'], consumer: 'etcd (kube-apiserver)' },
  {
    set: KubernetesSecrets,
    id: 'k8s',
    name: 'kube-apiserver',
    ca: 'kubernetes',
    usages: ['server'],
    names: ['kubernetes.default.svc.corp.example', 'kubernetes.default.svc', 'kubernetes', '10.100.0.1', 'fd00:10:96::1', '10.5.0.2', 'localhost', '127.0.0.1'],
    consumer: 'pods, kubectl, controller-manager and scheduler',
  },
  { set: KubernetesSecrets, id: 'k8s', name: 'apiserver-kubelet-client', ca: 'kubernetes', usages: ['client'], consumer: 'kubelet (kube-apiserver calling it)' },
  { set: KubernetesSecrets, id: 'k8s', name: 'controller-manager', ca: 'kubernetes', usages: ['client'], consumer: 'kube-apiserver' },
  { set: KubernetesSecrets, id: 'k8s', name: 'scheduler', ca: 'kubernetes', usages: ['client'], consumer: 'kube-apiserver' },
  { set: KubernetesSecrets, id: 'k8s', name: 'admin', ca: 'kubernetes', usages: ['client'], consumer: 'kube-apiserver' },
  { set: KubernetesSecrets, id: 'k8s', name: 'front-proxy-client', ca: 'aggregator', usages: ['client'], consumer: 'an aggregated API server' },
  { set: KubeletCertificates, id: 'kubelet', name: 'client', ca: 'kubernetes', usages: ['client'], consumer: 'kube-apiserver (the kubelet)' },
  { set: KubeletCertificates, id: 'kubelet', name: 'server', ca: 'kubernetes', usages: ['server'], names: ['cp-1', '10.5.0.2'], consumer: 'kube-apiserver dialling the kubelet' },
];

describe("Go's crypto/x509 judges every certificate a control plane holds against its consumer's rules", function () {
  this.timeout(60_000);
  let h: NodeHarness;
  let checks: JudgeCheck[];
  const at = START.plus({ minutes: 1 }).toISO()!;

  before(async function () {
    if (!haveGo()) this.skip(); // CI installs golang-go; a machine without Go cannot run this judge
    buildJudge();
    h = await NodeHarness.start({ bundle, start: START, addresses: ['10.5.0.2'], hostname: 'cp-1' });
    const pointer = { namespace: 'config', type: MachineConfigs.type, id: MACHINE_CONFIG_ID };
    const mc = await h.node.state.get<MachineConfigSpec>(pointer);
    const next = applyPatches(parseMachineConfig(mc.spec.yaml), [parsePatch(NETWORK, 'network.yaml')]).config;
    await h.node.state.update<MachineConfigSpec>({ ...mc, spec: { yaml: next.toYaml() } });
    await h.settle();
    checks = [];
    for (const c of CONSUMERS) {
      const set = await h.node.state.get<IssuedCertificatesSpec>({ namespace: c.set.namespace, type: c.set.type, id: c.id });
      const leaf = set.spec.certificates[c.name]?.crt;
      if (!leaf) throw new Error(`${c.set.type}/${c.id} holds no ${c.name}`);
      for (const usage of c.usages) checks.push({ name: `${c.set.type}/${c.name} ${usage} for ${c.consumer}`, leaf, roots: CA[c.ca], usage, names: c.names ?? [], at });
    }
  });
  after(async () => h?.destroy());

  it('accepts each for its consumer: chain to the right CA, key usage, every name dialled', () => {
    const failed = judge(checks).filter((v) => !v.ok);
    expect(failed, JSON.stringify(failed, null, 2)).to.deep.equal([]);
    expect(checks).to.have.length(CONSUMERS.reduce((n, c) => n + c.usages.length, 0));
  });

  it('refuses each against another CA, for the usage it lacks, and for a name it does not carry', () => {
    const wrongCA = checks.map((c) => ({ ...c, name: `${c.name} / wrong CA`, roots: c.roots === CA.etcd ? CA.kubernetes : CA.etcd, names: [] }));
    const clientOnly = checks.filter((c) => c.usage === 'client' && !checks.some((o) => o.leaf === c.leaf && o.usage === 'server'));
    const wrongUsage = clientOnly.map((c) => ({ ...c, name: `${c.name} / as server`, usage: 'server' as const }));
    const apiserver = checks.find((c) => c.name.startsWith('KubernetesSecrets/kube-apiserver'))!;
    const oldNames = ['kubernetes.default.svc.cluster.local', '10.96.0.1'].map((n) => ({ ...apiserver, name: `kube-apiserver / ${n}`, names: [n] }));
    const kubeletServer = checks.find((c) => c.name.startsWith('KubeletCertificates/server'))!;
    const otherNode = { ...kubeletServer, name: 'kubelet server / another node', names: ['10.5.0.3'] };
    const verdicts = judge([...wrongCA, ...wrongUsage, ...oldNames, otherNode]);
    const accepted = verdicts.filter((v) => v.ok).map((v) => v.name);
    expect(accepted).to.deep.equal([]);
    expect(verdicts.find((v) => v.name.endsWith('/ as server'))?.error).to.match(/incompatible key usage/);
    expect(verdicts.find((v) => v.name === 'kube-apiserver / 10.96.0.1')?.error).to.match(/not 10\.96\.0\.1|doesn't contain any IP SANs|valid for/);
  });
});
