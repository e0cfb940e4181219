import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  advance,
  compileJourney,
  initialState,
  pendingCommands,
  splitArm,
  type Command,
  type CompiledJourney,
  type JourneyInput,
  type JourneyState,
  type NodeOf,
  type TraceEntry,
} from '../../workflows/index.ts';
import { build, entry, exit, send } from '../support/build.ts';
import { followUpJourney } from '../support/journeys.ts';

const T0 = Date.UTC(2026, 11, 3, 9, 0, 0);
const accepted = { status: 'accepted' } as const;

/** Feeds inputs one by one; returns the last step with the whole trace. */
function run(journey: CompiledJourney, inputs: JourneyInput[], seed = 'p_seed') {
  let state: JourneyState = initialState(seed);
  let commands: Command[] = [];
  const trace: TraceEntry[] = [];
  for (const input of inputs) {
    const step = advance(journey, state, input);
    state = step.state;
    commands = step.commands;
    trace.push(...step.trace);
  }
  return { state, commands, trace, decisions: trace.map((t) => `${t.nodeId}: ${t.decision}`) };
}

let eventCount = 0;
const eventId = () => `evt-${++eventCount}`;

const welcome = compileJourney(followUpJourney({ event: 'patient.registered', timeout: 'PT10S' }));
const start = { type: 'start', at: T0 } as const;
const sent = (nodeId: string, at = T0, visit = 1, result: any = accepted): JourneyInput => ({ type: 'sent', nodeId, visit, result, at });

