// Checks a candidate journey before anything is saved or run, and reports every problem at once
// with the node it concerns, so a designer can fix them all in one pass.
import { z } from 'zod';
import {
  Edge,
  Identifier,
  JOURNEY_FORMAT,
  JourneyDefinition,
  MAX_NODES,
  NODE_PORTS,
  NODE_SCHEMAS,
  Template,
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
  nodes: z.array(z.unknown()).min(1, 'a journey needs at least an entry node'),
  edges: z.array(z.unknown()),
  templates: z.record(z.string(), z.unknown()),
});

function pathOf(base: string, issuePath: readonly PropertyKey[]): string {
  return issuePath.reduce<string>(
    (p, key) => (typeof key === 'number' ? `${p}[${key}]` : p ? `${p}.${String(key)}` : String(key)),
    base,
  );
}

function zodProblems(error: z.ZodError, base: string, nodeId?: string): Problem[] {
  return error.issues.map((issue) => {
    const path = pathOf(base, issue.path);
    const field = issue.path.length ? `${issue.path.map(String).join('.')}: ` : '';
    const message =
      issue.code === 'unrecognized_keys'
        ? `unknown field(s) ${issue.keys.join(', ')}`
        : issue.code === 'invalid_type' && issue.message.endsWith('received undefined')
          ? 'is required'
          : issue.message;
    return { ...(nodeId ? { nodeId } : {}), path, message: `${field}${message}` };
  });
}

export function validateJourney(input: unknown): ValidationResult {
  const envelope = Envelope.safeParse(input);
  if (!envelope.success) return { ok: false, problems: zodProblems(envelope.error, '') };
  const raw = envelope.data;
  const problems: Problem[] = [];

  const extra = Object.keys(input as object).filter((k) => !(k in Envelope.shape));
  if (extra.length) problems.push({ path: '', message: `unknown field(s) ${extra.join(', ')}` });
  if (raw.nodes.length > MAX_NODES) {
    problems.push({ path: 'nodes', message: `a journey has at most ${MAX_NODES} nodes (this one has ${raw.nodes.length})` });
  }

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
    if (parsed.success) nodes.push(parsed.data);
    else problems.push(...zodProblems(parsed.error, base, nodeId));
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

  problems.push(...graphProblems(raw.nodes, nodes, edges, templates, seen));
  if (problems.length) return { ok: false, problems };
  return { ok: true, definition: JourneyDefinition.parse(input) };
}

/** Structural rules that a schema cannot express. `declared` holds every id seen, valid or not. */
function graphProblems(
  rawNodes: unknown[],
  nodes: JourneyNode[],
  edges: Edge[],
  templates: Record<string, Template>,
  declared: Set<string>,
): Problem[] {
  const problems: Problem[] = [];
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const pathOfNode = (id: string) => `nodes[${rawNodes.findIndex((n) => (n as { id?: unknown })?.id === id)}]`;
  const add = (nodeId: string, path: string, message: string) => problems.push({ nodeId, path, message });

  const entries = nodes.filter((n) => n.type === 'entry');
  if (entries.length === 0 && ![...declared].some((id) => !byId.has(id))) {
    problems.push({ path: 'nodes', message: 'a journey needs exactly one entry node; it has none' });
  }
  for (const extra of entries.slice(1)) add(extra.id, pathOfNode(extra.id), 'a journey has exactly one entry node; this is a second one');

  // Edges: both ends must exist, ports must belong to the source's type, each port used once.
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
    if (!source) return; // the source node itself is invalid and already reported
    const ports = NODE_PORTS[source.type];
    if (!ports.includes(edge.port)) {
      add(
        edge.from,
        `${path}.port`,
        ports.length ? `a ${source.type} node has no output "${edge.port}" (outputs: ${ports.join(', ')})` : `a ${source.type} node has no outputs`,
      );
      return;
    }
    if (byId.get(edge.to)?.type === 'entry') add(edge.from, path, 'no edge may lead into the entry node');
    const used = outgoing.get(edge.from) ?? new Map<string, string>();
    if (used.has(edge.port)) add(edge.from, `${path}.port`, `output "${edge.port}" is connected more than once`);
    used.set(edge.port, edge.to);
    outgoing.set(edge.from, used);
  });

  for (const node of nodes) {
    for (const port of NODE_PORTS[node.type]) {
      if (!outgoing.get(node.id)?.has(port)) add(node.id, pathOfNode(node.id), `output "${port}" is not connected`);
    }
    if (node.type === 'send_email' && !(node.template in templates)) {
      add(node.id, `${pathOfNode(node.id)}.template`, `template "${node.template}" is not defined`);
    }
  }

  // Reachability from the entry, and which send nodes can precede each wait.
  const entry = entries[0];
  const reachable = new Set<string>();
  if (entry) {
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
    if (node.type !== 'wait_for_engagement') continue;
    const target = byId.get(node.message);
    if (!target || target.type !== 'send_email') {
      add(node.id, `${pathOfNode(node.id)}.message`, `waits for engagement with "${node.message}", which is not a send_email node`);
    } else if (entry && !precedes(target.id, node.id, outgoing)) {
      add(node.id, `${pathOfNode(node.id)}.message`, `waits for engagement with "${node.message}", which is never sent before this wait`);
    }
  }

  for (const cycle of cyclesWithoutWait(nodes, outgoing)) {
    add(cycle[0]!, pathOfNode(cycle[0]!), `loop ${cycle.join(' → ')} does not pass through a wait, so it would run forever`);
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

/** Cycles in the graph with wait nodes removed: such a loop never yields to time and spins. */
function cyclesWithoutWait(nodes: JourneyNode[], outgoing: Map<string, Map<string, string>>): string[][] {
  const instant = new Set(nodes.filter((n) => n.type !== 'wait_for_engagement').map((n) => n.id));
  const state = new Map<string, 'open' | 'done'>();
  const cycles: string[][] = [];
  const trail: string[] = [];
  const visit = (id: string) => {
    state.set(id, 'open');
    trail.push(id);
    for (const to of outgoing.get(id)?.values() ?? []) {
      if (!instant.has(to)) continue;
      if (state.get(to) === 'open') cycles.push([...trail.slice(trail.indexOf(to)), to]);
      else if (!state.has(to)) visit(to);
    }
    trail.pop();
    state.set(id, 'done');
  };
  for (const id of instant) if (!state.has(id)) visit(id);
  return cycles;
}
