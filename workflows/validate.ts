// Checks a candidate journey before anything is saved or run, and reports every problem at once
// with the node it concerns, so a designer can fix them all in one pass.
import { z } from 'zod';
import { checkExpression, PATIENT_BUILTINS, typeAt, type Scope } from './expressions.ts';
import { isValidTimeZone } from './send-window.ts';
import {
  Edge,
  Identifier,
  JOURNEY_FORMAT,
  JourneyData,
  JourneyDefinition,
  MAX_NODES,
  NODE_SCHEMAS,
  nodePorts,
  Rules,
  Template,
  type DataType,
  type JourneyNode,
  type NodeType,
} from './schema.ts';

export interface Problem {
  /** The node the problem is about, when there is one. */
  nodeId?: string;
  /** JSON path into the submitted definition, e.g. `nodes[2].timeout`. */
  path: string;
  message: string;
}

export type ValidationResult = { ok: true; definition: JourneyDefinition } | { ok: false; problems: Problem[] };

const Envelope = z.object({
  format: z.literal(JOURNEY_FORMAT, { error: `must be "${JOURNEY_FORMAT}"` }),
  name: JourneyDefinition.shape.name,
  description: JourneyDefinition.shape.description,
  sponsor: JourneyDefinition.shape.sponsor,
  sender: JourneyDefinition.shape.sender,
  data: z.unknown().optional(),
  rules: z.unknown().optional(),
  nodes: z.array(z.unknown()).min(1, 'a journey needs at least an entry node'),
  edges: z.array(z.unknown()),
  templates: z.record(z.string(), z.unknown()),
});

/**
 * Outputs that are only taken after time has passed: a loop must pass through one. A delay always
 * waits; a wait_for_event needs a new event; but an engagement wait may match at once (the
 * engagement already happened), and a wait_until may be late — so only their timeouts count.
 */
function takesTime(node: JourneyNode, port: string): boolean {
  return node.type === 'delay' || node.type === 'wait_for_event' || (node.type === 'wait_for_engagement' && port === 'timeout');
}

function pathOf(base: string, issuePath: readonly PropertyKey[]): string {
  return issuePath.reduce<string>(
    (p, key) => (typeof key === 'number' ? `${p}[${key}]` : p ? `${p}.${String(key)}` : String(key)),
    base,
  );
}

function zodProblems(error: z.ZodError, base: string, nodeId?: string, input?: unknown): Problem[] {
  return error.issues.map((issue) => {
    const path = pathOf(base, issue.path);
    const field = issue.path.length ? `${issue.path.map(String).join('.')}: ` : '';
    const missing = issue.path.length > 0 && input !== undefined && valueAtPath(input, issue.path) === undefined;
    const message =
      issue.code === 'unrecognized_keys'
        ? `unknown field(s) ${issue.keys.join(', ')}`
        : missing || (issue.code === 'invalid_type' && issue.message.endsWith('received undefined'))
          ? 'is required'
          : issue.message;
    return { ...(nodeId ? { nodeId } : {}), path, message: `${field}${message}` };
  });
}

function valueAtPath(input: unknown, path: readonly PropertyKey[]): unknown {
  let current = input;
  for (const key of path) {
    if (typeof current !== 'object' || current === null) return undefined;
    current = (current as Record<PropertyKey, unknown>)[key];
  }
  return current;
}