describe('journey interpreter: sends and engagement waits', () => {
  it('starts at the entry and asks to send the first email', () => {
    const step = run(welcome, [start]);
    assert.deepEqual(step.commands, [{ type: 'send_email', nodeId: 'welcome', visit: 1, template: 'welcome' }]);
    assert.deepEqual(step.state.path, ['start', 'welcome']);
  });

  it('after the send, waits for that message to be opened until the timeout', () => {
    const step = run(welcome, [start, sent('welcome', T0 + 500)]);
    assert.deepEqual(step.commands, [{ type: 'wait', nodeId: 'opened', until: T0 + 500 + 10_000 }]);
  });

  it('an open of the watched message takes "matched"; a click implies the open', () => {
    for (const event of ['opened', 'clicked'] as const) {
      const step = run(welcome, [start, sent('welcome'), { type: 'engagement', nodeId: 'welcome', visit: 1, event, at: T0 + 2_000 }]);
      assert.deepEqual(step.commands, [{ type: 'send_email', nodeId: 'thanks', visit: 1, template: 'portal_tour' }]);
    }
  });

  it('engagement with another message, or another visit of it, does not count', () => {
    const step = run(welcome, [
      start,
      sent('welcome'),
      { type: 'engagement', nodeId: 'reminder', visit: 1, event: 'opened', at: T0 + 1_000 },
      { type: 'engagement', nodeId: 'welcome', visit: 2, event: 'opened', at: T0 + 1_000 },
    ]);
    assert.equal(step.state.cursor, 'opened');
    assert.equal(step.commands[0]?.type, 'wait');
  });

  it('a tick before the deadline changes nothing; at the deadline the timeout branch runs', () => {
    const early = run(welcome, [start, sent('welcome'), { type: 'tick', at: T0 + 9_999 }]);
    assert.equal(early.state.cursor, 'opened');
    const late = advance(welcome, early.state, { type: 'tick', at: T0 + 10_000 });
    assert.deepEqual(late.commands, [{ type: 'send_email', nodeId: 'reminder', visit: 1, template: 'reminder' }]);
    assert.match(late.trace.map((t) => t.decision).join('|'), /timed out/);
  });

  it('an open that arrives while the email is still being handed over is not lost', () => {
    const step = run(welcome, [start, { type: 'engagement', nodeId: 'welcome', visit: 1, event: 'opened', at: T0 + 10 }, sent('welcome', T0 + 20)]);
    assert.equal(step.commands[0]?.type === 'send_email' && step.commands[0].nodeId, 'thanks');
  });

  it('completes after the last send and stays completed', () => {
    const step = run(welcome, [start, sent('welcome'), { type: 'tick', at: T0 + 10_000 }, sent('reminder', T0 + 10_100)]);
    assert.deepEqual(step.commands, [{ type: 'complete', outcome: 'completed' }]);
    const after = advance(welcome, step.state, { type: 'engagement', nodeId: 'welcome', visit: 1, event: 'opened', at: T0 + 20_000 });
    assert.deepEqual(after.commands, [{ type: 'complete', outcome: 'completed' }]);
  });

  it('ignores a result for an effect it is not waiting for, and a repeated start', () => {
    const sending = run(welcome, [start]);
    assert.deepEqual(advance(welcome, sending.state, sent('reminder')).state, sending.state);
    assert.deepEqual(advance(welcome, sending.state, { ...start, at: T0 + 5 }).state, sending.state);
  });

  it('a failed send still moves on, and the failure is in the trace', () => {
    const step = run(welcome, [start, sent('welcome', T0, 1, { status: 'failed' })]);
    assert.equal(step.state.cursor, 'opened');
    assert.ok(step.decisions.includes('welcome: message failed'));
  });

  it('a deferred send waits and then asks for the same send again (same visit, so the same idempotency key)', () => {
    const deferred = run(welcome, [start, sent('welcome', T0, 1, { status: 'deferred', until: T0 + 3_600_000, reason: 'outside the send window' })]);
    assert.deepEqual(deferred.commands, [{ type: 'wait', nodeId: 'welcome', until: T0 + 3_600_000 }]);
    assert.ok(deferred.decisions.some((d) => /deferred until .* \(outside the send window\)/.test(d)));
    const retried = advance(welcome, deferred.state, { type: 'tick', at: T0 + 3_600_000 });
    assert.deepEqual(retried.commands, [{ type: 'send_email', nodeId: 'welcome', visit: 1, template: 'welcome' }]);
  });

  it('AUTH-07 a consent change asks for a deferred send again at once, marked for reconsideration; a send not waiting is left alone', () => {
    const deferred = run(welcome, [start, sent('welcome', T0, 1, { status: 'deferred', until: T0 + 3_600_000, reason: 'outside the send window' })]);
    const changed = advance(welcome, deferred.state, { type: 'consent_changed', at: T0 + 60_000 });
    assert.deepEqual(changed.commands, [{ type: 'send_email', nodeId: 'welcome', visit: 1, template: 'welcome', reconsider: true }]);
    assert.deepEqual(pendingCommands(welcome, changed.state), changed.commands, 'kept across continue-as-new');
    // Still not allowed now: deferred again, and a later tick asks for the ordinary send.
    const again = advance(welcome, changed.state, sent('welcome', T0 + 60_000, 1, { status: 'deferred', until: T0 + 3_600_000, reason: 'outside the send window' }));
    assert.deepEqual(again.commands, [{ type: 'wait', nodeId: 'welcome', until: T0 + 3_600_000 }]);
    const due = advance(welcome, again.state, { type: 'tick', at: T0 + 3_600_000 });
    assert.deepEqual(due.commands, [{ type: 'send_email', nodeId: 'welcome', visit: 1, template: 'welcome' }], 'an ordinary send when the window opens');
    const denied = advance(welcome, changed.state, sent('welcome', T0 + 60_000, 1, { status: 'denied', reason: 'AUTHORIZATION_REVOKED' }));
    assert.equal(denied.state.cursor, 'opened');
    assert.equal(denied.state.sent.welcome, undefined);
    const waiting = run(welcome, [start, sent('welcome', T0, 1, accepted)]);
    assert.deepEqual(advance(welcome, waiting.state, { type: 'consent_changed', at: T0 + 1 }).commands, waiting.commands);
  });

  it('a skipped send (frequency cap) moves on without recording a message', () => {
    const step = run(welcome, [start, sent('welcome', T0, 1, { status: 'skipped', reason: 'frequency cap' })]);
    assert.equal(step.state.cursor, 'opened');
    assert.equal(step.state.sent.welcome, undefined);
    assert.ok(step.decisions.includes('welcome: send skipped (frequency cap)'));
  });

  it('is pure: the input state is never modified, and the same inputs give the same output', () => {
    const s = run(welcome, [start]).state;
    const frozen = structuredClone(s);
    const a = advance(welcome, s, sent('welcome'));
    const b = advance(welcome, s, sent('welcome'));
    assert.deepEqual(s, frozen);
    assert.deepEqual(a, b);
  });

  it('pendingCommands recovers what a carried state waits for (continue-as-new)', () => {
    const waiting = run(welcome, [start, sent('welcome')]);
    assert.deepEqual(pendingCommands(welcome, JSON.parse(JSON.stringify(waiting.state))), waiting.commands);
  });

  it('bounds the engagement memory and the path', () => {
    let state = run(welcome, [start]).state;
    for (let i = 0; i < 500; i++) state = advance(welcome, state, { type: 'engagement', nodeId: 'welcome', visit: i + 10, event: 'delivered', at: T0 }).state;
    assert.ok(state.engagements.length <= 200);
  });
});

