import { expect } from 'chai';
import { RawBody, apidWithAdmin } from './apid-harness.js';
import type { Credential , ApidHarness} from './apid-harness.js';

describe('apid bad input: a 400 with the reason, and nothing written', function () {
  let h: ApidHarness;
  let admin: Credential;

  apidWithAdmin((started, cred) => {
    h = started;
    admin = cred;
  });

  const cases: { title: string; method: string; path: string; body?: RawBody; error: string | RegExp }[] = [
    { title: 'a body of null (apply-config)', method: 'PUT', path: '/v1/machineconfig', body: new RawBody('null'), error: 'request body is not a JSON object: got null' },
    { title: 'a body of null (config new)', method: 'POST', path: '/v1/talosconfig', body: new RawBody('null'), error: 'request body is not a JSON object: got null' },
    { title: 'a list as the body (rotation)', method: 'POST', path: '/v1/carotations', body: new RawBody('[]'), error: 'request body is not a JSON object: got a list' },
    { title: 'a number as the body (CA list)', method: 'PUT', path: '/v1/crosssignedcas/os', body: new RawBody('7'), error: 'request body is not a JSON object: got a number' },
    {
      title: 'a role that is an object with its own toString',
      method: 'POST',
      path: '/v1/talosconfig',
      body: new RawBody('{"roles": [{"toString": 1}]}'),
      error: 'roles[0]: expected a role name such as "os:reader", got an object',
    },
    { title: 'a role that is null', method: 'POST', path: '/v1/talosconfig', body: new RawBody('{"roles": ["os:reader", null]}'), error: 'roles[1]: expected a role name such as "os:reader", got null' },
    {
      title: 'a __proto__ key at the top of a patch body',
      method: 'PATCH',
      path: '/v1/machineconfig',
      body: new RawBody('{"__proto__": {"dryRun": false}, "patches": ["machine:\\n  certSANs: [proto.example.com]\\n"]}'),
      error: 'request body has a "__proto__" key, which no call accepts: rename or remove it',
    },
    { title: 'a __proto__ key deep in a body', method: 'POST', path: '/v1/talosconfig', body: new RawBody('{"roles": ["os:reader"], "x": [{"__proto__": null}]}'), error: /^request body has a "__proto__" key/ },
    { title: 'a malformed % escape in a resource type', method: 'GET', path: '/v1/resources/%zz', error: /^path segment "%zz": malformed percent-encoding \(a % must be followed by two hex digits; write a literal % as %25\)$/ },
    { title: 'a malformed % escape in a resource id', method: 'GET', path: '/v1/resources/cs/api%E0%A4%A', error: /^path segment "api%E0%A4%A": malformed percent-encoding/ },
    { title: 'a malformed % escape in a watch', method: 'GET', path: '/v1/watch/cs/%', error: /^path segment "%": malformed percent-encoding/ },
  ];

  for (const c of cases) {
    it(`refuses ${c.title}`, async () => {
      const revision = await h.node.node.state.revision();
      const answer = await h.request(admin, c.method, c.path, c.body);
      expect(answer.status, answer.body).to.equal(400);
      if (typeof c.error === 'string') expect(answer.json).to.deep.equal({ error: c.error });
      else expect(answer.json.error).to.match(c.error);
      expect(await h.node.node.state.revision()).to.equal(revision);
    });
  }

  it('still applies the same patch once the __proto__ key is gone (the refusal was about the key, not the patch)', async () => {
    const answer = await h.request(admin, 'PATCH', '/v1/machineconfig', { patches: ['machine:\n  certSANs: [proto.example.com]\n'], dryRun: true });
    expect(answer.status, answer.body).to.equal(200);
    expect(answer.json.changed).to.equal(true);
  });
});
