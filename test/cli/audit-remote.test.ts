// `trustctl audit` and `audit verify` over the API, run in process through the real command tree against an apid on
// 127.0.0.1: os:operator reads the trail as JSON lines and gets the verdict; os:reader is refused.
import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { DateTime } from 'luxon';
import { formatTalosconfig, newContext } from '../../src/config/index.js';
import { apiTrail, printAudit } from '../../src/cli/audit.js';
import { buildProgram } from '../../src/cli/program.js';
import { ApidHarness } from '../server/apid-harness.js';
import { bufferIo } from '../../src/cli/buffer-io.js';
import { TEST_PLACE, captured } from '../support/captured-output.js';

describe('trustctl audit over the API (in process)', function () {
  this.timeout(30_000);
  let h: ApidHarness;
  let dir: string;
  const talosconfigFor = async (role: string) => {
    const cred = await h.role(role);
    const file = join(dir, `${role.replace(':', '-')}.yaml`);
    const context = newContext([h.address], { caPem: h.caPem, crtPem: cred.crt!, keyPem: cred.key! });
    writeFileSync(file, formatTalosconfig({ context: 'demo', contexts: { demo: context } }), { mode: 0o600 });
    return file;
  };
  const trustctl = (...args: string[]) => captured((io) => buildProgram(io).parseAsync(args, { from: 'user' }));

  before(async () => {
    // The node starts three hours ago (its manual clock), so its first records are older than --since 1h.
    h = await ApidHarness.start({ start: DateTime.utc().minus({ hours: 3 }) });
    dir = mkdtempSync(join(tmpdir(), 'trustplane-audit-remote-'));
    await h.node.node.audit.flushed();
  });
  after(async () => {
    await h?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('prints the trail as JSON lines for os:operator, with --since filtering by time', async () => {
    const operator = await talosconfigFor('os:operator');
    const all = await trustctl('--talosconfig', operator, 'audit', '-o', 'json');
    const lines = all.stdout.trim().split('\n').map((l) => JSON.parse(l) as { seq: number; action: string; actor: string });
    expect(lines.map((l) => l.seq)).to.deep.equal(lines.map((_, i) => i + 1));
    expect(lines.filter((l) => l.action === 'certificate-issued').length).to.be.greaterThan(5);
    await h.node.clock.advance({ hours: 3 });
    expect((await h.request(await h.role('os:reader'), 'GET', '/v1/resources/AuditRecords')).status).to.equal(403);
    await h.node.node.audit.flushed();
    const recent = await trustctl('--talosconfig', operator, 'audit', '--since', '1h', '-o', 'json');
    const kept = recent.stdout.trim().split('\n').map((l) => JSON.parse(l) as { action: string; details: { call?: string } });
    expect(kept.map((l) => `${l.action} ${l.details.call ?? ''}`)).to.deep.equal(['refused GET /v1/resources/AuditRecords']);
  });

  it('follows the trail with -f: a record committed after it started is printed as a JSON line', async () => {
    const target = { talosconfig: await talosconfigFor('os:operator') };
    let out = '';
    const waits: { text: string; seen: () => void }[] = [];
    const printed = (text: string) => new Promise<void>((seen) => (out.includes(text) ? seen() : waits.push({ text, seen })));
    const io = bufferIo(TEST_PLACE);
    const stdout = new Writable({
      write(chunk: Buffer, _encoding, done) {
        out += chunk.toString();
        for (const w of waits) if (out.includes(w.text)) w.seen();
        done();
      },
    });
    const following = printAudit({ output: 'json', follow: true }, apiTrail(target, io), { ...io, stdout });
    await printed('"seq":1,');
    expect(out).not.to.include('GET /v1/audit/verify');
    expect((await h.request(await h.role('os:reader'), 'GET', '/v1/audit/verify')).status).to.equal(403);
    await printed('"call":"GET /v1/audit/verify"');
    io.stop();
    await following;
    const last = JSON.parse(out.trim().split('\n').at(-1)!) as { action: string; source: string };
    expect(last).to.include({ action: 'refused', source: '127.0.0.1' });
  });

  it('answers audit verify for os:operator and refuses os:reader', async () => {
    const verdict = await trustctl('--talosconfig', await talosconfigFor('os:operator'), 'audit', 'verify');
    expect(verdict.exitCode).to.equal(0);
    expect(verdict.stdout).to.match(new RegExp(`^${h.address.replace(/\./g, '\\.')}: audit trail intact: records 1\\.\\.\\d+ \\(\\d+\\)`));
    const reader = await talosconfigFor('os:reader');
    for (const args of [['audit'], ['audit', 'verify']]) {
      const refused = await trustctl('--talosconfig', reader, ...args).then(
        () => undefined,
        (err: unknown) => err,
      );
      expect(refused, args.join(' ')).to.be.instanceOf(Error);
      expect((refused as Error).message).to.match(/not authorized/);
    }
  });
});
