// Simulation of the shipped examples: the path, each decision and the messages that would go out.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { simulateJourney, type SimulationRequest } from '../../workflows/index.ts';
import { example } from '../support/examples.ts';

const at = (iso: string) => Date.parse(iso);

describe('simulation of the appointment reminder example', () => {
  const journey = example('appointment-reminder');
  const booking = (start: string, timezone: string): Omit<SimulationRequest, 'script'> => ({
    start: at('2026-12-07T15:00:00Z'),
    patient: { givenName: 'Ana', timezone },
    trigger: { appointment: { id: 'apt-1', start, clinic: 'North' } },
    defaultTimeZone: 'America/New_York',
  });

  it('reminds 48 h before, then follows up when the reminder is not opened', () => {
    const r = simulateJourney(journey, { ...booking('2026-12-11T14:00:00Z', 'America/Chicago'), script: [{ advance: 'P5D' }] });
    assert.deepEqual(r.path, ['booked', 'before48h', 'reminder', 'opened', 'stillAhead', 'followUp', 'done']);
    assert.deepEqual(r.messages.map((m) => [m.nodeId, m.at]), [
      ['reminder', '2026-12-09T14:00:00.000Z'],
      ['followUp', '2026-12-10T14:00:00.000Z'],
    ]);
    assert.equal(r.outcome, 'completed');
    assert.ok(r.decisions.some((d) => d.nodeId === 'stillAhead' && d.decision === 'condition is true'));
  });

  it('an opened reminder ends the journey without a follow-up', () => {
    const r = simulateJourney(journey, {
      ...booking('2026-12-11T14:00:00Z', 'America/Chicago'),
      script: [{ advance: 'P2DT1H' }, { engagement: { message: 'reminder', event: 'opened' } }, { advance: 'P3D' }],
    });
    assert.deepEqual(r.messages.map((m) => m.nodeId), ['reminder']);
    assert.equal(r.outcome, 'completed');
  });

  it('quiet hours defer the reminder to the next morning in the patient\'s own time zone', () => {
    // 48 h before a Friday 12:00 UTC appointment is Wednesday 12:00 UTC: 06:00 in Chicago, 21:00 in Tokyo.
    const chicago = simulateJourney(journey, { ...booking('2026-12-11T12:00:00Z', 'America/Chicago'), script: [{ advance: 'P3D' }] });
    assert.equal(chicago.messages[0]?.at, '2026-12-09T14:00:00.000Z'); // 08:00 in Chicago
    const tokyo = simulateJourney(journey, { ...booking('2026-12-11T12:00:00Z', 'Asia/Tokyo'), script: [{ advance: 'P3D' }] });
    assert.equal(tokyo.messages[0]?.at, '2026-12-09T23:00:00.000Z'); // 08:00 the next day in Tokyo
    assert.ok(tokyo.decisions.some((d) => d.nodeId === 'reminder' && /deferred until 2026-12-09T23:00:00.000Z \(outside the send window\)/.test(d.decision)));
  });

  it('cancelling that appointment ends the journey; cancelling another one does not', () => {
    const base = booking('2026-12-11T14:00:00Z', 'America/Chicago');
    const other = simulateJourney(journey, { ...base, script: [{ advance: 'P1D' }, { event: 'appointment.cancelled', data: { appointment: { id: 'apt-2' } } }, { advance: 'P1D' }] });
    assert.equal(other.outcome, null);
    assert.equal(other.state.cursor, 'opened');
    const same = simulateJourney(journey, { ...base, script: [{ advance: 'P1D' }, { event: 'appointment.cancelled', data: { appointment: { id: 'apt-1' } } }, { advance: 'P5D' }] });
    assert.equal(same.outcome, 'exited');
    assert.deepEqual(same.messages, []);
  });

  it('a frequency cap defers the reminder until an earlier send leaves the window', () => {
    const base = booking('2026-12-11T14:00:00Z', 'America/Chicago');
    const recentSends = ['2026-12-03T15:00:00Z', '2026-12-04T15:00:00Z', '2026-12-05T15:00:00Z'].map(at);
    const r = simulateJourney(journey, { ...base, recentSends, script: [{ advance: 'P3D' }] });
    assert.equal(r.messages[0]?.at, '2026-12-10T15:00:00.000Z'); // 7 days after the Dec 3 send
    assert.ok(r.decisions.some((d) => /frequency cap/.test(d.decision)));
  });
});

