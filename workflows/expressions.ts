// CEL expressions in journeys: type-checked at publish against the data the journey declares,
// evaluated (pure, no I/O) by activities and by the simulator. Values arrive as JSON and are
// converted by their declared type (ISO strings → timestamps, numbers → CEL ints).
import { Environment } from '@marcbachmann/cel-js';
import type { DataShape, DataType, JourneyData } from './schema.ts';

const CEL_TYPE: Record<DataType, string> = {
  string: 'string',
  int: 'int',
  double: 'double',
  bool: 'bool',
  timestamp: 'google.protobuf.Timestamp',
  'list<string>': 'list<string>',
};

/** Patient fields every journey can read, besides the attributes it declares. */
export const PATIENT_BUILTINS: DataShape = { givenName: 'string', familyName: 'string', timezone: 'string', tags: 'list<string>' };

/** Which variables an expression may use. */
export type Scope =
  | { kind: 'entry' } // trigger, patient, now
  | { kind: 'node' } // trigger, patient, now, visits
  | { kind: 'event'; event: string } // event, trigger, patient, now
  | { kind: 'audience'; patient: DataShape }; // patient, now

export interface ExpressionContext {
  trigger?: Record<string, unknown>;
  patient?: Record<string, unknown>;
  event?: Record<string, unknown>;
  visits?: Record<string, number>;
  now: number;
}

type CelSchema = { [field: string]: string | CelSchema };

function celSchema(shape: DataShape): CelSchema {
  return Object.fromEntries(Object.entries(shape).map(([k, v]) => [k, typeof v === 'string' ? CEL_TYPE[v] : celSchema(v)]));
}

const cache = new WeakMap<object, Map<string, Environment>>();

function environment(data: JourneyData, scope: Scope): Environment {
  const key = scope.kind === 'event' ? `event:${scope.event}` : scope.kind;
  const perData = cache.get(data) ?? new Map<string, Environment>();
  cache.set(data, perData);
  const cached = scope.kind === 'audience' ? undefined : perData.get(key);
  if (cached) return cached;
  const patient = scope.kind === 'audience' ? scope.patient : data.patient;
  const env = new Environment({ limits: { maxAstNodes: 500, maxDepth: 40 } })
    .registerVariable({ name: 'patient', schema: celSchema({ ...patient, ...PATIENT_BUILTINS }) })
    .registerVariable('now', CEL_TYPE.timestamp);
  if (scope.kind !== 'audience') env.registerVariable({ name: 'trigger', schema: celSchema(data.trigger) });
  if (scope.kind === 'node') env.registerVariable('visits', 'map<string, int>');
  if (scope.kind === 'event') env.registerVariable({ name: 'event', schema: celSchema(data.events[scope.event] ?? {}) });
  if (scope.kind !== 'audience') perData.set(key, env);
  return env;
}

/** Null when `expression` is valid in `scope` and has type `expected`; else the reason. */
export function checkExpression(data: JourneyData, scope: Scope, expression: string, expected: DataType): string | null {
  let result: { valid: boolean; type?: string; error?: { message?: string } };
  try {
    result = environment(data, scope).check(expression) as typeof result;
  } catch (e) {
    return firstLine((e as Error).message);
  }
  if (!result.valid) return firstLine(result.error?.message ?? 'invalid expression');
  if (result.type !== CEL_TYPE[expected] && result.type !== 'dyn') return firstLine(`must be a ${expected}, but is a ${result.type}`);
  return null;
}

export type Evaluation<T> = { ok: true; value: T } | { ok: false; error: string };

export function evaluateBool(data: JourneyData, scope: Scope, expression: string, context: ExpressionContext): Evaluation<boolean> {
  const result = evaluate(data, scope, expression, context);
  if (!result.ok) return result;
  return typeof result.value === 'boolean' ? { ok: true, value: result.value } : { ok: false, error: 'not a bool' };
}

/** Epoch milliseconds of a timestamp expression. */
export function evaluateTime(data: JourneyData, scope: Scope, expression: string, context: ExpressionContext): Evaluation<number> {
  const result = evaluate(data, scope, expression, context);
  if (!result.ok) return result;
  return result.value instanceof Date && !Number.isNaN(result.value.getTime())
    ? { ok: true, value: result.value.getTime() }
    : { ok: false, error: 'not a timestamp' };
}

/** The value of an expression as JSON-friendly data for a declared type. */
export function evaluateValue(data: JourneyData, scope: Scope, expression: string, context: ExpressionContext, type: DataType): Evaluation<unknown> {
  const result = evaluate(data, scope, expression, context);
  if (!result.ok) return result;
  return { ok: true, value: fromCel(result.value, type) };
}

