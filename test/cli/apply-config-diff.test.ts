import { expect } from 'chai';
import { REDACTED, REDACTED_CHANGED, isSecretField, redactPair, unifiedDiff } from '../../src/cli/config-diff.js';

describe('apply-config dry-run diff', () => {
  it('masks secrets on both sides, telling a changed secret from an unchanged one', () => {
    const before = { machine: { token: 'aaaaaa.0123456789abcdef', ca: { crt: 'same', key: 'k1' } }, cluster: { secret: 's', name: 'x' } };
    const after = { machine: { token: 'aaaaaa.0123456789abcdef', ca: { crt: 'same', key: 'k2' } }, cluster: { secret: 's', name: 'y', aescbcEncryptionSecret: 'new' } };
    const [a, b] = redactPair(before, after);
    expect(a).to.deep.equal({ machine: { token: REDACTED, ca: { crt: 'same', key: REDACTED } }, cluster: { secret: REDACTED, name: 'x' } });
    expect(b).to.deep.equal({
      machine: { token: REDACTED, ca: { crt: 'same', key: REDACTED_CHANGED } },
      cluster: { secret: REDACTED, name: 'y', aescbcEncryptionSecret: REDACTED_CHANGED },
    });
  });

  it('masks secrets inside lists and on a side with no counterpart', () => {
    const [a, b] = redactPair({ list: [{ key: 'k' }, { key: 'gone' }] }, { list: [{ key: 'k' }], extra: { bootstrapToken: 't' } });
    expect(a).to.deep.equal({ list: [{ key: REDACTED }, { key: REDACTED }] });
    expect(b).to.deep.equal({ list: [{ key: REDACTED }], extra: { bootstrapToken: REDACTED } });
  });

  it('treats keys, tokens, secrets and passwords as secret fields, and certificates and names as not', () => {
    for (const name of ['key', 'token', 'secret', 'secretboxEncryptionSecret', 'bootstrapToken', 'password', 'privateKey']) expect(isSecretField(name), name).to.equal(true);
    for (const name of ['crt', 'certSANs', 'kubelet', 'clusterName', 'endpoint']) expect(isSecretField(name), name).to.equal(false);
  });

  it('prints unified hunks with three lines of context, and nothing when equal', () => {
    const a = Array.from({ length: 14 }, (_, i) => String(i + 1));
    const b = [...a.slice(0, 5), 'six', ...a.slice(6), '15'];
    expect(unifiedDiff(a, b, { before: 'old', after: 'new' })).to.equal(
      ['--- old', '+++ new', '@@ -3,7 +3,7 @@', ' 3', ' 4', ' 5', '-6', '+six', ' 7', ' 8', ' 9', '@@ -12,3 +12,4 @@', ' 12', ' 13', ' 14', '+15', ''].join('\n'),
    );
    // changes six unchanged lines apart share one hunk, as with GNU diff
    expect(unifiedDiff(a.slice(0, 12), [...a.slice(0, 5), 'six', ...a.slice(6, 12), '13'], { before: 'o', after: 'n' })).to.match(/^--- o\n\+\+\+ n\n@@ -3,10 \+3,11 @@\n/);
    expect(unifiedDiff(a, a, { before: 'old', after: 'new' })).to.equal('');
    expect(unifiedDiff([], ['x'], { before: 'old', after: 'new' })).to.equal('--- old\n+++ new\n@@ -0,0 +1,1 @@\n+x\n');
  });
});
