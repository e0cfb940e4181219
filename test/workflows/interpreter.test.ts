import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { advance, compileJourney, initialState, pendingCommands, type JourneyInput, type Step } from '../../workflows/index.ts';
import { followUpJourney } from '../support/journeys.ts';

const T0 = Date.UTC(2026, 11, 3, 9, 0, 0);
const journey = compileJourney(followUpJourney({ event: 'patient.registered', timeout: 'PT10S' }));

function run(inputs: JourneyInput[]): Step {
  let step: Step = { state: initialState(), commands: [], trace: [] };
  const trace = [];
  for (const input of inputs) {
    step = advance(journey, step.state, input);
    trace.push(...step.trace);
  }
  return { ...step, trace };
}

describe('journey interpreter (v0)', () => {
  it('starts at the entry and asks to send the first email', () => {
    const step = run([{ type: 'start', at: T0 }]);
    assert.deepEqual(step.commands, [{ type: 'send_email', nodeId: 'welcome', visit: 1, template: 'welcome' }]);
    assert.equal(step.state.phase, 'sending');
    assert.deepEqual(step.trace.map((t) => t.nodeId), ['start', 'welcome']);
  });

  it('after the send, waits for that message to be opened until the timeout', () => {
    const step = run([
      { type: 'start', at: T0 },
      { type: 'sent', nodeId: 'welcome', visit: 1, status: 'accepted', at: T0 + 500 },
    ]);
    assert.deepEqual(step.commands, [{ type: 'wait', nodeId: 'opened', until: T0 + 500 + 10_000 }]);
    assert.equal(step.state.phase, 'waiting');
  });

  it('an open of the watched message takes the "matched" branch', () => {
    const step = run([
      { type: 'start', at: T0 },
      { type: 'sent', nodeId: 'welcome', visit: 1, status: 'accepted', at: T0 },
      { type: 'engagement', nodeId: 'welcome', visit: 1, event: 'opened', at: T0 + 2_000 },
    ]);
    assert.deepEqual(step.commands, [{ type: 'send_email', nodeId: 'thanks', visit: 1, template: 'portal_tour' }]);
  });

  it('a click implies the open', () => {
    const step = run([
      { type: 'start', at: T0 },
      { type: 'sent', nodeId: 'welcome', visit: 1, status: 'accepted', at: T0 },
      { type: 'engagement', nodeId: 'welcome', visit: 1, event: 'clicked', at: T0 + 2_000 },
    ]);
    assert.equal(step.commands[0]?.type === 'send_email' && step.commands[0].nodeId, 'thanks');
  });

  it('engagement with another message, or an earlier visit of it, does not count', () => {
    const step = run([
      { type: 'start', at: T0 },
      { type: 'sent', nodeId: 'welcome', visit: 1, status: 'accepted', at: T0 },
      { type: 'engagement', nodeId: 'reminder', visit: 1, event: 'opened', at: T0 + 1_000 },
      { type: 'engagement', nodeId: 'welcome', visit: 2, event: 'opened', at: T0 + 1_000 },
    ]);
    assert.equal(step.state.phase, 'waiting');
    assert.equal(step.state.cursor, 'opened');
  });

  it('a tick before the deadline changes nothing; at the deadline the "timeout" branch runs', () => {
    const early = run([
      { type: 'start', at: T0 },
      { type: 'sent', nodeId: 'welcome', visit: 1, status: 'accepted', at: T0 },
      { type: 'tick', at: T0 + 9_999 },
    ]);
    assert.equal(early.state.cursor, 'opened');
    const late = advance(journey, early.state, { type: 'tick', at: T0 + 10_000 });
    assert.deepEqual(late.commands, [{ type: 'send_email', nodeId: 'reminder', visit: 1, template: 'reminder' }]);
    assert.match(late.trace.map((t) => t.decision).join('|'), /timed out/);
  });

  it('completes after the last send and stays completed', () => {
    const step = run([
      { type: 'start', at: T0 },
      { type: 'sent', nodeId: 'welcome', visit: 1, status: 'accepted', at: T0 },
      { type: 'tick', at: T0 + 10_000 },
      { type: 'sent', nodeId: 'reminder', visit: 1, status: 'accepted', at: T0 + 10_100 },
    ]);
    assert.deepEqual(step.commands, [{ type: 'complete' }]);
    assert.equal(step.state.phase, 'completed');
    const after = advance(journey, step.state, { type: 'engagement', nodeId: 'welcome', visit: 1, event: 'opened', at: T0 + 20_000 });
    assert.deepEqual(after.commands, [{ type: 'complete' }]);
  });

  it('an open that arrives while the email is still being handed over is not lost', () => {
    const step = run([
      { type: 'start', at: T0 },
      { type: 'engagement', nodeId: 'welcome', visit: 1, event: 'opened', at: T0 + 10 },
      { type: 'sent', nodeId: 'welcome', visit: 1, status: 'accepted', at: T0 + 20 },
    ]);
    assert.equal(step.commands[0]?.type === 'send_email' && step.commands[0].nodeId, 'thanks');
  });

  it('ignores a "sent" result for a node or visit it is not sending, and a repeated start', () => {
    const sending = run([{ type: 'start', at: T0 }]);
    const stray = advance(journey, sending.state, { type: 'sent', nodeId: 'reminder', visit: 1, status: 'accepted', at: T0 });
    assert.deepEqual(stray.state, sending.state);
    const restart = advance(journey, sending.state, { type: 'start', at: T0 + 5 });
    assert.deepEqual(restart.state, sending.state);
    assert.deepEqual(restart.commands, sending.commands);
  });

  it('a repeated entry event does not re-enter the journey', () => {
    const waiting = run([
      { type: 'start', at: T0 },
      { type: 'sent', nodeId: 'welcome', visit: 1, status: 'accepted', at: T0 },
    ]);
    const again = advance(journey, waiting.state, { type: 'patient_event', name: 'patient.registered', at: T0 + 1 });
    assert.deepEqual(again.state, waiting.state);
  });

  it('is pure: the input state is never modified, and the same inputs give the same output', () => {
    const start = run([{ type: 'start', at: T0 }]);
    const frozen = structuredClone(start.state);
    const a = advance(journey, start.state, { type: 'sent', nodeId: 'welcome', visit: 1, status: 'accepted', at: T0 });
    const b = advance(journey, start.state, { type: 'sent', nodeId: 'welcome', visit: 1, status: 'accepted', at: T0 });
    assert.deepEqual(start.state, frozen);
    assert.deepEqual(a, b);
  });

  it('a failed send still moves on, and the failure is in the trace', () => {
    const step = run([
      { type: 'start', at: T0 },
      { type: 'sent', nodeId: 'welcome', visit: 1, status: 'failed', at: T0 },
    ]);
    assert.equal(step.state.cursor, 'opened');
    assert.ok(step.trace.some((t) => t.nodeId === 'welcome' && t.decision === 'message failed'));
  });

  it('pendingCommands recovers what a carried state waits for (continue-as-new)', () => {
    const waiting = run([
      { type: 'start', at: T0 },
      { type: 'sent', nodeId: 'welcome', visit: 1, status: 'accepted', at: T0 },
    ]);
    const carried = JSON.parse(JSON.stringify(waiting.state));
    assert.deepEqual(pendingCommands(journey, carried), waiting.commands);
  });

  it('bounds the engagement memory', () => {
    let state = run([{ type: 'start', at: T0 }]).state;
    for (let i = 0; i < 500; i++) {
      state = advance(journey, state, { type: 'engagement', nodeId: 'welcome', visit: i + 10, event: 'delivered', at: T0 }).state;
    }
    assert.ok(state.engagements.length <= 200);
  });
});
