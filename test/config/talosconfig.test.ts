import { expect } from 'chai';
import { join } from 'node:path';
import {
  ConfigError,
  contextCredentials,
  contextNameFor,
  defaultTalosconfigPath,
  formatTalosconfig,
  mergeTalosconfig,
  newContext,
  parseRoles,
  parseTalosconfig,
  resolveTalosconfigPath,
  selectContext,
} from '../../src/config/index.js';
import type { Talosconfig } from '../../src/config/index.js';

const creds = { caPem: '-----BEGIN CERTIFICATE-----\nCA\n-----END CERTIFICATE-----\n', crtPem: 'crt\n', keyPem: 'key\n' };

function config(current: string, ...names: string[]): Talosconfig {
  return { context: current, contexts: Object.fromEntries(names.map((n) => [n, newContext([`${n}.example.com`], creds)])) };
}

describe('talosconfig', () => {
  it('writes the talosctl layout and reads it back', () => {
    const text = formatTalosconfig({ context: 'prod', contexts: { prod: newContext(['10.0.0.1'], creds, ['10.0.0.2']) } });
    expect(text).to.equal(
      [
        'context: prod',
        'contexts:',
        '    prod:',
        '        endpoints:',
        '            - 10.0.0.1',
        '        nodes:',
        '            - 10.0.0.2',
        `        ca: ${Buffer.from(creds.caPem).toString('base64')}`,
        `        crt: ${Buffer.from(creds.crtPem).toString('base64')}`,
        `        key: ${Buffer.from(creds.keyPem).toString('base64')}`,
        '',
      ].join('\n'),
    );
    const parsed = parseTalosconfig(text);
    expect(parsed.context).to.equal('prod');
    expect(contextCredentials('prod', parsed.contexts.prod)).to.deep.equal(creds);
  });

  it('keeps fields it does not model and upgrades the old single `target` to an endpoint', () => {
    const parsed = parseTalosconfig('context: a\ncontexts:\n    a:\n        target: 1.2.3.4\n        cluster: omni\n        auth:\n            siderov1:\n                identity: me\n');
    expect(parsed.contexts.a.endpoints).to.deep.equal(['1.2.3.4']);
    const again = parseTalosconfig(formatTalosconfig(parsed));
    expect(again.contexts.a.extra).to.deep.equal({ cluster: 'omni', auth: { siderov1: { identity: 'me' } } });
  });

  it('renames clashing contexts on merge like talosctl (name-1, name-2) and switches to the merged current context', () => {
    const base = config('a', 'a', 'b', 'b-1');
    const { merged, renames } = mergeTalosconfig(base, config('b', 'b', 'c'));
    expect(renames).to.deep.equal([{ from: 'b', to: 'b-2' }]);
    expect(Object.keys(merged.contexts).sort()).to.deep.equal(['a', 'b', 'b-1', 'b-2', 'c']);
    expect(merged.context).to.equal('b-2');
    expect(merged.contexts['b-2'].endpoints).to.deep.equal(['b.example.com']);
    expect(Object.keys(base.contexts)).to.have.length(3); // the input is not modified
  });

  it('keeps the current context when the merged file has none', () => {
    expect(mergeTalosconfig(config('a', 'a'), config('', 'x')).merged.context).to.equal('a');
  });

  it('selects a context by name and lists the defined ones when it is missing', () => {
    expect(selectContext(config('a', 'a', 'b'), 'b').name).to.equal('b');
    expect(() => selectContext(config('a', 'a', 'b'), 'zz')).to.throw(ConfigError, 'context "zz" is not defined (defined: a, b)');
    expect(() => selectContext(config('', 'a'))).to.throw(ConfigError, /^no context is set/);
  });

  it('finds the file at --talosconfig, then $TALOSCONFIG, then ~/.talos/config', () => {
    expect(resolveTalosconfigPath('/x/flag', { TALOSCONFIG: '/x/env', HOME: '/h' })).to.equal('/x/flag');
    expect(resolveTalosconfigPath(undefined, { TALOSCONFIG: '/x/env', HOME: '/h' })).to.equal('/x/env');
    expect(defaultTalosconfigPath({ HOME: '/h' })).to.equal(join('/h', '.talos', 'config'));
  });
});

describe('talosconfig roles', () => {
  it('sorts and de-duplicates roles and names a one-role context <role>@<cluster>', () => {
    expect(parseRoles(['os:reader,os:admin', 'os:reader'])).to.deep.equal(['os:admin', 'os:reader']);
    expect(contextNameFor(['os:reader'], 'prod')).to.equal('reader@prod');
    expect(contextNameFor(['os:admin', 'os:reader'], 'prod')).to.equal('prod');
  });

  it('refuses unknown roles, naming them and the known ones', () => {
    expect(() => parseRoles(['os:admin,os:root'])).to.throw(ConfigError, /^--roles: unknown roles: os:root \(known roles: os:admin, /);
  });
});
