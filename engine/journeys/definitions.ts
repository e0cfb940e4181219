// Journey definitions: validated drafts, immutable published versions (with the audience schedule
// they need), stopping a journey, and reading them back.
import { isGrpcServiceError, ServiceError } from '@temporalio/client';
import { canSpamClassOf, validateJourney, type JourneyDefinition, type Problem } from '../../workflows/index.ts';
import { isUniqueViolation } from '../db/index.ts';
import { SYSTEM_PRINCIPAL, recordAudit } from '../audit/index.ts';
import { minimumNecessaryProblems } from '../consent/index.ts';
import { templateFields, templateProblems, unapprovedSenders } from '../delivery/index.ts';
import { PATIENT_BUILTINS, typeAt } from '../../workflows/index.ts';
import { deleteAudienceSchedule, signalStop, temporalUiUrl, upsertAudienceSchedule } from '../temporal/index.ts';
import type { JourneyDeps } from './deps.ts';
import { JourneyInvalidError, NotFoundError } from './errors.ts';

/** Each run carries its definition by value in Temporal (2 MiB payload limit): keep it well below. */
const MAX_DEFINITION_BYTES = 512 * 1024;

/** Schema, graph and expression rules from workflows/, plus what only the engine can check. */
export async function checkDefinition(deps: JourneyDeps, input: unknown): Promise<JourneyDefinition> {
  const result = validateJourney(input);
  if (!result.ok) throw new JourneyInvalidError(result.problems);
  const definition = result.definition;
  const problems: Problem[] = [];
  const bytes = Buffer.byteLength(JSON.stringify(definition));
  if (bytes > MAX_DEFINITION_BYTES) problems.push({ path: '', message: `a journey is at most ${MAX_DEFINITION_BYTES / 1024} KiB of JSON (this one is ${Math.ceil(bytes / 1024)} KiB)` });
  for (const [name, template] of Object.entries(definition.templates)) {
    for (const p of templateProblems(template)) {
      const user = definition.nodes.find((n) => n.type === 'send_email' && n.template === name);
      problems.push({ ...(user ? { nodeId: user.id } : {}), path: `templates.${name}.${p.part}`, message: `template "${name}" ${p.part}: ${p.message}` });
    }
  }
  // Minimum necessary and PHI-safe surfaces, from what each template actually reads (MIN-01/03).
  for (const [i, node] of definition.nodes.entries()) {
    if (node.type !== 'send_email') continue;
    const template = definition.templates[node.template];
    if (!template || templateProblems(template).length) continue; // reported above
    const fields = templateFields(template);
    for (const field of fields) {
      const [root, ...rest] = field.split('.');
      const path = rest.join('.');
      const declared =
        (root === 'patient' && (typeAt(PATIENT_BUILTINS, path) !== undefined || typeAt(definition.data.patient, path) !== undefined)) ||
        (root === 'trigger' && path !== '' && typeAt(definition.data.trigger, path) !== undefined);
      if (!declared) problems.push({ nodeId: node.id, path: `templates.${node.template}`, message: `template "${node.template}" reads "${field}", which the journey does not declare in data` });
    }
    if (node.purpose === 'REFILL_REMINDER' && typeAt(definition.data.trigger, 'prescription.activeUntil') !== 'timestamp') {
      problems.push({ nodeId: node.id, path: `nodes[${i}]`, message: 'MKT-02: a refill reminder needs the prescription\'s end, declared as data.trigger.prescription.activeUntil (timestamp)' });
    }
    for (const p of minimumNecessaryProblems(template, { subject: templateFields(template, 'subject'), body: fields }, node)) {
      problems.push({ nodeId: node.id, path: `nodes[${i}]`, message: `template "${node.template}" ${p.part}: ${p.message}` });
    }
  }
  // CS-02: only approved sender identities.
  const senders = [definition.sender, ...definition.nodes.map((n) => (n.type === 'send_email' ? n.sender : undefined))].filter((s): s is string => Boolean(s));
  for (const id of await unapprovedSenders(deps.db, [...new Set(senders)])) {
    const users = definition.nodes.filter((n) => n.type === 'send_email' && (n.sender ?? definition.sender) === id);
    for (const node of users.length ? users : [undefined]) {
      problems.push({ ...(node ? { nodeId: node.id } : {}), path: node ? `nodes[${definition.nodes.indexOf(node)}].sender` : 'sender', message: `CS-02: sender "${id}" is not an approved sender identity (POST /api/senders)` });
    }
  }
  for (const [i, node] of definition.nodes.entries()) {
    if (node.type !== 'audience_entry') continue;
    const audience = await deps.db.audience.findUnique({ where: { id: node.audience }, select: { id: true } });
    if (!audience) problems.push({ nodeId: node.id, path: `nodes[${i}].audience`, message: `audience "${node.audience}" does not exist` });
  }
  if (problems.length) throw new JourneyInvalidError(problems);
  return definition;
}

