import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { durationToMs, validateJourney, type Problem } from '../../workflows/index.ts';
import { exampleJourney } from '../support/journeys.ts';
import { draft, entry, exit, send } from '../support/build.ts';

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
    has(problems((d) => (d.nodes[2].timeout = 'P99999999W')), 'opened', /at most 520 weeks/);
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
    has(problems((d) => (d.nodes[2].message = 'done')), 'opened', /"done", which is not a send_email node/);
    has(
      problems((d) => {
        d.nodes[2].message = 'reminder';
      }),
      'opened',
      /never sent before this node/,
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
      /loop thanks → reminder → thanks does not pass through a delay, a wait for an event or an engagement timeout/,
    );
  });

  it('refuses a loop through an engagement wait\'s "matched" output, which can be taken at once', () => {
    // Once "welcome" is opened, this loop would send "thanks" again and again without pause.
    has(
      problems((d) => {
        d.edges = d.edges.filter((e: any) => e.from !== 'thanks');
        d.edges.push({ from: 'thanks', to: 'opened' });
      }),
      'opened',
      /loop opened → thanks → opened/,
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
    assert.match(JSON.stringify(!result.ok && result.problems), /haven\.journey\/v1/);
  });

  it('parses ISO 8601 durations in fixed units only', () => {
    assert.equal(durationToMs('PT4S'), 4_000);
    assert.equal(durationToMs('PT1.5S'), 1_500);
    assert.equal(durationToMs('P3DT12H'), 3.5 * 86_400_000);
    assert.equal(durationToMs('P2W'), 14 * 86_400_000);
    for (const bad of ['P', 'PT', 'P1M', 'P1Y', '4s', 'PT-1S', '']) assert.equal(durationToMs(bad), null, bad);
  });

  it('INV-3 refuses a send without a purpose, or with a purpose that is not exactly one of the closed set', () => {
    has(problems((d) => delete d.nodes[1].purpose), 'welcome', /purpose: is required/);
    has(problems((d) => (d.nodes[1].purpose = 'treatment ')), 'welcome', /purpose: Invalid option/);
    has(problems((d) => (d.nodes[1].purpose = 'TREATMENT ')), 'welcome', /purpose: Invalid option/);
  });
});

function refused(parts: Parameters<typeof draft>[0]): Problem[] {
  const result = validateJourney(draft(parts));
  assert.equal(result.ok, false, 'expected the definition to be refused');
  return result.ok ? [] : result.problems;
}

describe('journey validation: expressions, rules and the newer nodes', () => {
  const condition = (when: string, data: Record<string, unknown> = { patient: { plan: 'string' } }) =>
    refused({
      data,
      nodes: [entry(), { id: 'c', type: 'condition', when }, exit('a'), exit('b')],
      edges: [['start', 'c'], ['c', 'a', 'true'], ['c', 'b', 'false']],
    });

  it('refuses unknown fields and type errors in expressions, naming the node', () => {
    has(condition('patient.plann == "gold"'), 'c', /when: No such key: plann/);
    has(condition('patient.plan == 3'), 'c', /when: no such overload/);
    has(condition('patient.plan'), 'c', /when: must be a bool, but is a string/);
    has(condition('patient.plan == "gold" &&'), 'c', /when: Unexpected/);
    has(condition('trigger.appointment.start < now', {}), 'c', /No such key: appointment/);
  });

  it('accepts typed expressions over declared data, built-in patient fields, visits and time', () => {
    const ok = validateJourney(
      draft({
        data: { patient: { plan: 'string', age: 'int' }, trigger: { appointment: { start: 'timestamp' } } },
        nodes: [entry(), { id: 'c', type: 'condition', when: '(patient.plan == "gold" || patient.age >= 65) && "vip" in patient.tags && trigger.appointment.start > now && !("c" in visits)' }, exit('a'), exit('b')],
        edges: [['start', 'c'], ['c', 'a', 'true'], ['c', 'b', 'false']],
      }),
    );
    assert.equal(ok.ok, true, JSON.stringify(!ok.ok && ok.problems));
  });

  it('refuses a wait_until whose time is not a timestamp', () => {
    const list = refused({
      data: { trigger: { appointment: { start: 'string' } } },
      nodes: [entry(), { id: 'w', type: 'wait_until', at: 'trigger.appointment.start' }, exit()],
      edges: [['start', 'w'], ['w', 'done']],
    });
    has(list, 'w', /at: must be a timestamp, but is a string/);
  });

  it('refuses bad split weights and duplicate arms', () => {
    const split = (arms: unknown[]) =>
      refused({ nodes: [entry(), { id: 's', type: 'split', arms }, exit('a'), exit('b')], edges: [['start', 's'], ['s', 'a', 'a'], ['s', 'b', 'b']] });
    has(split([{ name: 'a', weight: 0 }, { name: 'b', weight: 1 }]), 's', /weights must be positive/);
    has(split([{ name: 'a', weight: -5 }, { name: 'b', weight: 1 }]), 's', /weights must be positive/);
    has(split([{ name: 'a', weight: 1 }]), 's', /at least two arms/);
    has(split([{ name: 'a', weight: 1 }, { name: 'a', weight: 1 }, { name: 'b', weight: 1 }]), 's', /arm "a" appears twice/);
  });

  it('refuses non-positive durations everywhere', () => {
    has(refused({ nodes: [entry(), { id: 'd', type: 'delay', duration: 'PT0S' }, exit()], edges: [['start', 'd'], ['d', 'done']] }), 'd', /longer than zero/);
    const rules = refused({ rules: { frequencyCap: { max: 3, per: 'P0D' } }, nodes: [entry(), exit()], edges: [['start', 'done']] });
    assert.ok(rules.some((p) => p.path === 'rules.frequencyCap.per' && /longer than zero/.test(p.message)), JSON.stringify(rules));
  });

  it('refuses sameKey without an entry key, and a key that is not declared', () => {
    const noKey = refused({ rules: { exitOn: [{ event: 'appointment.cancelled', sameKey: true }] }, nodes: [entry(), exit()], edges: [['start', 'done']] });
    assert.ok(noKey.some((p) => p.path === 'rules.exitOn[0].sameKey'), JSON.stringify(noKey));
    has(refused({ nodes: [entry('x.booked', { key: 'appointment.id' }), exit()], edges: [['start', 'done']] }), 'start', /key "appointment.id" must be a string or int field declared/);
  });

  it('refuses updates of undeclared attributes or of the wrong type', () => {
    const update = (set: Record<string, string>) =>
      refused({ data: { patient: { stage: 'string' } }, nodes: [entry(), { id: 'u', type: 'update_patient', set }, exit()], edges: [['start', 'u'], ['u', 'done']] });
    has(update({ score: '1' }), 'u', /"score" must be declared/);
    has(update({ stage: '1' }), 'u', /must be a string, but is a int/);
  });

  it('refuses a webhook that is not https, and an unknown schedule time zone', () => {
    has(refused({ nodes: [entry(), { id: 'h', type: 'webhook', url: 'http://crm.example.org/hook' }, exit()], edges: [['start', 'h'], ['h', 'done']] }), 'h', /https/);
    const audience = { id: 'start', type: 'audience_entry', audience: 'aud1', schedule: { cron: '0 9 1 * *', timezone: 'Mars/Olympus' } };
    has(refused({ nodes: [audience, send('s'), exit()], edges: [['start', 's'], ['s', 'done']] }), 'start', /unknown time zone/);
  });
});