export function validateJourney(input: unknown): ValidationResult {
  const envelope = Envelope.safeParse(input);
  if (!envelope.success) return { ok: false, problems: zodProblems(envelope.error, '') };
  const raw = envelope.data;
  const problems: Problem[] = [];

  const extra = Object.keys(input as object).filter((k) => !(k in Envelope.shape));
  if (extra.length) problems.push({ path: '', message: `unknown field(s) ${extra.join(', ')}` });
  if (raw.nodes.length > MAX_NODES) {
    // Checking the graph of an oversized journey is pointless (and costly): stop here.
    problems.push({ path: 'nodes', message: `a journey has at most ${MAX_NODES} nodes (this one has ${raw.nodes.length})` });
    return { ok: false, problems };
  }

  const data = JourneyData.safeParse(raw.data ?? {});
  if (!data.success) problems.push(...zodProblems(data.error, 'data'));
  const rules = Rules.safeParse(raw.rules ?? {});
  if (!rules.success) problems.push(...zodProblems(rules.error, 'rules'));

  // Nodes one by one, so each problem names its node.
  const nodes: JourneyNode[] = [];
  const seen = new Set<string>();
  raw.nodes.forEach((candidate, i) => {
    const base = `nodes[${i}]`;
    const obj = (candidate ?? {}) as { id?: unknown; type?: unknown };
    const nodeId = typeof obj.id === 'string' ? obj.id : undefined;
    if (typeof candidate !== 'object' || candidate === null) {
      problems.push({ path: base, message: 'a node must be an object' });
      return;
    }
    if (nodeId !== undefined && seen.has(nodeId)) {
      problems.push({ nodeId, path: `${base}.id`, message: `duplicate node id "${nodeId}"` });
      return;
    }
    if (nodeId !== undefined) seen.add(nodeId);
    if (typeof obj.type !== 'string' || !(obj.type in NODE_SCHEMAS)) {
      problems.push({
        ...(nodeId ? { nodeId } : {}),
        path: `${base}.type`,
        message: `unknown node type ${JSON.stringify(obj.type ?? null)} (expected one of ${Object.keys(NODE_SCHEMAS).join(', ')})`,
      });
      return;
    }
    const parsed = NODE_SCHEMAS[obj.type as NodeType].safeParse(candidate);
    if (parsed.success) nodes.push(parsed.data as JourneyNode);
    else problems.push(...zodProblems(parsed.error, base, nodeId, candidate));
  });

  const edges: Edge[] = [];
  raw.edges.forEach((candidate, i) => {
    const parsed = Edge.safeParse(candidate);
    if (parsed.success) edges.push(parsed.data);
    else {
      const from = (candidate as { from?: unknown } | null)?.from;
      problems.push(...zodProblems(parsed.error, `edges[${i}]`, typeof from === 'string' ? from : undefined));
    }
  });

  const templates: Record<string, Template> = {};
  for (const [name, candidate] of Object.entries(raw.templates)) {
    const id = Identifier.safeParse(name);
    const parsed = Template.safeParse(candidate);
    if (!id.success) problems.push({ path: `templates.${name}`, message: `template name ${id.error.issues[0]?.message}` });
    if (parsed.success) templates[name] = parsed.data;
    else problems.push(...zodProblems(parsed.error, `templates.${name}`));
  }

  const pathOfNode = (id: string) => `nodes[${raw.nodes.findIndex((n) => (n as { id?: unknown })?.id === id)}]`;
  problems.push(...graphProblems(nodes, edges, templates, seen, pathOfNode));
  if (data.success && rules.success) problems.push(...meaningProblems(data.data, rules.data, nodes, pathOfNode));
  if (problems.length) return { ok: false, problems };
  return { ok: true, definition: JourneyDefinition.parse(input) };
}

