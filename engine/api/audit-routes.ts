// Audit routes (LOG-02..04): verify the chains, sign checkpoints, export the trail, run retention
// and manage legal holds. Permissions and access-log entries are in index.ts with all others.
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { HavenConfig } from '../config.ts';
import type { PrismaClient } from '../db/index.ts';
import {
  auditEventsCsv,
  LegalHoldNotFoundError,
  listLegalHolds,
  MAX_EXPORT_PAGE,
  placeLegalHold,
  queryAuditEvents,
  releaseLegalHold,
  runRetention,
  verifyAudit,
  writeCheckpoints,
} from '../audit/index.ts';

const AuditExportQuery = z
  .object({
    from: z.coerce.date().optional(),
    to: z.coerce.date().optional(),
    principal: z.string().min(1).max(200).optional(),
    action: z.string().min(1).max(100).optional(),
    patientId: z.string().min(1).max(100).optional(),
    after: z.string().regex(/^\d{1,19}$/).transform(BigInt).optional(),
    limit: z.coerce.number().int().min(1).max(MAX_EXPORT_PAGE).default(1_000),
    format: z.enum(['json', 'csv']).default('json'),
  })
  .strict();
const RetentionRequest = z.object({ dryRun: z.boolean().default(false) }).strict();
const NewLegalHold = z.object({ patientId: z.string().min(1).max(100).nullable().optional(), reason: z.string().trim().min(3).max(500) }).strict();
const HoldParams = z.object({ id: z.string().min(1).max(100) });

export function registerAuditRoutes(app: FastifyInstance, deps: { db: PrismaClient; config: HavenConfig }): void {
  const { db, config } = deps;

  // LOG-02: recompute the hash chains and check the signed checkpoints; sign a new checkpoint.
  app.get('/api/audit/verify', async (_req, reply) => {
    const result = await verifyAudit(db, config.auditKeys);
    return reply.code(result.ok ? 200 : 409).send(result);
  });
  app.post('/api/audit/checkpoints', async (_req, reply) => reply.code(201).send({ written: await writeCheckpoints(db, config.auditKeys[0]!) }));

  // LOG-03/04: the trail, filtered and paged (continue with `after=<next>`), as JSON or CSV.
  app.get('/api/audit/events', async (req, reply) => {
    const { format, ...query } = AuditExportQuery.parse(req.query);
    const page = await queryAuditEvents(db, query);
    if (format === 'json') return page;
    if (page.next) reply.header('x-next-after', page.next);
    return reply.type('text/csv; charset=utf-8').header('content-disposition', 'attachment; filename="haven-audit.csv"').send(auditEventsCsv(page.events));
  });

  // LOG-04: the retention job on demand (it also runs daily); a dry run reports what would go.
  app.post('/api/audit/retention', async (req) => {
    const { dryRun } = RetentionRequest.parse(req.body ?? {});
    return runRetention(db, { years: config.retention.years, key: config.auditKeys[0]!, principal: req.principal!.id, dryRun });
  });

  app.get('/api/legal-holds', async () => listLegalHolds(db));
  app.post('/api/legal-holds', async (req, reply) => {
    const hold = NewLegalHold.parse(req.body);
    if (hold.patientId && !(await db.patient.findUnique({ where: { id: hold.patientId }, select: { id: true } }))) {
      return reply.code(404).send({ error: 'not_found', message: 'patient not found' });
    }
    return reply.code(201).send(await placeLegalHold(db, { ...hold, principal: req.principal!.id }));
  });
  app.post('/api/legal-holds/:id/release', async (req, reply) => {
    try {
      return await releaseLegalHold(db, HoldParams.parse(req.params).id, req.principal!.id);
    } catch (e) {
      if (e instanceof LegalHoldNotFoundError) return reply.code(404).send({ error: 'not_found', message: e.message });
      throw e;
    }
  });
}
