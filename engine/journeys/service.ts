import type { Client } from '@temporalio/client';
import { validateJourney, type JourneyDefinition, type Problem } from '../../workflows/index.ts';
import type { EngagementType } from '../../workflows/schema.ts';
import { isUniqueViolation, Prisma, type PrismaClient } from '../db/index.ts';
import { templateProblems, type TrackingClaim } from '../delivery/index.ts';
import {
  journeyWorkflowId,
  signalEngagement,
  startOrSignalJourney,
  temporalUiUrl,
  type TemporalSettings,
} from '../temporal/index.ts';
import { JourneyInvalidError, NotFoundError } from './errors.ts';

export interface JourneyServiceDeps {
  db: PrismaClient;
  temporal: Client;
  temporalSettings: TemporalSettings & { deliveryTaskQueue: string; uiUrl: string };
}

export interface EnrollmentReport {
  journeyId: string;
  version: number;
  enrollmentId: string;
  workflowId: string;
  /** `enrolled`: this event started the run; `already_enrolled`: a run exists or has finished. */
  status: 'enrolled' | 'already_enrolled';
}

export type JourneyService = ReturnType<typeof createJourneyService>;

export function createJourneyService({ db, temporal, temporalSettings }: JourneyServiceDeps) {
  /** Schema and graph rules from workflows/, plus template syntax (LiquidJS lives engine-side). */
  function check(input: unknown): JourneyDefinition {
    const result = validateJourney(input);
    if (!result.ok) throw new JourneyInvalidError(result.problems);
    const problems: Problem[] = [];
    for (const [name, template] of Object.entries(result.definition.templates)) {
      for (const p of templateProblems(template)) {
        const users = result.definition.nodes.filter((n) => n.type === 'send_email' && n.template === name);
        problems.push({
          ...(users[0] ? { nodeId: users[0].id } : {}),
          path: `templates.${name}.${p.part}`,
          message: `template "${name}" ${p.part}: ${p.message}`,
        });
      }
    }
    if (problems.length) throw new JourneyInvalidError(problems);
    return result.definition;
  }

  async function enroll(
    version: { id: string; journeyId: string; version: number; definition: Prisma.JsonValue },
    patient: { id: string; ref: string },
    event: { id: string; name: string },
  ): Promise<EnrollmentReport> {
    const workflowId = journeyWorkflowId(version.journeyId, patient.ref);
    let created = true;
    let enrollment = await db.enrollment
      .create({
        data: { journeyId: version.journeyId, versionId: version.id, patientId: patient.id, workflowId, eventId: event.id },
        include: { version: true },
      })
      .catch(async (e: unknown) => {
        if (!isUniqueViolation(e)) throw e;
        created = false;
        return db.enrollment.findUniqueOrThrow({
          where: { journeyId_patientId: { journeyId: version.journeyId, patientId: patient.id } },
          include: { version: true },
        });
      });
    const report = (status: EnrollmentReport['status']): EnrollmentReport => ({
      journeyId: version.journeyId,
      version: enrollment.version.version,
      enrollmentId: enrollment.id,
      workflowId,
      status,
    });
    if (enrollment.status === 'completed') return report('already_enrolled');

    // A run that exists (or a start that failed half-way) is signalled with the same inputs:
    // signal-with-start is idempotent on the workflow id, so this converges.
    try {
      await startOrSignalJourney(
        temporal,
        temporalSettings,
        workflowId,
        {
          journeyId: version.journeyId,
          version: enrollment.version.version,
          enrollmentId: enrollment.id,
          definition: enrollment.version.definition as unknown as JourneyDefinition,
          deliveryTaskQueue: temporalSettings.deliveryTaskQueue,
        },
        { eventId: event.id, name: event.name },
      );
    } catch (e) {
      if (created) await db.enrollment.delete({ where: { id: enrollment.id } });
      throw e;
    }
    if (enrollment.status === 'starting') {
      enrollment = await db.enrollment.update({ where: { id: enrollment.id }, data: { status: 'active' }, include: { version: true } });
    }
    return report(created ? 'enrolled' : 'already_enrolled');
  }

  return {
    validate: check,

    async createJourney(input: unknown): Promise<{ id: string }> {
      const definition = check(input);
      return db.journey.create({ data: { name: definition.name, draft: definition as object }, select: { id: true } });
    },

    async updateDraft(id: string, input: unknown): Promise<void> {
      const definition = check(input);
      const updated = await db.journey.updateMany({ where: { id }, data: { name: definition.name, draft: definition as object } });
      if (updated.count === 0) throw new NotFoundError('journey');
    },

    /** Freezes the current draft as the next version; new enrollments use it, running ones keep theirs. */
    async publish(id: string): Promise<{ version: number }> {
      const journey = await db.journey.findUnique({ where: { id } });
      if (!journey) throw new NotFoundError('journey');
      const definition = check(journey.draft);
      const entry = definition.nodes.find((n) => n.type === 'entry');
      for (let attempt = 0; ; attempt++) {
        const latest = await db.journeyVersion.aggregate({ where: { journeyId: id }, _max: { version: true } });
        const version = (latest._max.version ?? 0) + 1;
        try {
          await db.journeyVersion.create({
            data: { journeyId: id, version, definition: definition as object, entryEvent: entry!.event },
          });
          return { version };
        } catch (e) {
          if (!isUniqueViolation(e) || attempt >= 3) throw e; // a concurrent publish took the number
        }
      }
    },

    async getJourney(id: string) {
      const journey = await db.journey.findUnique({
        where: { id },
        include: { versions: { select: { version: true, publishedAt: true }, orderBy: { version: 'asc' } } },
      });
      if (!journey) throw new NotFoundError('journey');
      return {
        id: journey.id,
        name: journey.name,
        draft: journey.draft,
        versions: journey.versions,
        runsUrl: temporalUiUrl(temporalSettings.uiUrl, temporalSettings.namespace, { query: `JourneyId="${journey.id}"` }),
      };
    },

    async listJourneys() {
      const journeys = await db.journey.findMany({
        orderBy: { createdAt: 'asc' },
        include: { versions: { select: { version: true }, orderBy: { version: 'desc' }, take: 1 } },
      });
      return journeys.map((j) => ({ id: j.id, name: j.name, publishedVersion: j.versions[0]?.version ?? null }));
    },

    async listEnrollments(journeyId: string) {
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
    },

    /** Stores the event and enrolls the patient in every journey whose newest version starts on it. */
    async recordEvent(input: { name: string; patientId: string; data?: Record<string, unknown> }) {
      const patient = await db.patient.findUnique({ where: { id: input.patientId }, select: { id: true, ref: true } });
      if (!patient) throw new NotFoundError('patient');
      const event = await db.event.create({
        data: { name: input.name, patientId: patient.id, data: (input.data ?? {}) as object },
      });
      // The newest version of each journey decides its entry; an older version's entry no longer counts.
      const candidates = await db.journeyVersion.findMany({ where: { entryEvent: input.name }, distinct: ['journeyId'], select: { journeyId: true } });
      const versions = (
        await db.journeyVersion.findMany({
          where: { journeyId: { in: candidates.map((c) => c.journeyId) } },
          distinct: ['journeyId'],
          orderBy: [{ journeyId: 'asc' }, { version: 'desc' }],
        })
      ).filter((v) => v.entryEvent === input.name);
      const enrollments: EnrollmentReport[] = [];
      try {
        for (const version of versions) enrollments.push(await enroll(version, patient, event));
      } catch (e) {
        // Nothing half-written: with no run started for it, the event goes too and the caller retries.
        if (enrollments.length === 0) await db.event.delete({ where: { id: event.id } });
        throw e;
      }
      return { eventId: event.id, enrollments };
    },

    /**
     * Records an open or click for a verified tracking claim and signals the run that sent the
     * message. Returns null when no such message (or link) exists: the caller answers 404.
     */
    async recordEngagement(claim: TrackingClaim): Promise<{ redirect?: string } | null> {
      const message = await db.message.findUnique({
        where: { trackingId: claim.trackingId },
        include: { enrollment: { select: { workflowId: true } } },
      });
      if (!message) return null;
      let redirect: string | undefined;
      if (claim.kind === 'click') {
        const links = message.links as unknown;
        redirect = Array.isArray(links) && typeof links[claim.link] === 'string' ? (links[claim.link] as string) : undefined;
        if (!redirect) return null;
      }
      const type: EngagementType = claim.kind === 'click' ? 'clicked' : 'opened';
      // Only the first engagement of a kind is news to the workflow; the rest are just recorded.
      const alreadySignalled = await db.engagementEvent.count({ where: { messageId: message.id, type, signalled: true } });
      const event = await db.engagementEvent.create({
        data: { messageId: message.id, type, linkIndex: claim.kind === 'click' ? claim.link : null },
      });
      if (alreadySignalled === 0) {
        const signalled = await signalEngagement(temporal, message.enrollment.workflowId, {
          nodeId: message.nodeId,
          visit: message.visit,
          event: type,
        }).catch(() => false); // Temporal unreachable: the engagement is kept; the recipient still gets the pixel or page
        if (signalled) await db.engagementEvent.update({ where: { id: event.id }, data: { signalled: true } });
      }
      return redirect ? { redirect } : {};
    },
  };
}