/** Structural rules that a schema cannot express. `declared` holds every id seen, valid or not. */
function graphProblems(
  nodes: JourneyNode[],
  edges: Edge[],
  templates: Record<string, Template>,
  declared: Set<string>,
  pathOfNode: (id: string) => string,
): Problem[] {
  const problems: Problem[] = [];
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const add = (nodeId: string, path: string, message: string) => problems.push({ nodeId, path, message });

  const entries = nodes.filter((n) => n.type === 'entry' || n.type === 'audience_entry');
  if (entries.length === 0 && ![...declared].some((id) => !byId.has(id))) {
    problems.push({ path: 'nodes', message: 'a journey needs exactly one entry node; it has none' });
  }
  for (const extra of entries.slice(1)) add(extra.id, pathOfNode(extra.id), 'a journey has exactly one entry node; this is a second one');

  // Edges: both ends must exist, ports must belong to the source, each port used once.
  const outgoing = new Map<string, Map<string, string>>();
  edges.forEach((edge, i) => {
    const path = `edges[${i}]`;
    const source = byId.get(edge.from);
    if (!declared.has(edge.from)) {
      add(edge.from, path, `edge starts at unknown node "${edge.from}"`);
      return;
    }
    if (!declared.has(edge.to)) {
      add(edge.from, path, `edge from "${edge.from}" goes to unknown node "${edge.to}"`);
      return;
    }
    const used = outgoing.get(edge.from) ?? new Map<string, string>();
    outgoing.set(edge.from, used);
    // An invalid source node is already reported; its edges still count for reachability.
    const ports = source ? nodePorts(source) : [edge.port];
    if (!ports.includes(edge.port)) {
      add(
        edge.from,
        `${path}.port`,
        ports.length ? `a ${source!.type} node has no output "${edge.port}" (outputs: ${ports.join(', ')})` : `a ${source!.type} node has no outputs`,
      );
      return;
    }
    const target = byId.get(edge.to);
    if (target?.type === 'entry' || target?.type === 'audience_entry') add(edge.from, path, 'no edge may lead into the entry node');
    if (used.has(edge.port)) add(edge.from, `${path}.port`, `output "${edge.port}" is connected more than once`);
    used.set(edge.port, edge.to);
  });

  for (const node of nodes) {
    for (const port of nodePorts(node)) {
      if (!outgoing.get(node.id)?.has(port)) add(node.id, pathOfNode(node.id), `output "${port}" is not connected`);
    }
    if (node.type === 'send_email' && !(node.template in templates)) {
      add(node.id, `${pathOfNode(node.id)}.template`, `template "${node.template}" is not defined`);
    }
    if (node.type === 'split') {
      const names = node.arms.map((a) => a.name);
      const dup = names.find((n, i) => names.indexOf(n) !== i);
      if (dup) add(node.id, `${pathOfNode(node.id)}.arms`, `arm "${dup}" appears twice`);
    }
  }

  const entry = entries[0];
  if (entry) {
    const reachable = new Set<string>();
    const stack = [entry.id];
    while (stack.length) {
      const id = stack.pop()!;
      if (reachable.has(id)) continue;
      reachable.add(id);
      for (const to of outgoing.get(id)?.values() ?? []) stack.push(to);
    }
    for (const node of nodes) {
      if (!reachable.has(node.id)) add(node.id, pathOfNode(node.id), 'node cannot be reached from the entry');
    }
  }

  for (const node of nodes) {
    if (node.type !== 'wait_for_engagement' && node.type !== 'engagement_branch') continue;
    const target = byId.get(node.message);
    if (!target && declared.has(node.message)) continue; // the target itself is invalid and reported
    if (!target || target.type !== 'send_email') {
      add(node.id, `${pathOfNode(node.id)}.message`, `watches engagement with "${node.message}", which is not a send_email node`);
    } else if (entry && !precedes(target.id, node.id, outgoing)) {
      add(node.id, `${pathOfNode(node.id)}.message`, `watches engagement with "${node.message}", which is never sent before this node`);
    }
  }

  for (const cycle of instantCycles(byId, outgoing)) {
    add(cycle[0]!, pathOfNode(cycle[0]!), `loop ${cycle.join(' → ')} does not pass through a delay, a wait for an event or an engagement timeout, so it could run without pause`);
  }
  return problems;
}

