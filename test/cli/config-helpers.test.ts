import { expect } from 'chai';
import { parseDuration } from '../../src/cli/duration.js';
import { relativeTime } from '../../src/cli/relative-time.js';

const H = 3_600_000;

describe('Go-style durations for --crt-ttl', () => {
  it('reads the units and combinations talosctl accepts', () => {
    expect(parseDuration('24h')).to.equal(24 * H);
    expect(parseDuration('8760h')).to.equal(8760 * H);
    expect(parseDuration('90m')).to.equal(1.5 * H);
    expect(parseDuration('1h30m')).to.equal(1.5 * H);
    expect(parseDuration('1.5h')).to.equal(1.5 * H);
    expect(parseDuration('500ms')).to.equal(500);
    expect(parseDuration('-1h')).to.equal(-H);
    expect(parseDuration('0')).to.equal(0);
  });

  it('refuses what Go refuses: no unit, unknown units, spaces, days', () => {
    for (const bad of ['', '24', '1d', '1 h', 'h', '1h 30m', '1y', '--1h']) expect(parseDuration(bad), bad).to.equal(undefined);
  });
});

describe('relative times in config info', () => {
  const now = new Date('2025-01-01T00:00:00Z');
  const later = (hours: number) => new Date(now.getTime() + hours * H);

  it('counts months of 30 days and years of 360 like go-humanize', () => {
    expect(relativeTime(later(8000), now)).to.equal('11 months from now');
    expect(relativeTime(later(8760), now)).to.equal('1 year from now');
    expect(relativeTime(later(24), now)).to.equal('1 day from now');
    expect(relativeTime(later(5 * 24), now)).to.equal('5 days from now');
    expect(relativeTime(later(10 * 8760), now)).to.equal('10 years from now');
  });

  it('says "ago" for an expired certificate', () => {
    expect(relativeTime(later(-3), now)).to.equal('3 hours ago');
  });
});