describe('journey interpreter: every node type', () => {
  it('delay waits the duration, then goes on', () => {
    const j = compileJourney(build({ nodes: [entry(), { id: 'd', type: 'delay', duration: 'PT1H' }, exit()], edges: [['start', 'd'], ['d', 'done']] }));
    const waiting = run(j, [start]);
    assert.deepEqual(waiting.commands, [{ type: 'wait', nodeId: 'd', until: T0 + 3_600_000 }]);
    assert.deepEqual(advance(j, waiting.state, { type: 'tick', at: T0 + 3_600_000 }).commands, [{ type: 'complete', outcome: 'completed' }]);
  });

  const waitUntil = (late: string) =>
    compileJourney(
      build({
        data: { trigger: { appointment: { start: 'timestamp' } } },
        nodes: [entry(), { id: 'w', type: 'wait_until', at: 'trigger.appointment.start - duration("48h")', late }, send('remind'), exit(), ...(late === 'branch' ? [exit('tooLate')] : [])],
        edges: [['start', 'w'], ['w', 'remind'], ['remind', 'done'], ...(late === 'branch' ? ([['w', 'tooLate', 'late']] as [string, string, string][]) : [])],
      }),
    );

  it('wait_until asks for the time, then waits until it', () => {
    const j = waitUntil('proceed');
    assert.deepEqual(run(j, [start]).commands, [{ type: 'evaluate', nodeId: 'w', visit: 1 }]);
    const step = run(j, [start, { type: 'evaluated', nodeId: 'w', visit: 1, result: { ok: true, value: T0 + 86_400_000 }, at: T0 }]);
    assert.deepEqual(step.commands, [{ type: 'wait', nodeId: 'w', until: T0 + 86_400_000 }]);
  });

  it('wait_until follows its late rule when the time has passed or cannot be computed', () => {
    const past = { type: 'evaluated', nodeId: 'w', visit: 1, result: { ok: true, value: T0 - 1 }, at: T0 } as const;
    assert.equal(run(waitUntil('proceed'), [start, past]).commands[0]?.type, 'send_email');
    assert.deepEqual(run(waitUntil('exit'), [start, past]).commands, [{ type: 'complete', outcome: 'exited' }]);
    assert.deepEqual(run(waitUntil('branch'), [start, past]).commands, [{ type: 'complete', outcome: 'completed' }]);
    assert.equal(run(waitUntil('branch'), [start, past]).state.cursor, 'tooLate');
    const missing = { type: 'evaluated', nodeId: 'w', visit: 1, result: { ok: false, error: 'No such key: start' }, at: T0 } as const;
    const step = run(waitUntil('exit'), [start, missing]);
    assert.equal(step.state.outcome, 'exited');
    assert.ok(step.decisions.some((d) => d.includes('No such key')));
  });

  const eventWait = compileJourney(
    build({
      nodes: [entry(), { id: 'w', type: 'wait_for_event', event: 'lab.resulted', timeout: 'P2D' }, send('yes'), send('no'), exit()],
      edges: [['start', 'w'], ['w', 'yes', 'matched'], ['w', 'no', 'timeout'], ['yes', 'done'], ['no', 'done']],
    }),
  );
  const event = (waits: string[], extra = {}): JourneyInput => ({ type: 'patient_event', eventId: eventId(), name: 'lab.resulted', exit: false, goal: false, waits, at: T0 + 1_000, ...extra });

  it('wait_for_event takes "matched" for a matching event and "timeout" otherwise', () => {
    assert.equal((run(eventWait, [start, event(['w'])]).commands[0] as { nodeId: string }).nodeId, 'yes');
    assert.equal(run(eventWait, [start, event([])]).state.cursor, 'w', 'an event that does not match this wait is ignored');
    assert.equal((run(eventWait, [start, { type: 'tick', at: T0 + 2 * 86_400_000 }]).commands[0] as { nodeId: string }).nodeId, 'no');
  });

  const conditional = compileJourney(
    build({
      data: { patient: { plan: 'string' } },
      nodes: [entry(), { id: 'c', type: 'condition', when: 'patient.plan == "gold"' }, send('gold'), send('other'), exit()],
      edges: [['start', 'c'], ['c', 'gold', 'true'], ['c', 'other', 'false'], ['gold', 'done'], ['other', 'done']],
    }),
  );

  it('condition asks for an evaluation and branches on it; an error takes "false"', () => {
    assert.deepEqual(run(conditional, [start]).commands, [{ type: 'evaluate', nodeId: 'c', visit: 1 }]);
    const ev = (result: any) => ({ type: 'evaluated', nodeId: 'c', visit: 1, result, at: T0 }) as const;
    assert.equal((run(conditional, [start, ev({ ok: true, value: true })]).commands[0] as { nodeId: string }).nodeId, 'gold');
    assert.equal((run(conditional, [start, ev({ ok: true, value: false })]).commands[0] as { nodeId: string }).nodeId, 'other');
    const failed = run(conditional, [start, ev({ ok: false, error: 'No such key: plan' })]);
    assert.equal((failed.commands[0] as { nodeId: string }).nodeId, 'other');
    assert.ok(failed.decisions.some((d) => d.includes('could not be evaluated')));
  });

  it('engagement_branch checks engagement already recorded, without waiting', () => {
    const j = compileJourney(
      build({
        nodes: [entry(), send('s1'), { id: 'd', type: 'delay', duration: 'PT1H' }, { id: 'b', type: 'engagement_branch', message: 's1', event: 'clicked' }, send('yes'), send('no'), exit()],
        edges: [['start', 's1'], ['s1', 'd'], ['d', 'b'], ['b', 'yes', 'true'], ['b', 'no', 'false'], ['yes', 'done'], ['no', 'done']],
      }),
    );
    const base = [start, sent('s1')];
    const tick = { type: 'tick', at: T0 + 3_600_000 } as const;
    const clicked = run(j, [...base, { type: 'engagement', nodeId: 's1', visit: 1, event: 'clicked', at: T0 + 5 }, tick]);
    assert.equal((clicked.commands[0] as { nodeId: string }).nodeId, 'yes');
    assert.equal((run(j, [...base, tick]).commands[0] as { nodeId: string }).nodeId, 'no');
  });

  const split = build({
    nodes: [entry(), { id: 'ab', type: 'split', arms: [{ name: 'a', weight: 70 }, { name: 'b', weight: 20 }, { name: 'c', weight: 10 }] }, send('sa'), send('sb'), send('sc'), exit()],
    edges: [['start', 'ab'], ['ab', 'sa', 'a'], ['ab', 'sb', 'b'], ['ab', 'sc', 'c'], ['sa', 'done'], ['sb', 'done'], ['sc', 'done']],
  });

  it('split: 1,000 patients land within tolerance of the weights, and a patient always lands in the same arm', () => {
    const node = split.nodes.find((n) => n.id === 'ab') as NodeOf<'split'>;
    const counts: Record<string, number> = { a: 0, b: 0, c: 0 };
    for (let i = 0; i < 1_000; i++) counts[splitArm(node, `p_patient_${i}`)]!++;
    // Binomial standard deviation at n=1000 is ≤ 16; allow about 3.5 of them.
    assert.ok(Math.abs(counts.a! - 700) < 55, `a: ${counts.a}`);
    assert.ok(Math.abs(counts.b! - 200) < 45, `b: ${counts.b}`);
    assert.ok(Math.abs(counts.c! - 100) < 35, `c: ${counts.c}`);
    const j = compileJourney(split);
    for (let i = 0; i < 50; i++) {
      const seed = `p_patient_${i}`;
      const first = run(j, [start], seed).commands[0];
      assert.deepEqual(run(j, [start], seed).commands[0], first);
      assert.equal((first as { nodeId: string }).nodeId, `s${splitArm(node, seed)}`);
    }
  });

  it('update_patient and webhook are effects whose completion moves the journey on', () => {
    const j = compileJourney(
      build({
        data: { patient: { stage: 'string' } },
        nodes: [entry(), { id: 'u', type: 'update_patient', set: { stage: '"contacted"' }, addTags: ['contacted'] }, { id: 'h', type: 'webhook', url: 'https://crm.example.org/hook' }, exit()],
        edges: [['start', 'u'], ['u', 'h'], ['h', 'done']],
      }),
    );
    const s1 = run(j, [start]);
    assert.deepEqual(s1.commands, [{ type: 'update_patient', nodeId: 'u', visit: 1 }]);
    const s2 = advance(j, s1.state, { type: 'done', nodeId: 'u', visit: 1, ok: true, at: T0 });
    assert.deepEqual(s2.commands, [{ type: 'webhook', nodeId: 'h', visit: 1 }]);
    const s3 = advance(j, s2.state, { type: 'done', nodeId: 'h', visit: 1, ok: false, at: T0 });
    assert.deepEqual(s3.commands, [{ type: 'complete', outcome: 'completed' }]);
    assert.match(s3.trace.map((t) => t.decision).join('|'), /webhook failed; continuing/);
  });
});

