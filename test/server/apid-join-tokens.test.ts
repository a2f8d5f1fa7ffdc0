import { expect } from 'chai';
import { TOKEN_PATTERN } from '../../src/config/random-token.js';
import { JoinTokens, TokenPolicies, joinTokenHash } from '../../src/resources/index.js';
import type { JoinTokenSpec } from '../../src/resources/index.js';
import type { Resource } from '../../src/runtime/resource.js';
import { ApidHarness, RawBody } from './apid-harness.js';
import type { Credential } from './apid-harness.js';

describe('apid join token calls (os:admin)', function () {
  this.timeout(30_000);
  let h: ApidHarness;
  let admin: Credential;

  before(async () => {
    h = await ApidHarness.start();
    admin = await h.role('os:admin');
  });
  after(async () => h.close());

  const stored = async () => h.node.node.state.list<JoinTokenSpec>({ namespace: JoinTokens.namespace, type: JoinTokens.type });
  const create = (body: unknown, who = admin) => h.request(who, 'POST', '/v1/jointokens', body);

  it('creates a token, answers it once, and stores only its hash with the bindings and the creator', async () => {
    const answer = await create({ ttlSeconds: 7200, uses: 2, nodeIPs: ['10.0.0.7', '10.0.0.7', '::ffff:10.0.0.9'], hostname: 'Worker-1' });
    expect(answer.status, answer.body).to.equal(200);
    const { token, resource } = answer.json as { token: string; resource: Resource<JoinTokenSpec> };
    expect(token).to.match(TOKEN_PATTERN);
    const [saved] = (await stored()).filter((r) => r.metadata.id === token.slice(0, 6));
    expect(saved.spec).to.deep.include({ hash: joinTokenHash(token), uses: 2, used: 0, nodeIPs: ['10.0.0.7', '::ffff:a00:9'], hostname: 'worker-1', createdBy: 'CN=talosctl-client,O=os:admin' });
    expect(Date.parse(saved.spec.expires) - h.now().getTime()).to.be.within(7200_000 - 5_000, 7200_000);
    expect(resource).to.deep.equal(saved);
    expect(JSON.stringify(saved)).not.to.contain(token.slice(7));
  });

  it('lists tokens, and gets them as resources, without any token in the answer', async () => {
    const { token } = (await create({})).json as { token: string };
    for (const path of ['/v1/jointokens', '/v1/resources/jointokens']) {
      const answer = await h.request(admin, 'GET', path);
      expect(answer.status, path).to.equal(200);
      expect((answer.json as unknown as Resource[]).map((r) => r.metadata.id)).to.include(token.slice(0, 6));
      expect(answer.body).not.to.contain(token.slice(7));
    }
  });

  it('revokes a token by id, then answers 404 naming the way to list them; nothing else is removed', async () => {
    const { token } = (await create({})).json as { token: string };
    const before = (await stored()).length;
    const id = token.slice(0, 6);
    expect((await h.request(admin, 'DELETE', `/v1/jointokens/${id}`)).json).to.deep.equal({ revoked: id });
    const again = await h.request(admin, 'DELETE', `/v1/jointokens/${id}`);
    expect(again.status).to.equal(404);
    expect(again.json.error).to.equal(`no join token "${id}": \`trustctl token list\` shows the tokens there are (an id is the part before the dot)`);
    expect((await h.request(admin, 'DELETE', '/v1/jointokens/..%2F..')).status).to.equal(404);
    expect((await stored()).length).to.equal(before - 1);
  });

  it('refuses every token call to os:reader and os:operator (403) and writes nothing', async () => {
    const before = await stored();
    const id = before[0]?.metadata.id ?? 'abcdef';
    for (const role of ['os:reader', 'os:operator', 'os:etcd:backup']) {
      const who = await h.role(role);
      for (const [method, path, body] of [
        ['POST', '/v1/jointokens', {}],
        ['GET', '/v1/jointokens', undefined],
        ['DELETE', `/v1/jointokens/${id}`, undefined],
        ['PUT', '/v1/tokenpolicy', { staticToken: 'refused' }],
      ] as const) {
        const answer = await h.request(who, method, path, body);
        expect(answer.status, `${role} ${method} ${path}`).to.equal(403);
        expect(answer.json.error).to.equal('not authorized');
      }
    }
    expect(await stored()).to.deep.equal(before);
    expect(await h.node.node.state.find({ namespace: TokenPolicies.namespace, type: TokenPolicies.type, id: 'trustd' })).to.equal(undefined);
  });

  describe('hostile input: 400 naming the field, nothing written', () => {
    const cases: [string, unknown, RegExp][] = [
      ['a ttl of letters', { ttlSeconds: 'abc' }, /^ttlSeconds: expected a lifetime from 1m to 8760h \(60-31536000 seconds\), got "abc"$/],
      ['a negative ttl', { ttlSeconds: -5 }, /^ttlSeconds: .* got -5$/],
      ['a ttl under a minute', { ttlSeconds: 59 }, /^ttlSeconds: /],
      ['a ttl of centuries', { ttlSeconds: 1e12 }, /^ttlSeconds: .* got 1000000000000$/],
      ['no uses', { uses: 0 }, /^uses: expected a whole number of uses from 1 to 10000, got 0$/],
      ['huge uses', { uses: 1e15 }, /^uses: .* got 1000000000000000$/],
      ['fractional uses', { uses: 1.5 }, /^uses: /],
      ['uses as text', { uses: '3' }, /^uses: .* got "3"$/],
      ['a bad IP', { nodeIPs: ['10.0.0.300'] }, /^nodeIPs: expected an IP address such as 10\.0\.0\.7, got "10\.0\.0\.300"$/],
      ['an IPv6 address with a zone', { nodeIPs: ['fe80::1%eth0'] }, /^nodeIPs: expected an IP address such as 10\.0\.0\.7, got "fe80::1%eth0"$/],
      ['IPs not a list', { nodeIPs: '10.0.0.7' }, /^nodeIPs: expected a list of IP addresses/],
      ['too many IPs', { nodeIPs: Array.from({ length: 65 }, (_, i) => `10.0.1.${i}`) }, /^nodeIPs: at most 64 addresses, got 65$/],
      ['a bad hostname', { hostname: 'bad_host!' }, /^hostname: expected a host name/],
      ['a hostname of 300 characters', { hostname: 'a'.repeat(300) }, /^hostname: expected a host name/],
      ['a hostname that is a number', { hostname: 5 }, /^hostname: expected a host name, got 5$/],
      ['an unknown field', { token: 'abcdef.0123456789abcdef' }, /^"token" is not a join token field: expected ttlSeconds, uses, nodeIPs, hostname$/],
      ['a __proto__ key', new RawBody('{"__proto__": {"uses": 5}}'), /__proto__/],
      ['a body that is not an object', new RawBody('[1]'), /^request body /],
    ];
    for (const [title, body, error] of cases) {
      it(title, async () => {
        const before = await stored();
        const answer = await create(body);
        expect(answer.status, answer.body).to.equal(400);
        expect(answer.json.error).to.match(error);
        expect(answer.body).not.to.contain('0123456789abcdef');
        expect(await stored()).to.deep.equal(before);
      });
    }
  });

  it('sets the static token policy, refusing a value other than accepted or refused without writing', async () => {
    const bad = await h.request(admin, 'PUT', '/v1/tokenpolicy', { staticToken: 'off' });
    expect(bad.status).to.equal(400);
    expect(bad.json.error).to.equal('staticToken: expected accepted or refused, got "off"');
    const pointer = { namespace: TokenPolicies.namespace, type: TokenPolicies.type, id: 'trustd' };
    expect(await h.node.node.state.find(pointer)).to.equal(undefined);
    const ok = await h.request(admin, 'PUT', '/v1/tokenpolicy', { staticToken: 'refused' });
    expect(ok.status, ok.body).to.equal(200);
    expect((await h.node.node.state.get(pointer)).spec).to.deep.equal({ staticToken: 'refused', changedBy: 'CN=talosctl-client,O=os:admin' });
  });
});
