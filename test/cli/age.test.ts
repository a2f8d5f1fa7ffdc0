import { expect } from 'chai';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { formatSecretsBundleYaml, parseMachineConfig, parseSecretsBundle, parseTalosconfig, validateSecretsBundle } from '../../src/config/index.js';
import { AGE_ARMOR_BEGIN } from '../../src/config/age-header.js';
import { fixturePath } from '../config/support/talos-fixtures.js';
import { Sandbox } from '../config/support/run-trustctl.js';
import type { CliResult } from '../config/support/run-trustctl.js';
import { ageDecrypt, ageEncrypt, ageKeygen } from '../support/age-cli.js';
import type { AgeKey } from '../support/age-cli.js';
import { NodeSandbox } from './node-sandbox.js';

const SECRETS = fixturePath('secrets', 'secrets.yaml');
const ENDPOINT = 'https://10.5.0.2:6443';

function failed(r: CliResult, ...mentions: string[]): void {
  expect(r.code, r.stderr).to.equal(1);
  expect(r.stdout).to.equal('');
  for (const m of mentions) expect(r.stderr).to.contain(m);
}

describe('trustctl and age-encrypted files', function () {
  this.timeout(60_000);
  let box: Sandbox;
  let alice: AgeKey;
  let bob: AgeKey;
  beforeEach(() => {
    box = new Sandbox();
    alice = ageKeygen(box.dir, 'alice.txt');
    bob = ageKeygen(box.dir, 'bob.txt');
  });
  afterEach(() => box.remove());
  const inputs = () => ['alice.txt', 'bob.txt'];
  /** A copy of the fixture bundle as the age CLI encrypts it to alice. */
  const encryptedSecrets = (name: string, armored: boolean) => {
    ageEncrypt([alice.recipient], SECRETS, box.path(name), armored);
    return box.path(name);
  };

  describe('gen secrets', () => {
    it('--age-recipient writes the bundle armored and 0600; age -d gives the Talos YAML the plain command writes', async () => {
      const r = await box.run(['gen', 'secrets', '--age-recipient', alice.recipient]);
      expect(r.code, r.stderr).to.equal(0);
      expect(box.files().sort()).to.deep.equal([...inputs(), 'secrets.yaml']);
      expect(box.mode('secrets.yaml')).to.equal(0o600);
      const written = readFileSync(box.path('secrets.yaml'), 'utf8');
      expect(written.startsWith(`${AGE_ARMOR_BEGIN}\n`)).to.equal(true);
      expect(written).to.not.match(/cluster|PRIVATE KEY|LS0tLS1CRUdJTi/);
      const yaml = ageDecrypt(alice.file, box.path('secrets.yaml'));
      // the plain command's output is the canonical Talos form of the bundle: the decrypted text must be exactly that
      expect(yaml).to.equal(formatSecretsBundleYaml(validateSecretsBundle(parseSecretsBundle(yaml))));
      expect(yaml).to.match(/^cluster:\n {4}id: /);
    });

    it('--age-recipients-file (comments, two recipients) is read: each identity decrypts; -o - prints it armored', async () => {
      writeFileSync(box.path('team.txt'), `# the ops team\n${alice.recipient}\n\n${bob.recipient}\n`);
      const r = await box.run(['gen', 'secrets', '--age-recipients-file', 'team.txt', '-o', '-']);
      expect(r.code, r.stderr).to.equal(0);
      expect(r.stdout.startsWith(`${AGE_ARMOR_BEGIN}\n`)).to.equal(true);
      expect(box.files().sort()).to.deep.equal([...inputs(), 'team.txt']);
      writeFileSync(box.path('out.age'), r.stdout);
      const byAlice = ageDecrypt(alice.file, box.path('out.age'));
      expect(ageDecrypt(bob.file, box.path('out.age'))).to.equal(byAlice);
      validateSecretsBundle(parseSecretsBundle(byAlice));
    });

    it('a bad --age-recipient names the flag and the shape expected, never echoes a secret key, and writes nothing', async () => {
      const bad = await box.run(['gen', 'secrets', '--age-recipient', 'age1nothing']);
      failed(bad, '--age-recipient: expected an age recipient (age1... as age-keygen -y prints it), got "age1nothing"');
      const secret = await box.run(['gen', 'secrets', '--age-recipient', alice.secret]);
      failed(secret, '--age-recipient: this is an identity (a secret key), not a recipient');
      expect(secret.stderr).to.not.contain(alice.secret.slice(16));
      expect(box.files().sort()).to.deep.equal(inputs());
    });

    it('a recipients file with a bad line, or none at all, is named with the line, and nothing is written', async () => {
      writeFileSync(box.path('team.txt'), `${alice.recipient}\nssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAA bob@host\n`);
      const r = await box.run(['gen', 'secrets', '--age-recipients-file', 'team.txt']);
      failed(r, '--age-recipients-file "team.txt": line 2: SSH recipients are not supported');
      const missing = await box.run(['gen', 'secrets', '--age-recipients-file', 'nobody.txt']);
      failed(missing, '--age-recipients-file "nobody.txt" cannot be read: no such file');
      expect(box.files().sort()).to.deep.equal([...inputs(), 'team.txt']);
    });
  });

  describe('gen config', () => {
    const plainConfigs = async () => {
      const r = await box.run(['gen', 'config', 'demo', ENDPOINT, '--with-secrets', SECRETS, '--output-types', 'controlplane,worker', '-o', 'plain']);
      expect(r.code, r.stderr).to.equal(0);
      return { controlplane: readFileSync(box.path('plain/controlplane.yaml'), 'utf8'), worker: readFileSync(box.path('plain/worker.yaml'), 'utf8') };
    };

    it('--with-secrets reads bundles age -r and age -a -r wrote, the identity from the flag or either variable', async () => {
      const plain = await plainConfigs();
      const ways: [string, string[], Record<string, string>][] = [
        ['flag', ['--age-identity', 'alice.txt'], {}],
        ['trustplane', [], { TRUSTPLANE_AGE_IDENTITY: alice.file }],
        ['sops', [], { SOPS_AGE_KEY_FILE: alice.file }],
      ];
      for (const [i, [way, flags, env]] of ways.entries()) {
        const bundle = encryptedSecrets(`${way}.age`, i % 2 === 1);
        const r = await box.run(['gen', 'config', 'demo', ENDPOINT, '--with-secrets', bundle, '--output-types', 'controlplane,worker', '-o', way, ...flags], env);
        expect(r.code, `${way}: ${r.stderr}`).to.equal(0);
        expect(readFileSync(box.path(way, 'controlplane.yaml'), 'utf8'), way).to.equal(plain.controlplane);
        expect(readFileSync(box.path(way, 'worker.yaml'), 'utf8'), way).to.equal(plain.worker);
      }
    });

    it('--age-identity wins over the variables, and $TRUSTPLANE_AGE_IDENTITY over $SOPS_AGE_KEY_FILE', async () => {
      const bundle = encryptedSecrets('s.age', true);
      const run = (out: string, flags: string[], env: Record<string, string>) =>
        box.run(['gen', 'config', 'demo', ENDPOINT, '--with-secrets', bundle, '--output-types', 'worker', '-o', out, ...flags], env);
      const wrongFirst = await run('a', [], { TRUSTPLANE_AGE_IDENTITY: bob.file, SOPS_AGE_KEY_FILE: alice.file });
      failed(wrongFirst, `secrets bundle "${bundle}": cannot be decrypted: it is encrypted to other recipients than the identities in age identity file "${bob.file}" (from $TRUSTPLANE_AGE_IDENTITY)`);
      expect((await run('b', [], { TRUSTPLANE_AGE_IDENTITY: alice.file, SOPS_AGE_KEY_FILE: bob.file })).code).to.equal(0);
      expect((await run('c', ['--age-identity', 'bob.txt', '--age-identity', 'alice.txt'], { TRUSTPLANE_AGE_IDENTITY: bob.file })).code).to.equal(0);
      expect(box.files().filter((f) => /^[abc]\//.test(f)).sort()).to.deep.equal(['b/worker.yaml', 'c/worker.yaml']);
    });

    it('--age-recipient encrypts every output, the worker config and talosconfig included; age -d gives the plain configs', async () => {
      const plain = await plainConfigs();
      const r = await box.run(['gen', 'config', 'demo', ENDPOINT, '--with-secrets', SECRETS, '--age-recipient', alice.recipient, '-o', 'sealed']);
      expect(r.code, r.stderr).to.equal(0);
      for (const name of ['controlplane.yaml', 'worker.yaml', 'talosconfig']) {
        expect(box.mode('sealed', name), name).to.equal(0o600);
        expect(readFileSync(box.path('sealed', name), 'utf8').startsWith(`${AGE_ARMOR_BEGIN}\n`), name).to.equal(true);
      }
      expect(ageDecrypt(alice.file, box.path('sealed/controlplane.yaml'))).to.equal(plain.controlplane);
      expect(ageDecrypt(alice.file, box.path('sealed/worker.yaml'))).to.equal(plain.worker);
      const talosconfig = parseTalosconfig(ageDecrypt(alice.file, box.path('sealed/talosconfig')));
      expect(talosconfig.context).to.equal('demo');
      const info = await box.run(['--talosconfig', 'sealed/talosconfig', 'config', 'info']);
      failed(info, 'sealed/talosconfig: age-encrypted: decrypt it to a file of its own first, e.g. age -d -i key.txt');
      // the three armored files and nothing else: no plaintext copy or temp file left beside them
      expect(box.files().filter((f) => f.startsWith('sealed/')).sort()).to.deep.equal(['sealed/controlplane.yaml', 'sealed/talosconfig', 'sealed/worker.yaml']);
    });

    it('no identity, a wrong one, a bad identity file, a truncated file or garbage after the header: named, nothing written', async () => {
      const bundle = encryptedSecrets('s.age', true);
      const armored = readFileSync(bundle, 'utf8');
      writeFileSync(box.path('cut.age'), armored.slice(0, armored.length - 60));
      writeFileSync(box.path('garbage.age'), 'age-encryption.org/v1\n-> X25519\nnot base64 at all!\n--- nope\n');
      const mistyped = alice.secret.slice(0, -1) + (alice.secret.endsWith('Q') ? 'P' : 'Q');
      writeFileSync(box.path('mistyped.txt'), `# created: today\n${mistyped}\n`);
      const before = box.files().sort();
      const cases: [string, string[], Record<string, string>, string][] = [
        ['no identity', ['--with-secrets', bundle], {}, `secrets bundle "${bundle}" is age-encrypted but no age identity was given: pass --age-identity FILE`],
        ['wrong identity', ['--with-secrets', bundle, '--age-identity', 'bob.txt'], {}, `secrets bundle "${bundle}": cannot be decrypted: it is encrypted to other recipients than the identities in age identity file "bob.txt" (from --age-identity)`],
        ['missing identity file', ['--with-secrets', bundle], { SOPS_AGE_KEY_FILE: box.path('gone.txt') }, `age identity file "${box.path('gone.txt')}" (from $SOPS_AGE_KEY_FILE) cannot be read: no such file`],
        ['a key for a path', ['--with-secrets', bundle], { TRUSTPLANE_AGE_IDENTITY: alice.secret }, '$TRUSTPLANE_AGE_IDENTITY holds an age secret key itself; give the path of a file holding it'],
        ['mistyped identity', ['--with-secrets', bundle, '--age-identity', 'mistyped.txt'], {}, 'age identity file "mistyped.txt" (from --age-identity): line 2: not a valid age identity'],
        ['truncated', ['--with-secrets', 'cut.age', '--age-identity', 'alice.txt'], {}, 'secrets bundle "cut.age": cannot be decrypted: not a whole age file'],
        ['garbage', ['--with-secrets', 'garbage.age', '--age-identity', 'alice.txt'], {}, 'secrets bundle "garbage.age": cannot be decrypted: not a whole age file'],
      ];
      for (const [what, args, env, message] of cases) {
        const r = await box.run(['gen', 'config', 'demo', ENDPOINT, ...args], env);
        expect(r.code, what).to.equal(1);
        expect(r.stderr, what).to.contain(message);
        expect(r.stderr, what).to.not.contain(mistyped.slice(16, -1));
        expect(box.files().sort(), what).to.deep.equal(before);
      }
    });
  });

  it('config new --with-secrets reads an age-encrypted bundle and an age-encrypted control plane config', async () => {
    const bundle = encryptedSecrets('s.age', false);
    const r = await box.run(['config', 'new', 'from-bundle', '--with-secrets', bundle], { TRUSTPLANE_AGE_IDENTITY: alice.file });
    expect(r.code, r.stderr).to.equal(0);
    expect(parseTalosconfig(readFileSync(box.path('from-bundle'), 'utf8')).context).to.equal('admin@talos-default');

    const gen = await box.run(['gen', 'config', 'demo', ENDPOINT, '--with-secrets', SECRETS, '--output-types', 'controlplane', '--age-recipient', alice.recipient]);
    expect(gen.code, gen.stderr).to.equal(0);
    const fromConfig = await box.run(['config', 'new', 'from-config', '--with-secrets', 'controlplane.yaml', '--age-identity', 'alice.txt']);
    expect(fromConfig.code, fromConfig.stderr).to.equal(0);
    expect(parseTalosconfig(readFileSync(box.path('from-config'), 'utf8')).context).to.equal('admin@demo');

    const wrong = await box.run(['config', 'new', 'never', '--with-secrets', bundle, '--age-identity', 'bob.txt']);
    failed(wrong, `--with-secrets "${bundle}": cannot be decrypted`);
    expect(existsSync(box.path('never'))).to.equal(false);
  });
});

describe('apply-config and serve with an age-encrypted machine config', function () {
  this.timeout(60_000);
  let box: NodeSandbox;
  let key: AgeKey;
  let sealed: string;
  beforeEach(async () => {
    box = await NodeSandbox.create();
    key = ageKeygen(box.dir, 'key.txt');
    sealed = box.path('controlplane.age');
    ageEncrypt([key.recipient], box.config, sealed, true);
  });
  afterEach(() => box.remove());

  it('apply-config -f stores the decrypted config; without the right identity it applies nothing and creates no store', async () => {
    const other = ageKeygen(box.dir, 'other.txt');
    const wrong = await box.run(['apply-config', '-f', sealed, '--state', box.state, '--age-identity', other.file]);
    failed(wrong, `machine config "${sealed}": cannot be decrypted: it is encrypted to other recipients`);
    const none = await box.run(['apply-config', '-f', sealed, '--state', box.state]);
    failed(none, `machine config "${sealed}" is age-encrypted but no age identity was given`);
    expect(existsSync(box.state)).to.equal(false);

    const r = await box.run(['apply-config', '-f', sealed, '--state', box.state, '--age-identity', key.file]);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.equal('Applied configuration: MachineConfigs config/v1alpha1 is now at version 1.\n');
    const stored = (await box.getJson<{ yaml: string }>('mc'))[0];
    expect(stored.spec.yaml).to.equal(readFileSync(box.config, 'utf8'));
  });

  it('serve --config applies an age-encrypted config; without an identity it names the file and leaves no state', async () => {
    const none = await box.serveOnce('--config', sealed);
    expect(none.code).to.equal(1);
    expect(none.stderr).to.contain(`machine config "${sealed}" is age-encrypted but no age identity was given`);
    expect(existsSync(box.state)).to.equal(false);

    const r = await box.runProcess(['serve', '--state', box.state, '--once', '--node-ip', '10.5.0.2', '--hostname', 'cp-1', '--config', sealed], { SOPS_AGE_KEY_FILE: key.file });
    expect(r.code, r.stderr).to.equal(0);
    expect(parseMachineConfig((await box.getJson<{ yaml: string }>('mc'))[0].spec.yaml).clusterName).to.equal('demo');
  });
});
