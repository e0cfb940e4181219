import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { durationToMs, validateJourney, type Problem } from '../../workflows/index.ts';
import { exampleJourney } from '../support/journeys.ts';

function problems(mutate: (d: any) => void): Problem[] {
  const definition: any = exampleJourney();
  mutate(definition);
  const result = validateJourney(definition);
  assert.equal(result.ok, false, 'expected the definition to be refused');
  return result.ok ? [] : result.problems;
}

function has(list: Problem[], nodeId: string | undefined, pattern: RegExp) {
  assert.ok(
    list.some((p) => p.nodeId === nodeId && pattern.test(p.message)),
    `expected a problem on ${nodeId ?? '(journey)'} matching ${pattern}; got ${JSON.stringify(list)}`,
  );
}

describe('journey validation', () => {
  it('accepts the shipped example', () => {
    const result = validateJourney(exampleJourney());
    assert.equal(result.ok, true, JSON.stringify(!result.ok && result.problems));
  });

  it('refuses a dangling edge, naming the node it leaves', () => {
    has(problems((d) => d.edges.push({ from: 'thanks', port: 'next', to: 'ghost' })), 'thanks', /unknown node "ghost"/);
    has(problems((d) => d.edges.push({ from: 'nowhere', to: 'done' })), 'nowhere', /starts at unknown node/);
  });

  it('refuses an unknown node type, naming the node', () => {
    has(problems((d) => d.nodes.push({ id: 'sms1', type: 'send_sms' })), 'sms1', /unknown node type "send_sms"/);
  });

  it('refuses a send whose template is missing', () => {
    has(problems((d) => delete d.templates.reminder), 'reminder', /template "reminder" is not defined/);
  });

  it('refuses a wait without a timeout, or with a zero or malformed one', () => {
    has(problems((d) => delete d.nodes[2].timeout), 'opened', /timeout: is required/);
    has(problems((d) => (d.nodes[2].timeout = 'PT0S')), 'opened', /longer than zero/);
    has(problems((d) => (d.nodes[2].timeout = '3 days')), 'opened', /ISO 8601/);
    has(problems((d) => (d.nodes[2].timeout = 'P1M')), 'opened', /ISO 8601/);
  });

  it('reports every problem at once', () => {
    const list = problems((d) => {
      delete d.templates.reminder;
      d.nodes[2].timeout = 'PT0S';
      d.nodes.push({ id: 'x', type: 'teleport' });
    });
    has(list, 'reminder', /template/);
    has(list, 'opened', /longer than zero/);
    has(list, 'x', /unknown node type/);
  });

  it('refuses unconnected outputs, doubly connected outputs and unreachable nodes', () => {
    has(problems((d) => (d.edges = d.edges.filter((e: any) => e.port !== 'timeout'))), 'opened', /output "timeout" is not connected/);
    has(problems((d) => d.edges.push({ from: 'welcome', to: 'done' })), 'welcome', /connected more than once/);
    has(problems((d) => d.nodes.push({ id: 'orphan', type: 'exit' })), 'orphan', /cannot be reached/);
  });

  it('refuses ports a node does not have, and edges into the entry', () => {
    has(problems((d) => d.edges.push({ from: 'welcome', port: 'matched', to: 'done' })), 'welcome', /no output "matched"/);
    has(problems((d) => d.edges.push({ from: 'done', to: 'welcome' })), 'done', /has no outputs/);
    has(problems((d) => (d.edges.find((e: any) => e.from === 'thanks').to = 'start')), 'thanks', /into the entry/);
  });

  it('refuses a missing or second entry, and duplicate ids', () => {
    const noEntry = problems((d) => {
      d.nodes = d.nodes.filter((n: any) => n.type !== 'entry');
      d.edges = d.edges.filter((e: any) => e.from !== 'start');
    });
    has(noEntry, undefined, /exactly one entry node/);
    has(problems((d) => d.nodes.push({ id: 'start2', type: 'entry', event: 'x' })), 'start2', /second one/);
    has(problems((d) => d.nodes.push({ id: 'welcome', type: 'exit' })), 'welcome', /duplicate node id/);
  });

  it('refuses a wait on something that is not a send, or not sent before it', () => {
    has(problems((d) => (d.nodes[2].message = 'done')), 'opened', /not a send_email node/);
    has(
      problems((d) => {
        d.nodes[2].message = 'reminder';
      }),
      'opened',
      /never sent before this wait/,
    );
  });

  it('refuses a loop that never waits', () => {
    has(
      problems((d) => {
        d.edges = d.edges.filter((e: any) => !(e.from === 'thanks'));
        d.edges.push({ from: 'thanks', to: 'reminder' });
        d.edges = d.edges.filter((e: any) => !(e.from === 'reminder'));
        d.edges.push({ from: 'reminder', to: 'thanks' });
        d.nodes = d.nodes.filter((n: any) => n.id !== 'done');
      }),
      'thanks',
      /loop thanks → reminder → thanks does not pass through a wait/,
    );
  });

  it('refuses unknown fields and more than 500 nodes', () => {
    has(problems((d) => (d.nodes[1].subject = 'hi')), 'welcome', /unknown field\(s\) subject/);
    const big = problems((d) => {
      for (let i = 0; i < 500; i++) d.nodes.push({ id: `n${i}`, type: 'exit' });
    });
    assert.ok(big.some((p) => /at most 500 nodes/.test(p.message)));
  });

  it('refuses a wrong format version without guessing', () => {
    const result = validateJourney({ ...exampleJourney(), format: 'haven.journey/v9' });
    assert.equal(result.ok, false);
    assert.match(JSON.stringify(!result.ok && result.problems), /haven\.journey\/v0/);
  });

  it('parses ISO 8601 durations in fixed units only', () => {
    assert.equal(durationToMs('PT4S'), 4_000);
    assert.equal(durationToMs('PT1.5S'), 1_500);
    assert.equal(durationToMs('P3DT12H'), 3.5 * 86_400_000);
    assert.equal(durationToMs('P2W'), 14 * 86_400_000);
    for (const bad of ['P', 'PT', 'P1M', 'P1Y', '4s', 'PT-1S', '']) assert.equal(durationToMs(bad), null, bad);
  });
});