function evaluate(data: JourneyData, scope: Scope, expression: string, context: ExpressionContext): Evaluation<unknown> {
  const patientShape = { ...(scope.kind === 'audience' ? scope.patient : data.patient), ...PATIENT_BUILTINS };
  const vars: Record<string, unknown> = { now: new Date(context.now), patient: toCel(patientShape, context.patient ?? {}) };
  if (scope.kind !== 'audience') vars.trigger = toCel(data.trigger, context.trigger ?? {});
  if (scope.kind === 'node') vars.visits = new Map(Object.entries(context.visits ?? {}).map(([k, v]) => [k, BigInt(v)]));
  if (scope.kind === 'event') vars.event = toCel(data.events[scope.event] ?? {}, context.event ?? {});
  try {
    return { ok: true, value: environment(data, scope).evaluate(expression, vars) };
  } catch (e) {
    // CEL's messages quote the expression (designer-written) and field names, never values.
    return { ok: false, error: firstLine((e as Error).message) };
  }
}

/** Keeps only declared fields, converted to CEL values; absent or unconvertible fields are left out. */
export function toCel(shape: DataShape, value: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [field, type] of Object.entries(shape)) {
    const v = value?.[field];
    if (v === undefined || v === null) continue;
    const converted = typeof type === 'string' ? scalarToCel(type, v) : typeof v === 'object' ? toCel(type, v as Record<string, unknown>) : undefined;
    if (converted !== undefined) out[field] = converted;
  }
  return out;
}

/** Only the declared fields of `value`, as plain JSON (what an activity may hand to a workflow). */
export function pickDeclared(shape: DataShape, value: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [field, type] of Object.entries(shape)) {
    const v = value?.[field];
    if (v === undefined || v === null) continue;
    if (typeof type === 'string') out[field] = v;
    else if (typeof v === 'object') out[field] = pickDeclared(type, v as Record<string, unknown>);
  }
  return out;
}

function scalarToCel(type: DataType, v: unknown): unknown {
  switch (type) {
    case 'string':
      return typeof v === 'string' ? v : undefined;
    case 'bool':
      return typeof v === 'boolean' ? v : undefined;
    case 'int':
      return (typeof v === 'number' && Number.isInteger(v)) || (typeof v === 'string' && /^-?\d+$/.test(v)) ? BigInt(v) : undefined;
    case 'double':
      return typeof v === 'number' ? v : undefined;
    case 'timestamp': {
      const t = typeof v === 'string' || typeof v === 'number' ? new Date(v) : v instanceof Date ? v : undefined;
      return t && !Number.isNaN(t.getTime()) ? t : undefined;
    }
    case 'list<string>':
      return Array.isArray(v) && v.every((x) => typeof x === 'string') ? v : undefined;
  }
}

function fromCel(v: unknown, type: DataType): unknown {
  if (typeof v === 'bigint') return type === 'string' ? v.toString() : Number(v);
  if (v instanceof Date) return v.toISOString();
  return v;
}

/** The declared type at a dotted path of a shape, if any. */
export function typeAt(shape: DataShape, path: string): DataType | DataShape | undefined {
  let current: DataType | DataShape | undefined = shape;
  for (const part of path.split('.')) {
    if (typeof current !== 'object') return undefined;
    current = current[part];
  }
  return current;
}

export function valueAt(value: Record<string, unknown>, path: string): unknown {
  let current: unknown = value;
  for (const part of path.split('.')) {
    if (typeof current !== 'object' || current === null) return undefined;
    current = (current as Record<string, unknown>)[part];
  }
  return current;
}

function firstLine(message: string): string {
  // Designers write `timestamp`; CEL reports its protobuf name.
  return message.split('\n')[0]!.trim().replaceAll(CEL_TYPE.timestamp, 'timestamp');
}

/** What an update_patient node changes, evaluated against the run's facts. */
export function patientUpdate(
  data: JourneyData,
  node: { set?: Record<string, string>; addTags?: string[]; removeTags?: string[] },
  context: ExpressionContext,
): { set: Record<string, unknown>; addTags: string[]; removeTags: string[] } {
  const set: Record<string, unknown> = {};
  for (const [attribute, expression] of Object.entries(node.set ?? {})) {
    const type = data.patient[attribute];
    if (typeof type !== 'string') continue;
    const result = evaluateValue(data, { kind: 'node' }, expression, context, type);
    if (result.ok) set[attribute] = result.value; // one that cannot be evaluated leaves the attribute as it is
  }
  return { set, addTags: node.addTags ?? [], removeTags: node.removeTags ?? [] };
}

/** Tags after an update: added first, then removed. */
export function applyTags(tags: string[], update: { addTags: string[]; removeTags: string[] }): string[] {
  const result = new Set(tags);
  for (const t of update.addTags) result.add(t);
  for (const t of update.removeTags) result.delete(t);
  return [...result];
}