describe('journey interpreter: journey rules', () => {
  const ruled = (goalExit: boolean) =>
    compileJourney(
      build({
        rules: { exitOn: [{ event: 'appointment.cancelled' }], goal: { event: 'appointment.attended', exit: goalExit } },
        nodes: [entry(), send('s1'), { id: 'd', type: 'delay', duration: 'P1D' }, send('s2'), exit()],
        edges: [['start', 's1'], ['s1', 'd'], ['d', 's2'], ['s2', 'done']],
      }),
    );
  const pe = (name: string, m: { exit?: boolean; goal?: boolean }, id = eventId()): JourneyInput => ({ type: 'patient_event', eventId: id, name, exit: !!m.exit, goal: !!m.goal, waits: [], at: T0 + 60_000 });

  it('an exit-criteria event ends the journey at once, cancelling the pending wait', () => {
    const step = run(ruled(true), [start, sent('s1'), pe('appointment.cancelled', { exit: true })]);
    assert.deepEqual(step.commands, [{ type: 'complete', outcome: 'exited' }]);
    assert.equal(step.state.awaiting, null);
  });

  it('the goal records a conversion with the path, and ends the journey when goal.exit', () => {
    const step = run(ruled(true), [start, sent('s1'), pe('appointment.attended', { goal: true })]);
    assert.deepEqual(step.commands, [{ type: 'record_goal', path: ['start', 's1', 'd'] }, { type: 'complete', outcome: 'converted' }]);
  });

  it('a goal without exit is counted once and the journey goes on', () => {
    const once = run(ruled(false), [start, sent('s1'), pe('appointment.attended', { goal: true })]);
    assert.deepEqual(once.commands[0], { type: 'record_goal', path: ['start', 's1', 'd'] });
    assert.equal(once.commands[1]?.type, 'wait');
    const twice = advance(ruled(false), once.state, pe('appointment.attended', { goal: true }));
    assert.ok(!twice.commands.some((c) => c.type === 'record_goal'));
  });

  it('an event delivered twice (same id) is handled once', () => {
    const j = ruled(false);
    const once = run(j, [start, sent('s1'), pe('appointment.attended', { goal: true }, 'evt-same')]);
    const again = advance(j, once.state, pe('appointment.cancelled', { exit: true }, 'evt-same'));
    assert.deepEqual(again.state, once.state);
  });

  it('a deferral to "now" still waits a moment, so a clock difference cannot make it spin', () => {
    const step = run(welcome, [start, sent('welcome', T0, 1, { status: 'deferred', until: T0 - 5, reason: 'outside the send window' })]);
    assert.deepEqual(step.commands, [{ type: 'wait', nodeId: 'welcome', until: T0 + 1_000 }]);
  });

  it('stop ends the run as "stopped", whatever it was doing', () => {
    assert.deepEqual(run(ruled(true), [start, { type: 'stop', at: T0 }]).commands, [{ type: 'complete', outcome: 'stopped' }]);
    assert.deepEqual(run(ruled(true), [start, sent('s1'), { type: 'stop', at: T0 }]).commands, [{ type: 'complete', outcome: 'stopped' }]);
  });
});
