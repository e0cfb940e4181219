// Break-glass (SEC-02) and the privacy officer's alerts (LOG-03). Permissions and access-log
// entries are in index.ts with all others; the authorization hook there honours an elevation.
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { acknowledgeAlert, AlertNotFoundError, listAlerts, raiseAlert, type AlertNotifier } from '../alerts/index.ts';
import { recordAudit } from '../audit/index.ts';
import { BreakGlassRefusedError, can, endBreakGlass, listBreakGlass, startBreakGlass } from '../auth/index.ts';
import type { HavenConfig } from '../config.ts';
import type { PrismaClient } from '../db/index.ts';

const StartBreakGlass = z.object({ reason: z.string().max(1_000).default(''), minutes: z.number().positive().max(24 * 60).optional() }).strict();
const IdParams = z.object({ id: z.string().min(1).max(100) });
const AlertQuery = z.object({ open: z.enum(['true', 'false']).default('false') }).strict();

export function registerOversightRoutes(app: FastifyInstance, deps: { db: PrismaClient; config: HavenConfig; alerts: AlertNotifier | null }): void {
  const { db, config, alerts } = deps;

  app.post('/api/break-glass', async (req, reply) => {
    const principal = req.principal!;
    try {
      const elevation = await startBreakGlass(db, principal, StartBreakGlass.parse(req.body ?? {}), config.breakGlassMinutes);
      await recordAudit(db, {
        principal: principal.id,
        action: 'break_glass.start',
        objectType: 'break_glass',
        objectId: elevation.id,
        outcome: 'ok',
        details: { role: principal.role, expiresAt: elevation.expiresAt.toISOString() },
      });
      await raiseAlert(db, alerts, { kind: 'break_glass', principal: principal.id, details: { breakGlass: elevation.id, expiresAt: elevation.expiresAt.toISOString() } });
      return reply.code(201).send({ id: elevation.id, startedAt: elevation.startedAt, expiresAt: elevation.expiresAt });
    } catch (e) {
      if (!(e instanceof BreakGlassRefusedError)) throw e;
      await recordAudit(db, { principal: principal.id, action: 'break_glass.start', objectType: 'break_glass', outcome: 'refused', details: { role: principal.role, code: e.code } });
      return reply.code(e.code === 'not_a_person' ? 403 : e.code === 'not_needed' ? 409 : 400).send({ error: e.code, requirement: 'SEC-02', message: e.message });
    }
  });
  app.post('/api/break-glass/:id/end', async (req, reply) => {
    try {
      await endBreakGlass(db, IdParams.parse(req.params).id, req.principal!);
      return reply.code(204).send();
    } catch (e) {
      if (e instanceof BreakGlassRefusedError) return reply.code(404).send({ error: 'not_found', message: e.message });
      throw e;
    }
  });
  // The reason is free text that may name a patient: only roles that may see PHI read it (MIN-02).
  app.get('/api/break-glass', async (req) => {
    const rows = await listBreakGlass(db);
    return can(req.principal!.role, 'phi:view') ? rows : rows.map((r) => ({ ...r, reason: null, reasonWithheld: true }));
  });

  app.get('/api/alerts', async (req) => listAlerts(db, { open: AlertQuery.parse(req.query).open === 'true' }));
  app.post('/api/alerts/:id/acknowledge', async (req, reply) => {
    try {
      return await acknowledgeAlert(db, IdParams.parse(req.params).id, req.principal!.id);
    } catch (e) {
      if (e instanceof AlertNotFoundError) return reply.code(404).send({ error: 'not_found', message: e.message });
      throw e;
    }
  });
}