/** Types of expressions against the declared data; fields the rules and nodes refer to. */
function meaningProblems(
  data: JourneyData,
  rules: Rules,
  nodes: JourneyNode[],
  pathOfNode: (id: string) => string,
): Problem[] {
  const problems: Problem[] = [];
  const check = (scope: Scope, expression: string, type: DataType, path: string, nodeId?: string, what = 'expression') => {
    const error = checkExpression(data, scope, expression, type);
    if (error) problems.push({ ...(nodeId ? { nodeId } : {}), path, message: `${what}: ${error}` });
  };
  for (const builtin of Object.keys(PATIENT_BUILTINS)) {
    if (builtin in data.patient) problems.push({ path: `data.patient.${builtin}`, message: `"${builtin}" is a built-in patient field; do not declare it` });
  }

  const entry = nodes.find((n) => n.type === 'entry');
  const keyed = entry?.type === 'entry' && entry.key !== undefined;
  const criteria = [...rules.exitOn.map((c, i) => ({ c, path: `rules.exitOn[${i}]` })), ...(rules.goal ? [{ c: rules.goal, path: 'rules.goal' }] : [])];
  for (const { c, path } of criteria) {
    if (c.when) check({ kind: 'event', event: c.event }, c.when, 'bool', `${path}.when`, undefined, 'when');
    if (c.sameKey && !keyed) problems.push({ path: `${path}.sameKey`, message: 'sameKey needs an entry with a "key"' });
  }

  for (const node of nodes) {
    const base = pathOfNode(node.id);
    switch (node.type) {
      case 'entry': {
        if (node.when) check({ kind: 'entry' }, node.when, 'bool', `${base}.when`, node.id, 'when');
        if (node.key) {
          const type = typeAt(data.trigger, node.key);
          if (type !== 'string' && type !== 'int') {
            problems.push({ nodeId: node.id, path: `${base}.key`, message: `key "${node.key}" must be a string or int field declared in data.trigger` });
          }
        }
        break;
      }
      case 'audience_entry':
        if ('timezone' in node.schedule && !isValidTimeZone(node.schedule.timezone)) {
          problems.push({ nodeId: node.id, path: `${base}.schedule.timezone`, message: `unknown time zone "${node.schedule.timezone}"` });
        }
        break;
      case 'wait_until':
        check({ kind: 'node' }, node.at, 'timestamp', `${base}.at`, node.id, 'at');
        break;
      case 'condition':
        check({ kind: 'node' }, node.when, 'bool', `${base}.when`, node.id, 'when');
        break;
      case 'wait_for_event':
        if (node.when) check({ kind: 'event', event: node.event }, node.when, 'bool', `${base}.when`, node.id, 'when');
        if (node.sameKey && !keyed) problems.push({ nodeId: node.id, path: `${base}.sameKey`, message: 'sameKey needs an entry with a "key"' });
        break;
      case 'send_email':
        if (node.exception) {
          problems.push({ nodeId: node.id, path: `${base}.exception`, message: `MKT-04: the ${node.exception} exception never applies to email` });
        }
        break;
      case 'update_patient':
        for (const [attribute, expression] of Object.entries(node.set ?? {})) {
          const type = data.patient[attribute];
          if (typeof type !== 'string') {
            problems.push({ nodeId: node.id, path: `${base}.set.${attribute}`, message: `patient attribute "${attribute}" must be declared in data.patient with a type` });
          } else check({ kind: 'node' }, expression, type, `${base}.set.${attribute}`, node.id, `set.${attribute}`);
        }
        break;
      default:
        break;
    }
  }
  return problems;
}

function precedes(from: string, to: string, outgoing: Map<string, Map<string, string>>): boolean {
  const seen = new Set<string>();
  const stack = [...(outgoing.get(from)?.values() ?? [])];
  while (stack.length) {
    const id = stack.pop()!;
    if (id === to) return true;
    if (seen.has(id)) continue;
    seen.add(id);
    stack.push(...(outgoing.get(id)?.values() ?? []));
  }
  return false;
}

/** Cycles made only of outputs that can be taken without time passing. */
function instantCycles(byId: Map<string, JourneyNode>, outgoing: Map<string, Map<string, string>>): string[][] {
  const next = (id: string) => {
    const node = byId.get(id);
    return node ? [...(outgoing.get(id) ?? [])].filter(([port, to]) => !takesTime(node, port) && byId.has(to)).map(([, to]) => to) : [];
  };
  const state = new Map<string, 'open' | 'done'>();
  const cycles: string[][] = [];
  const trail: string[] = [];
  const visit = (id: string) => {
    state.set(id, 'open');
    trail.push(id);
    for (const to of next(id)) {
      if (state.get(to) === 'open') cycles.push([...trail.slice(trail.indexOf(to)), to]);
      else if (!state.has(to)) visit(to);
    }
    trail.pop();
    state.set(id, 'done');
  };
  for (const id of byId.keys()) if (!state.has(id)) visit(id);
  return cycles;
}
