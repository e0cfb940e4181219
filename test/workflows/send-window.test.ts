import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { frequencyCapReleases, localTime, nextWindowOpening, zonedTimeToUtc } from '../../workflows/index.ts';

const at = (iso: string) => Date.parse(iso);
const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
const day = { start: '08:00', end: '20:00' };

describe('send windows in the patient\'s time zone', () => {
  it('inside the window: send now', () => {
    assert.equal(nextWindowOpening(day, 'America/New_York', at('2026-12-03T15:00:00Z')), null); // 10:00 NY
  });

  it('before and after the window: the next opening, in two time zones', () => {
    assert.equal(iso(nextWindowOpening(day, 'America/New_York', at('2026-12-03T11:00:00Z'))), '2026-12-03T13:00:00.000Z'); // 06:00 → 08:00 NY
    assert.equal(iso(nextWindowOpening(day, 'America/New_York', at('2026-12-04T02:00:00Z'))), '2026-12-04T13:00:00.000Z'); // 21:00 → 08:00 next day
    assert.equal(iso(nextWindowOpening(day, 'Asia/Tokyo', at('2026-12-03T12:00:00Z'))), '2026-12-03T23:00:00.000Z'); // 21:00 Tokyo
    assert.equal(nextWindowOpening(day, 'Asia/Tokyo', at('2026-12-03T00:00:00Z')), null); // 09:00 Tokyo
  });

  it('weekdays only: Friday evening waits for Monday morning', () => {
    const weekdays = { ...day, days: ['mon', 'tue', 'wed', 'thu', 'fri'] as ('mon' | 'tue' | 'wed' | 'thu' | 'fri')[] };
    assert.equal(iso(nextWindowOpening(weekdays, 'Europe/Berlin', at('2026-12-04T20:00:00Z'))), '2026-12-07T07:00:00.000Z');
  });

  it('an overnight window counts the early morning to the previous day', () => {
    const night = { start: '22:00', end: '06:00', days: ['mon'] as 'mon'[] };
    // Monday 2026-12-07 23:00 UTC and Tuesday 03:00 UTC are both Monday's window.
    assert.equal(nextWindowOpening(night, 'UTC', at('2026-12-07T23:00:00Z')), null);
    assert.equal(nextWindowOpening(night, 'UTC', at('2026-12-08T03:00:00Z')), null);
    assert.equal(iso(nextWindowOpening(night, 'UTC', at('2026-12-08T07:00:00Z'))), '2026-12-14T22:00:00.000Z');
  });

  it('across a DST change the opening is still 08:00 on the wall clock', () => {
    // US clocks spring forward on 2027-03-14 and fall back on 2026-11-01.
    assert.equal(iso(nextWindowOpening(day, 'America/New_York', at('2027-03-14T03:00:00Z'))), '2027-03-14T12:00:00.000Z'); // 08:00 EDT
    assert.equal(iso(nextWindowOpening(day, 'America/New_York', at('2027-03-13T03:00:00Z'))), '2027-03-13T13:00:00.000Z'); // 08:00 EST
    assert.equal(iso(nextWindowOpening(day, 'America/New_York', at('2026-11-01T05:30:00Z'))), '2026-11-01T13:00:00.000Z'); // 08:00 EST
    assert.deepEqual(localTime(zonedTimeToUtc(2027, 3, 14, 8, 0, 'America/New_York'), 'America/New_York').hour, 8);
  });

  it('a wall time skipped by DST resolves to an instant after the gap', () => {
    const t = zonedTimeToUtc(2027, 3, 14, 2, 30, 'America/New_York');
    assert.ok(localTime(t, 'America/New_York').hour >= 3);
  });
});

describe('frequency caps', () => {
  const cap = { max: 2, per: 'P7D' };
  const now = at('2026-12-10T12:00:00Z');
  it('fits under the cap', () => {
    assert.equal(frequencyCapReleases(cap, [at('2026-12-09T12:00:00Z')], now), null);
    assert.equal(frequencyCapReleases(cap, [at('2026-12-01T12:00:00Z'), at('2026-12-02T12:00:00Z')], now), null, 'older sends do not count');
  });
  it('at the cap: released when the oldest counted send leaves the window', () => {
    const sends = [at('2026-12-09T12:00:00Z'), at('2026-12-05T12:00:00Z'), at('2026-12-08T12:00:00Z')];
    assert.equal(iso(frequencyCapReleases(cap, sends, now)), '2026-12-15T12:00:00.000Z');
  });
});