describe('simulation of the refill reminder example', () => {
  const journey = example('refill-reminder');
  const filled = { fill: { id: 'f-1', filledAt: '2026-12-01T16:00:00Z', daysSupply: 30 }, prescription: { id: 'rx-9', activeUntil: '2027-06-01T00:00:00Z' } };
  const base = { start: at('2026-12-01T16:00:00Z'), patient: { givenName: 'Ben', timezone: 'America/New_York' }, trigger: filled, defaultTimeZone: 'America/New_York' };

  it('reminds five days before the supply runs out, and again a week later', () => {
    const r = simulateJourney(journey, { ...base, script: [], runToEnd: true });
    assert.deepEqual(r.messages.map((m) => [m.nodeId, m.purpose, m.at]), [
      ['remind', 'REFILL_REMINDER', '2026-12-26T16:00:00.000Z'],
      ['remindAgain', 'REFILL_REMINDER', '2027-01-02T16:00:00.000Z'],
    ]);
  });

  it('a refill of the same prescription is the goal: counted with its path, and the journey ends', () => {
    const r = simulateJourney(journey, { ...base, script: [{ advance: 'P27D' }, { event: 'prescription.filled', data: { prescription: { id: 'rx-9' } } }] });
    assert.equal(r.outcome, 'converted');
    assert.deepEqual(r.conversions.map((c) => c.path), [['filled', 'runningLow', 'remind', 'week']]);
    assert.deepEqual(r.messages.map((m) => m.nodeId), ['remind']);
  });

  it('a short supply does not enter; a fill already past its reminder time exits without sending', () => {
    const short = simulateJourney(journey, { ...base, trigger: { ...filled, fill: { ...filled.fill, daysSupply: 7 } }, script: [] });
    assert.equal(short.enrolled, false);
    assert.deepEqual(short.path, []);
    const late = simulateJourney(journey, { ...base, start: at('2026-12-28T16:00:00Z'), script: [] });
    assert.equal(late.outcome, 'exited');
    assert.deepEqual(late.messages, []);
  });
});

describe('simulation of the annual check-up campaign example', () => {
  const journey = example('annual-checkup-campaign', { AUDIENCE_ID: 'aud_demo' });
  const run = (seed: string, clicked: boolean) =>
    simulateJourney(journey, {
      start: at('2026-12-01T14:00:00Z'), // Tuesday 09:00 in New York
      seed,
      patient: { givenName: 'Cy', timezone: 'America/New_York', tags: [] },
      defaultTimeZone: 'America/New_York',
      script: clicked ? [{ advance: 'PT1H' }] : [],
      runToEnd: true,
    });

  it('sends one of the two invitations per patient, the same one every time', () => {
    const arms = new Set<string>();
    for (let i = 0; i < 20; i++) {
      const first = run(`p_${i}`, false).messages.map((m) => m.template);
      assert.deepEqual(run(`p_${i}`, false).messages.map((m) => m.template), first);
      assert.equal(first.length, 1);
      arms.add(first[0]!);
    }
    assert.deepEqual([...arms].sort(), ['invite_friendly', 'invite_plain']);
  });

  it('patients who click are tagged', () => {
    const seed = 'p_1';
    const invite = run(seed, false).messages[0]!.nodeId;
    const r = simulateJourney(journey, {
      start: at('2026-12-01T14:00:00Z'),
      seed,
      patient: { givenName: 'Cy', timezone: 'America/New_York', tags: [] },
      defaultTimeZone: 'America/New_York',
      script: [{ advance: 'PT1H' }, { engagement: { message: invite, event: 'clicked' } }],
      runToEnd: true,
    });
    assert.deepEqual(r.patient.tags, ['checkup_interested']);
    assert.equal(r.outcome, 'completed');
  });
});
