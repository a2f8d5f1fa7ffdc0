// The flow `trustctl audit` shares between its two sources (a local store, nodes over the API), driven by stand-in
// trails: each source says whether its records carry a node and when -f prints the table header, and the output is
// what each path printed before they shared the flow.
import { expect } from 'chai';
import type { AuditRecordSpec } from '../../src/resources/audit-records.js';
import type { AuditSource, AuditTrail, NodeRecord } from '../../src/cli/audit.js';
import { printAudit, verifyAudit } from '../../src/cli/audit.js';
import { bufferIo } from '../../src/cli/buffer-io.js';
import { TEST_PLACE, captured } from '../support/captured-output.js';

const record = (seq: number, time = '2026-01-01T00:00:00.000Z'): AuditRecordSpec => ({ seq, time, actor: 'local', action: 'certificate-issued', details: {}, prev: '' });

/** A trail holding `records`; follow replays them, then waits for the stop. */
function trail(records: NodeRecord[], shape: Pick<AuditTrail, 'byNode' | 'headerAtStart'>, closed: string[]): AuditSource {
  return async (use) => {
    try {
      return await use({
        ...shape,
        records: async (since) => records.filter((r) => !since || Date.parse(r.spec.time) >= since.getTime()),
        follow: (print, signal) =>
          new Promise<void>((resolve) => {
            for (const r of records) print(r);
            signal.addEventListener('abort', () => resolve());
          }),
        verify: async (report) => {
          for (const r of records) await report({ ok: r.spec.seq !== 2, records: 1, first: 1, last: 1, signedThrough: 1, unsigned: 0, ...(r.spec.seq === 2 ? { problem: { seq: 2, kind: 'edited', message: 'hash differs' } } : {}) }, r.node ?? 'store');
        },
      });
    } finally {
      closed.push('closed');
    }
  };
}

async function follow(source: AuditSource): Promise<string> {
  const io = bufferIo(TEST_PLACE);
  const running = printAudit({ output: 'table', follow: true }, source, io);
  await new Promise((resolve) => setImmediate(resolve));
  io.stop();
  await running;
  return io.written.stdout;
}

describe('trustctl audit: one flow over the local and remote trails', () => {
  it('labels rows with a NODE column only when the source says its records carry nodes, and closes the source', async () => {
    const closed: string[] = [];
    const one = await captured((io) => printAudit({ output: 'table' }, trail([{ spec: record(1) }], { byNode: false, headerAtStart: false }, closed), io));
    expect(one.stdout.split('\n')[0]).to.match(/^SEQ\s+TIME/);
    const two = await captured((io) => printAudit({ output: 'json' }, trail([{ spec: record(1), node: 'a' }, { spec: record(1), node: 'b' }], { byNode: true, headerAtStart: true }, closed), io));
    expect(two.stdout.split('\n').slice(0, 2).map((l) => (JSON.parse(l) as { node: string }).node)).to.deep.equal(['a', 'b']);
    const table = await captured((io) => printAudit({ output: 'table' }, trail([{ spec: record(1), node: 'a' }], { byNode: true, headerAtStart: true }, closed), io));
    expect(table.stdout.split('\n')[0]).to.match(/^NODE\s+SEQ\s+TIME/);
    expect(closed).to.have.length(3);
  });

  it('-f: a source with the header at start prints it with no record; one without prints it only with the first record', async () => {
    const closed: string[] = [];
    expect(await follow(trail([], { byNode: true, headerAtStart: true }, closed))).to.match(/^NODE\s+SEQ\s+TIME.*\n$/);
    expect(await follow(trail([], { byNode: false, headerAtStart: false }, closed))).to.equal('');
    const lazy = await follow(trail([{ spec: record(7) }], { byNode: false, headerAtStart: false }, closed));
    expect(lazy.split('\n')[0]).to.match(/^SEQ\s+TIME/);
    expect(lazy.split('\n')[1]).to.equal('7  2026-01-01T00:00:00.000Z  local  -  certificate-issued  ');
    expect(closed).to.have.length(3);
  });

  it('-f --since: records older than the window are not printed (nor is a lazy header for them)', async () => {
    const io = bufferIo(TEST_PLACE);
    const running = printAudit({ output: 'table', follow: true, since: 60_000 }, trail([{ spec: record(1, '2000-01-01T00:00:00.000Z') }], { byNode: false, headerAtStart: false }, []), io);
    await new Promise((resolve) => setImmediate(resolve));
    io.stop();
    await running;
    expect(io.written.stdout).to.equal('');
  });

  it('verify reports each trail where it is, an intact one on stdout and a broken one on stderr with exit 1', async () => {
    const out = await captured((io) => verifyAudit(trail([{ spec: record(1), node: 'a' }, { spec: record(2), node: 'b' }], { byNode: true, headerAtStart: true }, []), io));
    expect(out.stdout).to.match(/^a: audit trail intact/);
    expect(out.stderr).to.equal('b: audit trail broken at record 2 (edited): hash differs\n');
    expect(out.exitCode).to.equal(1);
  });
});