/** Checks a definition; a refusal is an audited action (INV-3: classifying steps is audited). */
async function checked(deps: JourneyDeps, input: unknown, action: string, journeyId: string | null, principal: string): Promise<JourneyDefinition> {
  try {
    return await checkDefinition(deps, input);
  } catch (e) {
    if (e instanceof JourneyInvalidError) {
      const nodeIds = [...new Set(e.problems.map((p) => p.nodeId).filter(Boolean))];
      await recordAudit(deps.db, { principal, action, objectType: 'journey', objectId: journeyId, outcome: 'refused', details: { problems: e.problems.length, nodeIds } });
    }
    throw e;
  }
}

/** What each send was classified as: recorded with every accepted definition (INV-3). */
function classification(definition: JourneyDefinition) {
  return definition.nodes
    .filter((n) => n.type === 'send_email')
    .map((n) => {
      const template = definition.templates[n.template];
      const canSpam = template ? canSpamClassOf(n, template) : { class: 'commercial', reasons: ['NO_TEMPLATE'] };
      return { nodeId: n.id, purpose: n.purpose, usesPhi: n.usesPhi, thirdPartyRemuneration: n.thirdPartyRemuneration, sponsor: n.sponsor ?? definition.sponsor ?? null, canSpam };
    });
}

export async function createJourney(deps: JourneyDeps, input: unknown, principal = SYSTEM_PRINCIPAL): Promise<{ id: string }> {
  const definition = await checked(deps, input, 'journey.create', null, principal);
  const journey = await deps.db.journey.create({ data: { name: definition.name, draft: definition as object }, select: { id: true } });
  await recordAudit(deps.db, { principal, action: 'journey.create', objectType: 'journey', objectId: journey.id, outcome: 'ok', details: { sends: classification(definition) } });
  return journey;
}

export async function updateDraft(deps: JourneyDeps, id: string, input: unknown, principal = SYSTEM_PRINCIPAL): Promise<void> {
  const definition = await checked(deps, input, 'journey.update', id, principal);
  const updated = await deps.db.journey.updateMany({ where: { id }, data: { name: definition.name, draft: definition as object } });
  if (updated.count === 0) throw new NotFoundError('journey');
  await recordAudit(deps.db, { principal, action: 'journey.update', objectType: 'journey', objectId: id, outcome: 'ok', details: { sends: classification(definition) } });
}

/** Freezes the draft as the next version; new enrollments use it, running ones keep theirs. */
export async function publish(deps: JourneyDeps, id: string, principal = SYSTEM_PRINCIPAL): Promise<{ version: number }> {
  const { db, temporal, temporalSettings } = deps;
  const journey = await db.journey.findUnique({ where: { id } });
  if (!journey) throw new NotFoundError('journey');
  const definition = await checked(deps, journey.draft, 'journey.publish', id, principal);
  const entry = definition.nodes.find((n) => n.type === 'entry' || n.type === 'audience_entry')!;
  const previous = await db.journeyVersion.findFirst({ where: { journeyId: id }, orderBy: { version: 'desc' } });
  const hadSchedule = previous !== null && (previous.definition as unknown as JourneyDefinition).nodes.some((n) => n.type === 'audience_entry');
  let version = 0;
  for (let attempt = 0; ; attempt++) {
    version = (previous?.version ?? 0) + 1 + attempt;
    try {
      // The schedule changes inside the transaction: if Temporal refuses, no version is published.
      await db.$transaction(
        async (tx) => {
          await tx.journeyVersion.create({
            data: { journeyId: id, version, definition: definition as object, entryEvent: entry.type === 'entry' ? entry.event : '' },
          });
          if (entry.type === 'audience_entry') await upsertAudienceSchedule(temporal, temporalSettings, id, entry.schedule).catch(scheduleRefused(entry.id));
          else if (hadSchedule) await deleteAudienceSchedule(temporal, id);
        },
        { timeout: 30_000 },
      );
      break;
    } catch (e) {
      if (!isUniqueViolation(e) || attempt >= 3) throw e; // a concurrent publish took the number
    }
  }
  await db.journey.update({ where: { id }, data: { status: 'active' } });
  await recordAudit(db, { principal, action: 'journey.publish', objectType: 'journey', objectId: id, outcome: 'ok', details: { version, sends: classification(definition) } });
  return { version };
}

