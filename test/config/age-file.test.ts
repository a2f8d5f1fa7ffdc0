import { expect } from 'chai';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decryptAgeFile, encryptArmored, parseAgeIdentities, parseAgeRecipients, ageRecipientProblem } from '../../src/config/age-file.js';
import { ageForm, AGE_ARMOR_BEGIN } from '../../src/config/age-header.js';
import { ConfigError } from '../../src/config/config-error.js';
import { ageDecrypt, ageEncrypt, ageKeygen } from '../support/age-cli.js';
import type { AgeKey } from '../support/age-cli.js';
import { rejection, thrown } from '../support/caught.js';

const PLAIN = 'cluster:\n    id: abc\n    secret: "not: really"\n# a comment\n';



describe('age files (with the age CLI as the judge)', () => {
  let dir: string;
  let alice: AgeKey;
  let bob: AgeKey;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'age-file-'));
    alice = ageKeygen(dir, 'alice.txt');
    bob = ageKeygen(dir, 'bob.txt');
  });
  after(() => rmSync(dir, { recursive: true, force: true }));
  const at = (name: string) => join(dir, name);
  const aliceKeys = () => [{ source: 'alice.txt', identities: parseAgeIdentities(readFileSync(alice.file, 'utf8'), 'alice.txt') }];

  it('writes an armored file that age -d decrypts to exactly the plaintext, for each recipient', async () => {
    const armored = await encryptArmored(PLAIN, [alice.recipient, bob.recipient]);
    expect(armored.startsWith(`${AGE_ARMOR_BEGIN}\n`)).to.equal(true);
    expect(armored).to.not.contain('cluster');
    writeFileSync(at('out.age'), armored);
    expect(ageDecrypt(alice.file, at('out.age'))).to.equal(PLAIN);
    expect(ageDecrypt(bob.file, at('out.age'))).to.equal(PLAIN);
  });

  for (const armored of [false, true]) {
    it(`decrypts what age ${armored ? '-a -r' : '-r'} wrote`, async () => {
      writeFileSync(at('plain.yaml'), PLAIN);
      ageEncrypt([alice.recipient], at('plain.yaml'), at('by-age'), armored);
      const data = readFileSync(at('by-age'));
      expect(ageForm(data)).to.equal(armored ? 'armored' : 'binary');
      expect(Buffer.from(await decryptAgeFile(data, aliceKeys(), 'by-age')).toString('utf8')).to.equal(PLAIN);
    });
  }

  it('tells age files from plain ones by their first bytes', () => {
    expect(ageForm(Buffer.from(PLAIN))).to.equal(undefined);
    expect(ageForm(Buffer.from(`\n  ${AGE_ARMOR_BEGIN}\n`))).to.equal('armored');
    expect(ageForm(Buffer.from('age-encryption.org/v1\n-> X25519 abc\n'))).to.equal('binary');
    expect(ageForm(Buffer.from(`# ${AGE_ARMOR_BEGIN}\n`))).to.equal(undefined);
  });

  it('reads identity files with comments and several identities (age-keygen files concatenated), and uses any of them', async () => {
    const both = `${readFileSync(alice.file, 'utf8')}\n\n${readFileSync(bob.file, 'utf8')}`;
    const identities = parseAgeIdentities(both.replace(/\n/g, '\r\n'), 'both.txt');
    expect(identities).to.deep.equal([alice.secret, bob.secret]);
    writeFileSync(at('plain.yaml'), PLAIN);
    ageEncrypt([bob.recipient], at('plain.yaml'), at('for-bob'), false);
    const text = await decryptAgeFile(readFileSync(at('for-bob')), [{ source: 'both.txt', identities }], 'for-bob');
    expect(Buffer.from(text).toString('utf8')).to.equal(PLAIN);
  });

  it('refuses a bad identity line naming the file and the line, without echoing the key', () => {
    const mistyped = alice.secret.slice(0, -1) + (alice.secret.endsWith('Q') ? 'P' : 'Q');
    const err = thrown(() => parseAgeIdentities(`# created: today\n\n${mistyped}\n`, 'age identity file "k.txt" (from --age-identity)'));
    expect(err).to.be.instanceOf(ConfigError);
    expect(err.message).to.equal('age identity file "k.txt" (from --age-identity): line 3: not a valid age identity (a damaged or mistyped AGE-SECRET-KEY-1... line)');
    expect(err.message).to.not.contain(mistyped.slice(16, 40));
    expect(thrown(() => parseAgeIdentities('ssh-ed25519 AAAA\n', 'k')).message).to.equal('k: line 1: not an age identity (expected AGE-SECRET-KEY-1..., as age-keygen writes it)');
    expect(thrown(() => parseAgeIdentities('# only comments\n', 'k')).message).to.match(/^k: no age identity in it/);
  });

  it('refuses a passphrase-protected identity file, saying to decrypt it first', async () => {
    const locked = await encryptArmored(readFileSync(alice.file, 'utf8'), [bob.recipient]);
    expect(thrown(() => parseAgeIdentities(locked, 'k')).message).to.match(/^k: passphrase-protected .* decrypt it first with age -d$/);
  });

  it('reads recipients files with comments, and refuses a bad line naming the file, the line and the shape expected', () => {
    expect(parseAgeRecipients(`# team\n${alice.recipient}\n\n  ${bob.recipient}  \n`, 'r.txt')).to.deep.equal([alice.recipient, bob.recipient]);
    expect(thrown(() => parseAgeRecipients(`${alice.recipient}\nage1nope\n`, 'r.txt')).message).to.equal(
      'r.txt: line 2: expected an age recipient (age1... as age-keygen -y prints it), got "age1nope"',
    );
    const secretLine = thrown(() => parseAgeRecipients(`${alice.secret}\n`, 'r.txt')).message;
    expect(secretLine).to.equal('r.txt: line 1: this is an identity (a secret key), not a recipient: give its public key, which age-keygen -y KEYFILE prints');
    expect(ageRecipientProblem(alice.recipient)).to.equal(undefined);
  });

  it('names the file and the identities tried when none of them opens it', async () => {
    const armored = await encryptArmored(PLAIN, [bob.recipient]);
    const err = await rejection(decryptAgeFile(Buffer.from(armored), aliceKeys(), 'secrets bundle "s.yaml"'));
    expect(err.message).to.equal(
      'secrets bundle "s.yaml": cannot be decrypted: it is encrypted to other recipients than the identities in alice.txt; give the identity file it was encrypted to',
    );
  });

  it('calls a truncated file, or one with garbage after the header or the end, damaged, naming it', async () => {
    const armored = await encryptArmored(PLAIN, [alice.recipient]);
    writeFileSync(at('plain.yaml'), PLAIN);
    ageEncrypt([alice.recipient], at('plain.yaml'), at('binary'), false);
    const binary = readFileSync(at('binary'));
    const hostile = {
      'armored, cut short': Buffer.from(armored.slice(0, armored.length - 40)),
      'binary, cut short': binary.subarray(0, binary.length - 5),
      'binary, header only': binary.subarray(0, 40),
      'armored, garbage after the end line': Buffer.from(`${armored}garbage\n`),
      'binary, bytes appended': Buffer.concat([binary, Buffer.from('more')]),
      'garbage after the header line': Buffer.from('age-encryption.org/v1\nthis is not a stanza\n'),
      'armored garbage': Buffer.from(`${AGE_ARMOR_BEGIN}\n!!!!\n-----END AGE ENCRYPTED FILE-----\n`),
    };
    for (const [what, data] of Object.entries(hostile)) {
      const err = await rejection(decryptAgeFile(data, aliceKeys(), 'machine config "cp.yaml"'));
      expect(err.message, what).to.match(/^machine config "cp\.yaml": cannot be decrypted: not a whole age file \(.+\), it is damaged or truncated; encrypt it again from the original$/);
    }
  });
});
