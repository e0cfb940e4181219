// Saved audiences (a typed CEL filter over patient attributes) and the scheduled runs that enroll
// their members, a page at a time.
import { stringify } from 'csv-stringify/sync';
import { z } from 'zod';
import { checkExpression, DataShape, evaluateBool, type JourneyDefinition } from '../../workflows/index.ts';
import { recordAudit } from '../audit/index.ts';
import { loadConsentFacts, representativeProblems, saleOfPhiProblems } from '../consent/index.ts';
import { patientFacts } from '../runs/index.ts';
import type { JourneyDeps } from './deps.ts';
import { TemporalUnreachableError } from '../temporal/index.ts';
import { enroll } from './enroll.ts';
import { JourneyInvalidError, NotFoundError } from './errors.ts';

export const NewAudience = z
  .object({
    name: z.string().min(1).max(200),
    /** Types of the patient attributes the filter reads. */
    attributes: DataShape.default({}),
    filter: z.string().min(1).max(2_000),
  })
  .strict();

const PAGE = 200;

export async function createAudience({ db }: JourneyDeps, input: unknown): Promise<{ id: string }> {
  const audience = NewAudience.parse(input);
  const problem = checkExpression({ trigger: {}, patient: audience.attributes, events: {} }, { kind: 'audience', patient: audience.attributes }, audience.filter, 'bool');
  if (problem) throw new JourneyInvalidError([{ path: 'filter', message: `filter: ${problem}` }]);
  return db.audience.create({ data: { name: audience.name, attributes: audience.attributes, filter: audience.filter }, select: { id: true } });
}

export async function listAudiences({ db }: JourneyDeps) {
  return db.audience.findMany({ orderBy: { createdAt: 'asc' }, select: { id: true, name: true, filter: true, attributes: true } });
}

type AudienceRow = { filter: string; attributes: unknown };

function isMember(audience: AudienceRow, patient: Parameters<typeof patientFacts>[0], now: number): boolean {
  const shape = audience.attributes as DataShape;
  const data = { trigger: {}, patient: shape, events: {} };
  const result = evaluateBool(data, { kind: 'audience', patient: shape }, audience.filter, { patient: patientFacts(patient, shape), now });
  return result.ok && result.value;
}

/** How many patients the audience holds now. */
export async function countAudience({ db }: JourneyDeps, id: string): Promise<{ members: number }> {
  const audience = await db.audience.findUnique({ where: { id } });
  if (!audience) throw new NotFoundError('audience');
  let members = 0;
  let cursor: string | undefined;
  for (;;) {
    const page = await db.patient.findMany({ take: PAGE, ...(cursor ? { skip: 1, cursor: { id: cursor } } : {}), orderBy: { id: 'asc' } });
    members += page.filter((p) => isMember(audience, p, Date.now())).length;
    if (page.length < PAGE) return { members };
    cursor = page[page.length - 1]!.id;
  }
}

/** One page of an audience run: enrolls the members among the next patients after `cursor`. */
export async function enrollAudiencePage(
  deps: JourneyDeps,
  request: { journeyId: string; cursor: string | null },
  heartbeat: (cursor: string) => void = () => {},
): Promise<{ enrolled: number; skipped: number; next: string | null }> {
  const { db } = deps;
  const journey = await db.journey.findUnique({
    where: { id: request.journeyId },
    include: { versions: { orderBy: { version: 'desc' }, take: 1 } },
  });
  const version = journey?.versions[0];
  if (!journey || journey.status !== 'active' || !version) return { enrolled: 0, skipped: 0, next: null };
  const definition = version.definition as unknown as JourneyDefinition;
  const entry = definition.nodes.find((n) => n.type === 'audience_entry');
  if (entry?.type !== 'audience_entry') return { enrolled: 0, skipped: 0, next: null };
  const audience = await db.audience.findUnique({ where: { id: entry.audience } });
  if (!audience) return { enrolled: 0, skipped: 0, next: null };

  const patients = await db.patient.findMany({
    take: PAGE,
    ...(request.cursor ? { skip: 1, cursor: { id: request.cursor } } : {}),
    orderBy: { id: 'asc' },
  });
  let enrolled = 0;
  let skipped = 0;
  const now = Date.now();
  for (const patient of patients) {
    if (!isMember(audience, patient, now)) continue;
    try {
      const report = await enroll(deps, version, patient, null, now);
      if (report.status === 'enrolled') enrolled++;
      else skipped++;
    } catch (e) {
      // Temporal being down fails the page (it is retried); one patient's problem does not.
      if (e instanceof TemporalUnreachableError) throw e;
      skipped++;
    }
    heartbeat(patient.id);
  }
  return { enrolled, skipped, next: patients.length === PAGE ? patients[patients.length - 1]!.id : null };
}

