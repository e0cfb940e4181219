import {
  evaluateBool,
  evaluateTime,
  evaluateValue,
  type EvaluationResult,
  type NodeRequest,
  type Outcome,
} from '../../workflows/index.ts';
import { isUniqueViolation, type PrismaClient } from '../db/index.ts';
import { loadRunFacts } from './facts.ts';

/** A condition's truth or a wait_until's time, from the run's current facts. */
export async function evaluateNode(
  db: PrismaClient,
  request: NodeRequest & { visits: Record<string, number> },
  now = Date.now(),
): Promise<EvaluationResult> {
  const facts = await loadRunFacts(db, request.enrollmentId);
  const node = facts.definition.nodes.find((n) => n.id === request.nodeId);
  const context = { trigger: facts.trigger, patient: facts.patient, visits: request.visits, now };
  if (node?.type === 'condition') return evaluateBool(facts.definition.data, { kind: 'node' }, node.when, context);
  if (node?.type === 'wait_until') return evaluateTime(facts.definition.data, { kind: 'node' }, node.at, context);
  return { ok: false, error: `node ${request.nodeId} has nothing to evaluate` };
}

/** Applies an update_patient node: attribute values (CEL) and tags. */
export async function updatePatient(db: PrismaClient, request: NodeRequest & { visits: Record<string, number> }, now = Date.now()): Promise<void> {
  const facts = await loadRunFacts(db, request.enrollmentId);
  const node = facts.definition.nodes.find((n) => n.id === request.nodeId);
  if (node?.type !== 'update_patient') throw new Error(`node ${request.nodeId} is not an update_patient node`);
  const values: Record<string, unknown> = {};
  for (const [attribute, expression] of Object.entries(node.set ?? {})) {
    const type = facts.definition.data.patient[attribute];
    if (typeof type !== 'string') continue;
    const result = evaluateValue(facts.definition.data, { kind: 'node' }, expression, { trigger: facts.trigger, patient: facts.patient, visits: request.visits, now }, type);
    if (result.ok) values[attribute] = result.value;
  }
  await db.$transaction(async (tx) => {
    const patient = await tx.patient.findUniqueOrThrow({ where: { id: facts.enrollment.patientId } });
    const tags = new Set(patient.tags);
    for (const t of node.addTags ?? []) tags.add(t);
    for (const t of node.removeTags ?? []) tags.delete(t);
    await tx.patient.update({
      where: { id: patient.id },
      data: { attributes: { ...(patient.attributes as object), ...values } as object, tags: [...tags] },
    });
  });
}

export async function recordGoal(db: PrismaClient, request: { enrollmentId: string; path: string[] }): Promise<void> {
  const enrollment = await db.enrollment.findUniqueOrThrow({ where: { id: request.enrollmentId }, include: { version: true } });
  try {
    await db.conversion.create({
      data: { enrollmentId: enrollment.id, journeyId: enrollment.journeyId, version: enrollment.version.version, path: request.path },
    });
  } catch (e) {
    if (!isUniqueViolation(e)) throw e; // a retried activity: already counted
  }
}

/** The run ended: record how, and free the patient's slot so re-entry rules can apply. */
export async function markEnrollmentEnded(db: PrismaClient, request: { enrollmentId: string; outcome: Outcome }): Promise<void> {
  await db.enrollment.update({
    where: { id: request.enrollmentId },
    data: { status: request.outcome, activeKey: null, endedAt: new Date() },
  });
}
