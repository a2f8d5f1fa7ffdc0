import { expect } from 'chai';
import {
  PkiError,
  createCA,
  inspectCertificate,
  issueCertificate,
  issueCertificateAndKey,
  parseCertificatePem,
  parsePrivateKeyPem,
} from '../../src/pki/index.js';
import type { CaProfile, CertificateAuthority, IssueOptions, LeafProfile } from '../../src/pki/index.js';
import { cleanupTempFiles, extensionText, verifyStrict, verifyStrictBatch, x509Info, x509TextBatch } from './openssl.js';
import { sharedKey } from './shared-keys.js';

const NOW = new Date('2026-03-01T12:00:00Z');
const HOUR = 3_600_000;
const SERVER = 'TLS Web Server Authentication';
const CLIENT = 'TLS Web Client Authentication';

interface Expected {
  ca: CaProfile;
  /** As `openssl storeutl -text` prints the subject. */
  subject: string;
  eku: string;
  /** keyEncipherment is added for RSA keys only, where RSA key transport makes it meaningful. */
  rsaKeyEncipherment: boolean;
  hours: number;
  purposes: ('sslclient' | 'sslserver')[];
  options?: Partial<IssueOptions>;
  sans?: string;
}

/** The specification, written independently of src/pki/profiles.ts: Talos for the os CA, kubeadm for the rest. */
const EXPECTED: Record<LeafProfile, Expected> = {
  'talos-client': {
    ca: 'os', subject: 'O=os:admin, O=os:reader, CN=talosctl-client', eku: CLIENT, rsaKeyEncipherment: false, hours: 8760, purposes: ['sslclient'],
    options: { organizations: ['os:reader', 'os:admin'] },
  },
  'node-server': {
    ca: 'os', subject: 'CN=talos-node', eku: SERVER, rsaKeyEncipherment: true, hours: 24, purposes: ['sslserver'],
    options: { dnsNames: ['node1.example'], ipAddresses: ['10.5.0.2', 'fd00:0:0::2'] }, sans: 'DNS:node1.example, IP Address:10.5.0.2, IP Address:FD00:0:0:0:0:0:0:2',
  },
  'trustd-server': { ca: 'os', subject: 'CN=trustd', eku: SERVER, rsaKeyEncipherment: true, hours: 24, purposes: ['sslserver'], options: { ipAddresses: ['10.5.0.2'] }, sans: 'IP Address:10.5.0.2' },
  impersonator: { ca: 'os', subject: 'O=os:impersonator, CN=impersonator', eku: CLIENT, rsaKeyEncipherment: false, hours: 24, purposes: ['sslclient'] },
  'etcd-server': {
    ca: 'etcd', subject: 'CN=node1', eku: `${SERVER}, ${CLIENT}`, rsaKeyEncipherment: true, hours: 87600, purposes: ['sslserver', 'sslclient'],
    options: { commonName: 'node1', dnsNames: ['node1', 'localhost'], ipAddresses: ['127.0.0.1', '::1'] }, sans: 'DNS:node1, DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1',
  },
  'etcd-peer': {
    ca: 'etcd', subject: 'CN=node1', eku: `${SERVER}, ${CLIENT}`, rsaKeyEncipherment: true, hours: 87600, purposes: ['sslserver', 'sslclient'],
    options: { commonName: 'node1', ipAddresses: ['10.5.0.2'] }, sans: 'IP Address:10.5.0.2',
  },
  'etcd-client': { ca: 'etcd', subject: 'CN=etcd-client', eku: CLIENT, rsaKeyEncipherment: true, hours: 87600, purposes: ['sslclient'] },
  'apiserver-etcd-client': { ca: 'etcd', subject: 'CN=kube-apiserver-etcd-client', eku: CLIENT, rsaKeyEncipherment: true, hours: 8760, purposes: ['sslclient'] },
  'kube-apiserver': {
    ca: 'kubernetes', subject: 'CN=kube-apiserver', eku: SERVER, rsaKeyEncipherment: true, hours: 8760, purposes: ['sslserver'],
    options: { ipAddresses: ['10.96.0.1'], dnsNames: ['api.example'] },
    sans: 'DNS:kubernetes, DNS:kubernetes.default, DNS:kubernetes.default.svc, DNS:api.example, IP Address:10.96.0.1',
  },
  'apiserver-kubelet-client': { ca: 'kubernetes', subject: 'O=system:masters, CN=kube-apiserver-kubelet-client', eku: CLIENT, rsaKeyEncipherment: true, hours: 8760, purposes: ['sslclient'] },
  kubelet: { ca: 'kubernetes', subject: 'O=system:nodes, CN=system:node:node1', eku: CLIENT, rsaKeyEncipherment: true, hours: 8760, purposes: ['sslclient'], options: { commonName: 'system:node:node1' } },
  'kubelet-server': {
    ca: 'kubernetes', subject: 'CN=node1', eku: SERVER, rsaKeyEncipherment: true, hours: 8760, purposes: ['sslserver'],
    options: { commonName: 'node1', dnsNames: ['node1'] }, sans: 'DNS:node1',
  },
  'controller-manager': { ca: 'kubernetes', subject: 'CN=system:kube-controller-manager', eku: CLIENT, rsaKeyEncipherment: true, hours: 8760, purposes: ['sslclient'] },
  scheduler: { ca: 'kubernetes', subject: 'CN=system:kube-scheduler', eku: CLIENT, rsaKeyEncipherment: true, hours: 8760, purposes: ['sslclient'] },
  'kube-admin': { ca: 'kubernetes', subject: 'O=system:masters, CN=admin', eku: CLIENT, rsaKeyEncipherment: true, hours: 8760, purposes: ['sslclient'] },
  'front-proxy-client': { ca: 'aggregator', subject: 'CN=front-proxy-client', eku: CLIENT, rsaKeyEncipherment: true, hours: 8760, purposes: ['sslclient'] },
};

