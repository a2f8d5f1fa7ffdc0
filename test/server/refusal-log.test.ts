import { expect } from 'chai';
import { DateTime } from 'luxon';
import { ManualClock } from '../../src/runtime/manual-clock.js';
import { RefusalLog } from '../../src/server/refusal-log.js';
import { ApidHarness } from './apid-harness.js';

interface Line {
  message: string;
  fields?: Record<string, unknown>;
}

describe('refused requests are logged at a bounded rate', function () {
  it('logs a flood of refusals as at most the burst, then one "suppressed K" line before the next logged refusal', async () => {
    const clock = new ManualClock(DateTime.fromISO('2026-01-01T00:00:00Z'));
    const lines: Line[] = [];
    const log = new RefusalLog((message, fields) => lines.push({ message, fields }), clock, 'apid', { perSecond: 1, burst: 5 });
    for (let i = 0; i < 1000; i++) log.refused('apid refused a call', { n: i });
    expect(lines.map((l) => l.fields?.n)).to.deep.equal([0, 1, 2, 3, 4]);

    await clock.advance({ seconds: 1 });
    log.refused('apid refused a call', { n: 1000 });
    log.refused('apid refused a call', { n: 1001 });
    expect(lines.slice(5)).to.deep.equal([
      { message: 'apid refusals not logged', fields: { suppressed: 995 } },
      { message: 'apid refused a call', fields: { n: 1000 } },
    ]);

    await clock.advance({ seconds: 3 });
    for (let i = 0; i < 3; i++) log.refused('apid refused a call', { n: 2000 + i });
    // One suppressed (1001), then the three tokens earned in three seconds.
    expect(lines.slice(7).map((l) => l.fields)).to.deep.equal([{ suppressed: 1 }, { n: 2000 }, { n: 2001 }, { n: 2002 }]);
  });

  it('bounds apid\'s log of refused calls: 40 calls without a certificate leave at most the burst', async () => {
    const lines: Line[] = [];
    const h = await ApidHarness.start({ apid: { logger: (message, fields) => lines.push({ message, fields }), refusalLogRate: { perSecond: 1, burst: 3 } } });
    try {
      const [none] = await h.matrixCredentials();
      for (let i = 0; i < 40; i++) expect((await h.request(none, 'GET', '/v1/version')).status).to.equal(401);
      const refused = lines.filter((l) => l.message === 'apid refused a call');
      expect(refused).to.have.length(3);
      expect(refused[0].fields).to.include({ method: 'GET', path: '/v1/version', status: 401, error: "tls: client didn't provide a certificate" });
    } finally {
      await h.close();
    }
  });
});