/** Temporal refusing a schedule spec (INVALID_ARGUMENT) is the designer's problem, not an outage. */
function scheduleRefused(nodeId: string) {
  return (e: unknown): never => {
    const cause = e instanceof ServiceError ? e.cause : e;
    if (isGrpcServiceError(cause) && cause.code === 3) {
      throw new JourneyInvalidError([{ nodeId, path: 'schedule', message: `Temporal refused the schedule: ${cause.details}` }]);
    }
    throw e;
  };
}

/** No new enrollments, no more schedule runs, and every running run ends as "stopped". */
export async function stopJourney(deps: JourneyDeps, id: string): Promise<{ stopped: number }> {
  const { db, temporal } = deps;
  const journey = await db.journey.findUnique({ where: { id } });
  if (!journey) throw new NotFoundError('journey');
  await db.journey.update({ where: { id }, data: { status: 'stopped' } });
  await deleteAudienceSchedule(temporal, id);
  const running = await db.enrollment.findMany({ where: { journeyId: id, status: { in: ['starting', 'active'] } } });
  let stopped = 0;
  for (const run of running) {
    if (await signalStop(temporal, run.workflowId)) stopped++;
    else {
      // No such run (yet): close the slot, unless the run ended meanwhile and recorded how.
      await db.enrollment.updateMany({
        where: { id: run.id, status: { in: ['starting', 'active'] } },
        data: { status: 'stopped', activeKey: null, endedAt: new Date() },
      });
    }
  }
  return { stopped };
}

export async function getJourney({ db, temporalSettings }: JourneyDeps, id: string) {
  const journey = await db.journey.findUnique({
    where: { id },
    include: { versions: { select: { version: true, publishedAt: true }, orderBy: { version: 'asc' } } },
  });
  if (!journey) throw new NotFoundError('journey');
  return {
    id: journey.id,
    name: journey.name,
    status: journey.status,
    draft: journey.draft,
    versions: journey.versions,
    /** How each send of the draft is classified (purpose, CAN-SPAM class and why). */
    sends: classification(journey.draft as unknown as JourneyDefinition),
    runsUrl: temporalUiUrl(temporalSettings.uiUrl, temporalSettings.namespace, { query: `JourneyId="${journey.id}"` }),
  };
}

export async function listJourneys({ db }: JourneyDeps) {
  const journeys = await db.journey.findMany({
    orderBy: { createdAt: 'asc' },
    include: { versions: { select: { version: true }, orderBy: { version: 'desc' }, take: 1 } },
  });
  return journeys.map((j) => ({ id: j.id, name: j.name, status: j.status, publishedVersion: j.versions[0]?.version ?? null }));
}

export async function listEnrollments({ db, temporalSettings }: JourneyDeps, journeyId: string) {
  if (!(await db.journey.findUnique({ where: { id: journeyId }, select: { id: true } }))) throw new NotFoundError('journey');
  const rows = await db.enrollment.findMany({
    where: { journeyId },
    orderBy: { createdAt: 'asc' },
    include: { version: { select: { version: true } } },
  });
  return rows.map((r) => ({
    id: r.id,
    patientId: r.patientId,
    version: r.version.version,
    status: r.status,
    workflowId: r.workflowId,
    temporalUrl: temporalUiUrl(temporalSettings.uiUrl, temporalSettings.namespace, { workflowId: r.workflowId }),
  }));
}

/** Conversions of the journey's goal, counted per path of nodes. */
export async function conversionsByPath({ db }: JourneyDeps, journeyId: string) {
  if (!(await db.journey.findUnique({ where: { id: journeyId }, select: { id: true } }))) throw new NotFoundError('journey');
  const rows = await db.conversion.findMany({ where: { journeyId }, select: { path: true, version: true } });
  const counts = new Map<string, { version: number; path: string[]; conversions: number }>();
  for (const r of rows) {
    const path = r.path as string[];
    const key = `${r.version}:${path.join('>')}`;
    const entry = counts.get(key) ?? { version: r.version, path, conversions: 0 };
    entry.conversions++;
    counts.set(key, entry);
  }
  return [...counts.values()].sort((a, b) => b.conversions - a.conversions);
}