export const AudienceExportRequest = z
  .object({
    /** Where the list goes. A file download counts too: a file can be uploaded anywhere (MKT-06). */
    destination: z.object({ kind: z.enum(['ad_platform', 'custom_audience', 'data_coop', 'file']), recipient: z.string().trim().min(1).max(200) }).strict(),
    reason: z.string().trim().min(1).max(500),
  })
  .strict();

/** The columns an identified export holds, as information categories an authorization must cover. */
const EXPORT_FIELDS = ['patient.email', 'patient.givenName', 'patient.familyName'];

export class ExportRefusedError extends Error {
  constructor(
    readonly code: 'identified_exports_disabled' | 'sale_of_phi_not_authorized',
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

/**
 * MKT-06: an identified list of an audience's members leaves Haven only when the deployment has
 * turned such exports on, and only when every member signed an authorization that permits the sale
 * of their PHI to that very recipient (a list handed over for a third party's marketing is a sale,
 * 164.502(a)(5)(ii)). All or nothing; every attempt, refused or not, is audited.
 */
export async function exportAudience(
  deps: JourneyDeps,
  id: string,
  input: unknown,
  principal: string,
): Promise<{ csv: string; members: number }> {
  const { db } = deps;
  const request = AudienceExportRequest.parse(input);
  const audit = (outcome: 'ok' | 'refused', details: Record<string, unknown>) =>
    recordAudit(db, { principal, action: 'audience.export', objectType: 'audience', objectId: id, outcome, details: { destination: request.destination.kind, recipient: request.destination.recipient, reason: request.reason, ...details } });
  if (!deps.identifiedExports) {
    await audit('refused', { code: 'identified_exports_disabled' });
    throw new ExportRefusedError('identified_exports_disabled', 'MKT-06: identified exports are turned off for this deployment (HAVEN_IDENTIFIED_EXPORTS)');
  }
  const audience = await db.audience.findUnique({ where: { id } });
  if (!audience) throw new NotFoundError('audience');

  const now = new Date();
  const members: { email: string; givenName: string | null; familyName: string | null }[] = [];
  let unauthorized = 0;
  let cursor: string | undefined;
  for (;;) {
    const page = await db.patient.findMany({ take: PAGE, ...(cursor ? { skip: 1, cursor: { id: cursor } } : {}), orderBy: { id: 'asc' } });
    for (const patient of page.filter((p) => isMember(audience, p, now.getTime()))) {
      const facts = await loadConsentFacts(db, patient.id);
      const disclosure = { recipient: request.destination.recipient, fields: EXPORT_FIELDS };
      const permitted = facts.authorizations.some((a) => saleOfPhiProblems(a, disclosure, now).length === 0 && representativeProblems(a, facts, deps.consent, now).length === 0);
      if (permitted) members.push({ email: patient.email, givenName: patient.givenName, familyName: patient.familyName });
      else unauthorized++;
    }
    if (page.length < PAGE) break;
    cursor = page[page.length - 1]!.id;
  }
  if (unauthorized > 0) {
    await audit('refused', { code: 'sale_of_phi_not_authorized', members: members.length + unauthorized, unauthorized });
    throw new ExportRefusedError('sale_of_phi_not_authorized', `MKT-06: ${unauthorized} of ${members.length + unauthorized} members have not authorized the sale of their information to this recipient`, {
      members: members.length + unauthorized,
      unauthorized,
    });
  }
  await audit('ok', { members: members.length });
  // A leading = + - @ would make a spreadsheet run the cell as a formula: neutralise it.
  const csv = stringify(
    members.map((m) => [m.email, m.givenName, m.familyName]),
    { header: true, columns: ['email', 'givenName', 'familyName'], escape_formulas: true, record_delimiter: 'windows' },
  );
  return { csv, members: members.length };
}