const CA_SUBJECT: Record<CaProfile, string> = { os: 'O=talos', kubernetes: 'O=kubernetes', etcd: 'O=etcd', aggregator: 'CN=front-proxy' };

describe('pki/issue', () => {
  after(cleanupTempFiles);

  for (const algorithm of ['ecdsa', 'ed25519', 'rsa'] as const) {
    describe(`every leaf profile with ${algorithm} keys`, () => {
      const cas = new Map<CaProfile, CertificateAuthority>();
      const leaves = new Map<LeafProfile, string>();
      const texts = new Map<LeafProfile, string>();

      before(async () => {
        for (const profile of ['os', 'kubernetes', 'etcd', 'aggregator'] as const) {
          cas.set(profile, await createCA(profile, { key: algorithm === 'rsa' ? sharedKey('rsa') : undefined, algorithm, now: NOW }));
        }
        const profiles = Object.keys(EXPECTED) as LeafProfile[];
        for (const profile of profiles) {
          const e = EXPECTED[profile];
          leaves.set(profile, issueCertificate(cas.get(e.ca)!, profile, { publicKey: sharedKey(algorithm).publicKey, now: NOW, ...e.options }).certPem);
        }
        const batch = x509TextBatch(profiles.map((p) => leaves.get(p)!));
        profiles.forEach((p, i) => texts.set(p, batch[i]));
      });

      for (const [profile, e] of Object.entries(EXPECTED) as [LeafProfile, Expected][]) {
        it(`issues ${profile} with the subject, usages, SANs and lifetime ${e.ca === 'os' ? 'Talos' : 'kubeadm'} uses`, () => {
          const text = texts.get(profile)!;
          expect(text).to.include(`Subject: ${e.subject}\n`);
          expect(text).to.include(`Issuer: ${CA_SUBJECT[e.ca]}\n`);
          const ku = algorithm === 'rsa' && e.rsaKeyEncipherment ? 'Digital Signature, Key Encipherment' : 'Digital Signature';
          expect(extensionText(text, 'X509v3 Key Usage')).to.deep.equal({ critical: true, value: ku });
          expect(extensionText(text, 'X509v3 Extended Key Usage')).to.deep.equal({ critical: false, value: e.eku });
          expect(extensionText(text, 'X509v3 Basic Constraints')).to.deep.equal({ critical: true, value: 'CA:FALSE' });
          expect(extensionText(text, 'X509v3 Subject Alternative Name')?.value).to.equal(e.sans);
          expect(extensionText(text, 'X509v3 Subject Key Identifier')?.value).to.match(/^([0-9A-F]{2}:){19}[0-9A-F]{2}$/);
          const caSki = inspectCertificate(cas.get(e.ca)!.cert).subjectKeyId;
          expect(extensionText(text, 'X509v3 Authority Key Identifier')?.value.replace(/^keyid:/, '')).to.equal(caSki);
          const notBefore = new Date(/Not Before: (.*)\n/.exec(text)![1]);
          const notAfter = new Date(/Not After : (.*)\n/.exec(text)![1]);
          expect(NOW.getTime() - notBefore.getTime()).to.equal(5 * 60_000);
          expect(notAfter.getTime() - NOW.getTime()).to.equal(e.hours * HOUR);
        });
      }

      it('issues leaves that `openssl verify -x509_strict` accepts for their purpose', () => {
        for (const purpose of ['sslclient', 'sslserver'] as const) {
          for (const caProfile of cas.keys()) {
            const profiles = (Object.keys(EXPECTED) as LeafProfile[]).filter((p) => EXPECTED[p].ca === caProfile && EXPECTED[p].purposes.includes(purpose));
            if (profiles.length === 0) continue;
            const r = verifyStrictBatch(cas.get(caProfile)!.certPem, profiles.map((p) => leaves.get(p)!), purpose, new Date(NOW.getTime() + HOUR));
            profiles.forEach((p, i) => expect(r.ok[i], `${p} as ${purpose}: ${r.out}`).to.equal(true));
          }
        }
      });

      it('issues leaves that OpenSSL refuses for the other purpose', () => {
        const clientOnly = (Object.keys(EXPECTED) as LeafProfile[]).filter((p) => EXPECTED[p].ca === 'kubernetes' && !EXPECTED[p].purposes.includes('sslserver'));
        const r = verifyStrictBatch(cas.get('kubernetes')!.certPem, clientOnly.map((p) => leaves.get(p)!), 'sslserver', new Date(NOW.getTime() + HOUR));
        clientOnly.forEach((p, i) => expect(r.ok[i], `${p} accepted as a server`).to.equal(false));
        expect(r.out).to.match(/unsuitable certificate purpose/);
        const server = verifyStrict(cas.get('os')!.certPem, leaves.get('node-server')!, 'sslclient', new Date(NOW.getTime() + HOUR));
        expect(server.ok).to.equal(false);
      });

      it('issues leaves that fail against another CA with the same subject', async () => {
        const other = await createCA('os', { algorithm, key: algorithm === 'rsa' ? sharedKey('ecdsa') : undefined, now: NOW });
        const r = verifyStrict(other.certPem, leaves.get('talos-client')!, 'sslclient', new Date(NOW.getTime() + HOUR));
        expect(r.ok).to.equal(false);
        // OpenSSL matches issuers by name and key identifier, so the look-alike CA is not even a candidate
        expect(r.out).to.match(/unable to get local issuer certificate|certificate signature failure/);
      });
    });
  }

  describe('lifetime', () => {
    it('clamps NotAfter to the issuer\'s NotAfter, and OpenSSL still accepts the leaf', async () => {
      const ca = await createCA('os', { key: sharedKey('ecdsa'), now: NOW, validityHours: 48 });
      const leaf = issueCertificate(ca, 'talos-client', { publicKey: sharedKey('ecdsa').publicKey, now: new Date(NOW.getTime() + HOUR) });
      const info = x509Info(leaf.certPem);
      expect(info.notAfter.toISOString()).to.equal(new Date(NOW.getTime() + 48 * HOUR).toISOString());
      expect(verifyStrict(ca.certPem, leaf.certPem, 'sslclient', new Date(NOW.getTime() + 47 * HOUR)).ok).to.equal(true);
    });

    it('backdates NotBefore by the configured minutes, zero included', async () => {
      const ca = await createCA('os', { key: sharedKey('ecdsa'), now: new Date(NOW.getTime() - HOUR) });
      for (const minutes of [0, 30]) {
        const leaf = issueCertificate(ca, 'node-server', { publicKey: sharedKey('ecdsa').publicKey, now: NOW, backdateMinutes: minutes, ipAddresses: ['10.0.0.1'] });
        expect(x509Info(leaf.certPem).notBefore.getTime()).to.equal(NOW.getTime() - minutes * 60_000);
      }
    });

    it('writes GeneralizedTime after 2049 and OpenSSL reads the dates back', async () => {
      const start = new Date('2045-06-01T00:00:00Z');
      const ca = await createCA('etcd', { key: sharedKey('ed25519'), now: start });
      const leaf = issueCertificate(ca, 'etcd-peer', { publicKey: sharedKey('ecdsa').publicKey, now: start, commonName: 'n1', ipAddresses: ['10.0.0.1'] });
      const info = x509Info(leaf.certPem);
      expect(info.notAfter.toISOString()).to.equal('2055-05-30T00:00:00.000Z');
      expect(verifyStrict(ca.certPem, leaf.certPem, 'sslserver', new Date('2052-01-01T00:00:00Z')).ok).to.equal(true);
    });

    it('refuses to issue from an expired CA, naming it', async () => {
      const ca = await createCA('os', { key: sharedKey('ecdsa'), now: NOW, validityHours: 1 });
      expect(() => issueCertificate(ca, 'talos-client', { publicKey: sharedKey('ecdsa').publicKey, now: new Date(NOW.getTime() + 2 * HOUR) })).to.throw(
        PkiError,
        'CA "O=talos" expired at 2026-03-01T13:00:00.000Z; rotate the CA before issuing from it',
      );
    });
  });

  describe('serials, keys and bad input', () => {
    let ca: CertificateAuthority;
    before(async () => {
      ca = await createCA('os', { key: sharedKey('ecdsa'), now: NOW });
    });

    it('draws distinct positive serials below 2^128', () => {
      const serials = new Set<string>();
      for (let i = 0; i < 300; i++) {
        const serial = inspectCertificate(issueCertificate(ca, 'talos-client', { publicKey: sharedKey('ecdsa').publicKey, now: NOW }).cert).serial;
        const n = BigInt('0x' + serial);
        expect(n > 0n && n < 1n << 128n, serial).to.equal(true);
        serials.add(serial);
      }
      expect(serials.size).to.equal(300);
      const leaf = issueCertificate(ca, 'talos-client', { publicKey: sharedKey('ecdsa').publicKey, now: NOW });
      expect(x509Info(leaf.certPem).serial.toString(16).toUpperCase()).to.equal(inspectCertificate(leaf.cert).serial.replace(/^0+/, ''));
    });

    it('generates the key with the CA\'s algorithm unless told otherwise, and returns it in Talos PEM', async () => {
      const same = await issueCertificateAndKey(ca, 'talos-client', { now: NOW });
      expect(same.key.algorithm).to.equal('ecdsa');
      expect(same.keyPem).to.match(/^-----BEGIN EC PRIVATE KEY-----/);
      expect(parsePrivateKeyPem(same.keyPem).publicKey.equals(same.cert.publicKey)).to.equal(true);
      const ed = await issueCertificateAndKey(ca, 'talos-client', { now: NOW, algorithm: 'ed25519' });
      expect(ed.keyPem).to.match(/^-----BEGIN ED25519 PRIVATE KEY-----/);
      expect(parseCertificatePem(ed.certPem).publicKey.equals(ed.key.publicKey)).to.equal(true);
    });

    it('refuses bad requests with the field, the problem and the fix', () => {
      const publicKey = sharedKey('ecdsa').publicKey;
      const cases: [LeafProfile, Partial<IssueOptions>, string | RegExp][] = [
        ['node-server', { organizations: ['os:admin'] }, 'organizations: the node-server profile issues server certificates without an Organization (it would grant roles); remove them'],
        ['kubelet', {}, 'commonName: required for the kubelet profile (e.g. "system:node:<name>")'],
        ['node-server', { ipAddresses: ['10.0.0.300'] }, 'ipAddresses[0]: "10.0.0.300" is not an IPv4 or IPv6 address'],
        ['node-server', { dnsNames: ['bad name'] }, 'dnsNames: "bad name" is not a valid DNS name'],
        ['talos-client', { validityHours: -1 }, 'validityHours: must be positive, got -1'],
        ['talos-client', { backdateMinutes: -5 }, 'backdateMinutes: must be zero or more, got -5'],
        ['no-such' as LeafProfile, {}, /profile: "no-such" is unknown; use one of talos-client, node-server/],
      ];
      for (const [profile, options, message] of cases) {
        expect(() => issueCertificate(ca, profile, { publicKey, now: NOW, ...options }), JSON.stringify(options)).to.throw(PkiError, message);
      }
    });

    it('marks the SAN extension critical when the subject is empty, as RFC 5280 requires, and OpenSSL accepts it', () => {
      const leaf = issueCertificate(ca, 'node-server', { publicKey: sharedKey('ecdsa').publicKey, now: NOW, commonName: '', dnsNames: ['node1.example'] });
      const text = x509Info(leaf.certPem).text;
      expect(text).to.match(/Subject: *\n/);
      expect(extensionText(text, 'X509v3 Subject Alternative Name')).to.deep.equal({ critical: true, value: 'DNS:node1.example' });
      expect(verifyStrict(ca.certPem, leaf.certPem, 'sslserver', new Date(NOW.getTime() + HOUR)).ok).to.equal(true);
      expect(() => issueCertificate(ca, 'node-server', { publicKey: sharedKey('ecdsa').publicKey, commonName: '' })).to.throw(PkiError, 'subject: empty, and no SANs; give a commonName, organizations or SANs');
    });

    it('sorts and de-duplicates Talos roles and SANs', () => {
      const leaf = issueCertificate(ca, 'talos-client', { publicKey: sharedKey('ecdsa').publicKey, organizations: ['os:reader', 'os:admin', 'os:reader'] });
      expect(inspectCertificate(leaf.cert).subject.organizations).to.deep.equal(['os:admin', 'os:reader']);
      const server = issueCertificate(ca, 'node-server', { publicKey: sharedKey('ecdsa').publicKey, dnsNames: ['a', 'a'], ipAddresses: ['fd00::1', 'FD00:0::1'] });
      expect(inspectCertificate(server.cert).dnsNames).to.deep.equal(['a']);
      expect(inspectCertificate(server.cert).ipAddresses).to.deep.equal(['fd00::1']);
    });
  });
});

