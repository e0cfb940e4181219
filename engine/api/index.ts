// The HTTP API: patients, journeys (draft → publish), events that enroll patients, tracking
// endpoints for opens and clicks, and health. Errors name what was wrong, never patient data;
// request logs carry the route pattern, never the URL (tracking tokens) or bodies.
import { readFile } from 'node:fs/promises';
import Fastify, { type FastifyInstance } from 'fastify';
import { isGrpcServiceError, ServiceError, type Client } from '@temporalio/client';
import { z } from 'zod';
import type { HavenConfig } from '../config.ts';
import type { PrismaClient } from '../db/index.ts';
import { createSender, listSenders, PIXEL_GIF, retireSender, SenderInvalidError, type TrackingTokens } from '../delivery/index.ts';
import { auditEventsInScope, recordAudit, withAuditScope } from '../audit/index.ts';
import {
  AccountError,
  activeBreakGlass,
  BREAK_GLASS_PERMISSIONS,
  can,
  createOidcSignIn,
  createUser,
  disableUser,
  OidcError,
  OidcUnavailableError,
  principalFromApiKey,
  principalFromSession,
  revokeApiKey,
  ROLES,
  signIn,
  signInWithIdentity,
  signOut,
  type Permission,
  type Principal,
  type Role,
} from '../auth/index.ts';
import { PayloadEncryptionCodec } from '../phi/index.ts';
import { registerAuditRoutes } from './audit-routes.ts';
import { registerOversightRoutes } from './oversight-routes.ts';
import { checkAfterHours, checkReadVolume, raiseAlert, type AlertNotifier } from '../alerts/index.ts';
import { payloadsFromJson, payloadsToJson } from './codec-json.ts';
import { ConsentInvalidError, operationOutcome } from '../consent/index.ts';
import {
  createDataUseAgreement,
  createExpertDetermination,
  exportEngagementDeidentified,
  exportEngagementExpertDetermined,
  exportEngagementLimited,
  GovernedExportRefusedError,
  terminateDataUseAgreement,
} from '../exports/index.ts';
import { ExportRefusedError, JourneyInvalidError, NotFoundError, type JourneyService } from '../journeys/index.ts';
import { createPatient, NewPatient, PatientChanges, updatePatient } from '../patients/index.ts';
import { temporalHealthy, TemporalUnreachableError } from '../temporal/index.ts';

export interface ApiDeps {
  config: HavenConfig;
  db: PrismaClient;
  temporal: Client;
  journeys: JourneyService;
  tracking: TrackingTokens;
  /** Tells the privacy officer about alerts (null: alerts are only listed). */
  alerts?: AlertNotifier | null;
  /** Extra links for the index page (the dev inbox, when `npm start` runs one). */
  links?: Record<string, string>;
  logger?: boolean;
  /** Where request logs go (default stdout). */
  logStream?: NodeJS.WritableStream;
}

const NewEvent = z
  .object({
    name: z.string().regex(/^[a-z][a-z0-9_.-]{0,99}$/, 'must be lower-case letters, digits, ".", "_" or "-"'),
    patientId: z.string().min(1).max(100),
    data: z.record(z.string(), z.unknown()).optional(),
  })
  .strict();

const IdParams = z.object({ id: z.string().min(1).max(100) });
/** Tracking tokens are short; anything else is simply not one (404, like a forged token). */
const tokenOf = (params: unknown): string => {
  const token = (params as { token?: unknown }).token;
  return typeof token === 'string' && token.length <= 200 ? token : '';
};

const EDITOR_PAGE = new URL('../../editor/index.html', import.meta.url);

/** Routes anyone may call: health, and what mail clients and patients reach from an email. */
export const PUBLIC_ROUTES = [
  'GET /healthz',
  'GET /t/o/:token',
  'GET /t/c/:token',
  'GET /u/:token',
  'POST /u/:token',
  'GET /',
  'GET /editor/',
  'POST /api/auth/login',
  'POST /api/auth/logout',
  'GET /api/auth/oidc/login',
  'GET /api/auth/oidc/callback',
  // CORS preflight of the codec server carries no credentials; the POST itself is authorized.
  'OPTIONS /codec/encode',
  'OPTIONS /codec/decode',
];

const SESSION_COOKIE = 'haven_session';
const OIDC_FLOW_COOKIE = 'haven_oidc';
const OIDC_REFUSALS = {
  not_provisioned: 'no Haven account for this identity; an admin creates accounts',
  disabled: 'this account is disabled',
  second_factor_required: 'the identity provider did not report a second factor',
  subject_mismatch: 'this email belongs to an account linked to another identity',
} as const;

/** The permission every other route needs. A route missing here is refused to everyone. */
export const ROUTE_PERMISSIONS: Record<string, Permission | 'authenticated'> = {
  'GET /api/auth/me': 'authenticated',
  'POST /api/users': 'users:admin',
  'POST /api/users/:id/disable': 'users:admin',
  'POST /api/api-keys/:name/revoke': 'users:admin',
  'POST /codec/encode': 'phi:view',
  'POST /codec/decode': 'phi:view',
  'POST /api/patients': 'patients:write',
  'PATCH /api/patients/:id': 'patients:write',
  'GET /api/patients/:id/consent': 'consent:read',
  'GET /api/authorization-copies': 'consent:read',
  'POST /api/patients/:id/authorizations': 'consent:write',
  'POST /api/patients/:id/authorizations/fhir': 'consent:write',
  'POST /api/patients/:id/authorizations/:authorizationId/revoke': 'consent:write',
  'POST /api/patients/:id/authorizations/:authorizationId/end': 'consent:write',
  'POST /api/patients/:id/suppressions': 'consent:write',
  'POST /api/patients/:id/directives': 'consent:write',
  'POST /api/patients/:id/unencrypted-email': 'consent:write',
  'POST /api/patients/:id/restrictions': 'consent:write',
  'GET /api/audit/verify': 'audit:read',
  'POST /api/audit/checkpoints': 'audit:write',
  'GET /api/audit/events': 'audit:read',
  'POST /api/audit/retention': 'audit:write',
  'GET /api/legal-holds': 'audit:read',
  'POST /api/legal-holds': 'audit:write',
  'POST /api/legal-holds/:id/release': 'audit:write',
  // SEC-02: anyone signed in may ask (people only, checked by the route); the grant is the elevation.
  'POST /api/break-glass': 'authenticated',
  'POST /api/break-glass/:id/end': 'authenticated',
  'GET /api/break-glass': 'audit:read',
  'GET /api/alerts': 'audit:read',
  'POST /api/alerts/:id/acknowledge': 'audit:write',
  'POST /api/exports/engagement': 'exports:deidentified',
  'POST /api/exports/engagement/limited': 'exports:limited',
  'POST /api/exports/engagement/expert': 'exports:deidentified',
  'POST /api/data-use-agreements': 'exports:limited',
  'GET /api/data-use-agreements': 'exports:limited',
  'POST /api/data-use-agreements/:id/terminate': 'exports:limited',
  'POST /api/expert-determinations': 'exports:limited',
  'GET /api/expert-determinations': 'exports:deidentified',
  'GET /api/journeys': 'journeys:read',
  'POST /api/journeys': 'journeys:write',
  'POST /api/journeys/validate': 'journeys:read',
  'GET /api/journeys/:id': 'journeys:read',
  'PUT /api/journeys/:id': 'journeys:write',
  'POST /api/journeys/:id/publish': 'journeys:write',
  'POST /api/journeys/:id/stop': 'journeys:write',
  'POST /api/journeys/:id/simulate': 'journeys:read',
  'GET /api/journeys/:id/enrollments': 'journeys:read',
  'GET /api/journeys/:id/conversions': 'journeys:read',
  'GET /api/senders': 'journeys:read',
  'POST /api/senders': 'senders:admin',
  'DELETE /api/senders/:id': 'senders:admin',
  'POST /api/audiences': 'audiences:write',
  'GET /api/audiences': 'journeys:read',
  'GET /api/audiences/:id/count': 'journeys:read',
  'POST /api/audiences/:id/exports': 'exports:identified',
  'POST /api/events': 'events:write',
};

/**
 * LOG-01: what each authorized request is recorded as in the audit trail — who (the principal, its
 * role and how it signed in), what (the action), on which object (ids only), the outcome. Where
 * the service itself records a richer event (a journey's send classification, a decode's payload
 * count…), that one stands for the request. A route missing here cannot be registered.
 */
export const ROUTE_AUDIT: Record<string, { action: string; object: string }> = {
  'GET /api/auth/me': { action: 'session.read', object: 'session' },
  'POST /api/users': { action: 'user.create', object: 'user' },
  'POST /api/users/:id/disable': { action: 'user.disable', object: 'user' },
  'POST /api/api-keys/:name/revoke': { action: 'apikey.revoke', object: 'apikey' },
  'POST /codec/encode': { action: 'codec.encode', object: 'temporal.namespace' },
  'POST /codec/decode': { action: 'codec.decode', object: 'temporal.namespace' },
  'POST /api/patients': { action: 'patient.create', object: 'patient' },
  'PATCH /api/patients/:id': { action: 'patient.update', object: 'patient' },
  'GET /api/patients/:id/consent': { action: 'consent.read', object: 'patient' },
  'GET /api/authorization-copies': { action: 'authorization_copy.list', object: 'authorization_copy' },
  'POST /api/patients/:id/authorizations': { action: 'authorization.create', object: 'authorization' },
  'POST /api/patients/:id/authorizations/fhir': { action: 'authorization.import_fhir', object: 'authorization' },
  'POST /api/patients/:id/authorizations/:authorizationId/revoke': { action: 'authorization.revoke', object: 'authorization' },
  'POST /api/patients/:id/authorizations/:authorizationId/end': { action: 'authorization.end', object: 'authorization' },
  'POST /api/patients/:id/suppressions': { action: 'suppression.create', object: 'suppression' },
  'POST /api/patients/:id/directives': { action: 'directive.create', object: 'directive' },
  'POST /api/patients/:id/unencrypted-email': { action: 'unencrypted_email.record', object: 'unencrypted_email_election' },
  'POST /api/patients/:id/restrictions': { action: 'restriction.create', object: 'restriction' },
  'GET /api/audit/verify': { action: 'audit.verify', object: 'audit' },
  'POST /api/audit/checkpoints': { action: 'audit.checkpoint', object: 'audit' },
  'GET /api/audit/events': { action: 'audit.export', object: 'audit' },
  'POST /api/audit/retention': { action: 'retention.run', object: 'retention' },
  'GET /api/legal-holds': { action: 'legal_hold.list', object: 'legal_hold' },
  'POST /api/legal-holds': { action: 'legal_hold.place', object: 'legal_hold' },
  'POST /api/legal-holds/:id/release': { action: 'legal_hold.release', object: 'legal_hold' },
  'POST /api/break-glass': { action: 'break_glass.start', object: 'break_glass' },
  'POST /api/break-glass/:id/end': { action: 'break_glass.end', object: 'break_glass' },
  'GET /api/break-glass': { action: 'break_glass.list', object: 'break_glass' },
  'GET /api/alerts': { action: 'alert.list', object: 'alert' },
  'POST /api/alerts/:id/acknowledge': { action: 'alert.acknowledge', object: 'alert' },
  'POST /api/exports/engagement': { action: 'export.deidentified', object: 'export' },
  'POST /api/exports/engagement/limited': { action: 'export.limited_data_set', object: 'export' },
  'POST /api/exports/engagement/expert': { action: 'export.expert_determined', object: 'export' },
  'POST /api/data-use-agreements': { action: 'dua.create', object: 'data_use_agreement' },
  'GET /api/data-use-agreements': { action: 'dua.list', object: 'data_use_agreement' },
  'POST /api/data-use-agreements/:id/terminate': { action: 'dua.terminate', object: 'data_use_agreement' },
  'POST /api/expert-determinations': { action: 'expert_determination.create', object: 'expert_determination' },
  'GET /api/expert-determinations': { action: 'expert_determination.list', object: 'expert_determination' },
  'GET /api/journeys': { action: 'journey.list', object: 'journey' },
  'POST /api/journeys': { action: 'journey.create', object: 'journey' },
  'POST /api/journeys/validate': { action: 'journey.validate', object: 'journey' },
  'GET /api/journeys/:id': { action: 'journey.read', object: 'journey' },
  'PUT /api/journeys/:id': { action: 'journey.update', object: 'journey' },
  'POST /api/journeys/:id/publish': { action: 'journey.publish', object: 'journey' },
  'POST /api/journeys/:id/stop': { action: 'journey.stop', object: 'journey' },
  'POST /api/journeys/:id/simulate': { action: 'journey.simulate', object: 'journey' },
  'GET /api/journeys/:id/enrollments': { action: 'enrollment.list', object: 'journey' },
  'GET /api/journeys/:id/conversions': { action: 'conversion.read', object: 'journey' },
  'GET /api/senders': { action: 'sender.list', object: 'sender' },
  'POST /api/senders': { action: 'sender.create', object: 'sender' },
  'DELETE /api/senders/:id': { action: 'sender.retire', object: 'sender' },
  'POST /api/audiences': { action: 'audience.create', object: 'audience' },
  'GET /api/audiences': { action: 'audience.list', object: 'audience' },
  'GET /api/audiences/:id/count': { action: 'audience.count', object: 'audience' },
  'POST /api/audiences/:id/exports': { action: 'audience.export', object: 'audience' },
  'POST /api/events': { action: 'event.record', object: 'event' },
};

declare module 'fastify' {
  interface FastifyRequest {
    principal?: Principal;
  }
  interface FastifyInstance {
    havenRoutes: string[];
  }
}

export function buildApi(deps: ApiDeps): FastifyInstance {
  const { db, journeys, tracking, config } = deps;
  const oidc = config.oidc ? createOidcSignIn(config.oidc, config.payloadKeys) : null;
  const app = Fastify({
    bodyLimit: 5 * 1024 * 1024,
    logger: deps.logger
      ? {
          level: 'info',
          ...(deps.logStream ? { stream: deps.logStream } : {}),
          serializers: {
            req: (req) => ({ method: req.method, route: req.routeOptions?.url ?? 'unmatched' }),
            res: (res) => ({ statusCode: res.statusCode }),
          },
        }
      : false,
  });

  // Every route registered, so a test can prove none is left without a permission.
  const registered: string[] = [];
  app.decorate('havenRoutes', registered);
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) {
      if (method === 'HEAD') continue;
      const key = `${method} ${route.url}`;
      if (!PUBLIC_ROUTES.includes(key) && !ROUTE_AUDIT[key]) throw new Error(`${key}: no audit entry (ROUTE_AUDIT)`);
      registered.push(key);
    }
  });

  // Each request counts the audit events it writes (so the generic one below is not doubled).
  app.addHook('onRequest', (_req, _reply, done) => withAuditScope(done));

  // Authorize every matched route: public, or a principal whose role grants the route's permission.
  app.addHook('onRequest', async (req, reply) => {
    const pattern = req.routeOptions.url;
    if (!pattern) return; // no such route: 404 below
    const route = `${req.method} ${pattern}`;
    if (PUBLIC_ROUTES.includes(route)) return;
    const principal =
      (await principalFromApiKey(db, req.headers.authorization)) ??
      (await principalFromSession(db, config.sessions, cookie(req.headers.cookie, SESSION_COOKIE)));
    if (!principal) return reply.code(401).header('www-authenticate', 'Bearer').send({ error: 'unauthenticated', message: 'sign in, or send an API key' });
    const permission = ROUTE_PERMISSIONS[route];
    if (!permission || (permission !== 'authenticated' && !can(principal.role, permission))) {
      // SEC-02: a person's break-glass elevation grants PHI access for its time box, logged as such.
      const elevation = permission && BREAK_GLASS_PERMISSIONS.includes(permission) ? await activeBreakGlass(db, principal.id) : null;
      if (!elevation) {
        await recordAudit(db, { principal: principal.id, action: 'api.access', objectType: 'route', objectId: route, outcome: 'denied', details: { role: principal.role, permission: permission ?? null } });
        return reply.code(403).send({ error: 'forbidden', message: `role ${principal.role} may not ${permission ?? 'use this route'}` });
      }
      req.principal = { ...principal, breakGlass: elevation.id };
      return;
    }
    req.principal = principal;
  });

  // LOG-01: every authorized request leaves an audit event, written before the response goes out.
  // A patient's record read (GET) is marked so that unusual volume raises an alert (LOG-03).
  app.addHook('onSend', async (req, reply, payload) => {
    const entry = ROUTE_AUDIT[`${req.method} ${req.routeOptions.url}`];
    if (!req.principal || !entry) return payload;
    const outcome = reply.statusCode < 400 ? 'ok' : reply.statusCode < 500 ? 'refused' : 'error';
    if (auditEventsInScope() > 0) {
      // The service recorded the request itself; under break-glass, record the elevation's use too.
      if (req.principal.breakGlass) {
        await recordAudit(db, { principal: req.principal.id, action: 'break_glass.access', objectType: 'route', objectId: `${req.method} ${req.routeOptions.url}`, outcome, details: { ...accessDetails(req.principal), status: reply.statusCode } });
      }
      return payload;
    }
    const patientId = auditedPatientId(req.routeOptions.url ?? '', req.params, req.body, payload);
    const read = req.method === 'GET' && patientId !== null && reply.statusCode < 400;
    await recordAudit(db, {
      principal: req.principal.id,
      action: entry.action,
      objectType: entry.object,
      objectId: auditedObjectId(req.params, payload),
      outcome,
      details: { ...accessDetails(req.principal), status: reply.statusCode, patientId, ...(read ? { read: true } : {}) },
    });
    if (read) {
      await checkReadVolume(db, deps.alerts ?? null, req.principal.id, config.alerts.readVolume);
      await checkAfterHours(db, deps.alerts ?? null, req.principal.id, config.alerts.businessHours);
    }
    return payload;
  });

  // Fastify's own 404 logs and echoes the URL; ours says nothing about it.
  app.setNotFoundHandler((_req, reply) => reply.code(404).send({ error: 'not_found', message: 'no such route' }));

  // PostgreSQL cannot store NUL characters: refuse them up front rather than fail half-way.
  app.addHook('preValidation', async (req, reply) => {
    if (req.body !== undefined && JSON.stringify(req.body).includes('\\u0000')) {
      return reply.code(400).send({ error: 'invalid_request', message: 'text may not contain NUL characters' });
    }
  });

  app.setErrorHandler((error, request, reply) => {
    if (error instanceof JourneyInvalidError) {
      return reply.code(400).send({ error: 'invalid_journey', message: error.message, problems: error.problems });
    }
    if (error instanceof ConsentInvalidError) {
      // FHIR clients get an OperationOutcome; everyone else Haven's problem list.
      if (request.url.endsWith('/fhir')) return reply.code(400).type('application/fhir+json').send(operationOutcome(error.problems));
      return reply.code(400).send({ error: 'invalid_consent_record', message: error.message, problems: error.problems });
    }
    if (error instanceof SenderInvalidError) return reply.code(400).send({ error: 'invalid_sender', message: error.message, problems: error.problems });
    if (error instanceof z.ZodError) {
      return reply.code(400).send({
        error: 'invalid_request',
        problems: error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })),
      });
    }
    if (error instanceof NotFoundError) return reply.code(404).send({ error: 'not_found', message: error.message });
    if (error instanceof OidcUnavailableError) return reply.code(503).send({ error: 'identity_provider_unavailable', message: error.message });
    if (error instanceof GovernedExportRefusedError) return reply.code(403).send({ error: error.code, requirement: error.requirement, message: error.message });
    if (error instanceof ExportRefusedError) return reply.code(403).send({ error: error.code, requirement: 'MKT-06', message: error.message, ...error.details });
    const e = error as { statusCode?: number; code?: string; name?: string };
    if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
      if (request.url.endsWith('/fhir')) {
        return reply.code(e.statusCode).type('application/fhir+json').send(operationOutcome([{ path: 'Consent', message: 'the body is not a JSON FHIR resource' }]));
      }
      return reply.code(e.statusCode).send({ error: 'bad_request', message: e.code ?? 'bad request' });
    }
    if (isTemporalUnavailable(error)) {
      return reply.code(503).send({ error: 'temporal_unavailable', message: 'the workflow service is unavailable; retry' });
    }
    // Only the error's kind is logged: messages from drivers can quote row values.
    request.log.error({ err: { name: e.name, code: e.code } }, 'request failed');
    return reply.code(500).send({ error: 'internal', message: 'internal error' });
  });

  app.get('/healthz', async (_req, reply) => {
    const [postgres, temporal] = await Promise.all([
      db.$queryRaw`SELECT 1`.then(() => true, () => false),
      temporalHealthy(deps.temporal),
    ]);
    return reply.code(postgres && temporal ? 200 : 503).send({ status: postgres && temporal ? 'ok' : 'degraded', postgres, temporal });
  });

  app.post('/api/patients', async (req, reply) => {
    const patient = await createPatient(db, NewPatient.parse(req.body));
    return reply.code(201).send(patient);
  });
  app.patch('/api/patients/:id', async (req, reply) => {
    const { id } = IdParams.parse(req.params);
    const changes = PatientChanges.parse(req.body);
    const found = await updatePatient(db, id, changes);
    if (!found) return reply.code(404).send({ error: 'not_found', message: 'patient not found' });
    // A birth date decides whether a parent's authorizations still hold (AUTH-09).
    if (changes.birthDate !== undefined) await journeys.consentFactsChanged(id);
    return reply.code(204).send();
  });

  // Consent ledgers: authorizations and their ends, suppressions, directives, restrictions.
  const PatientAuth = z.object({ id: z.string().min(1).max(100), authorizationId: z.string().min(1).max(100) });
  app.get('/api/patients/:id/consent', async (req) => journeys.consentOverview(IdParams.parse(req.params).id));
  const CopyQuery = z.object({ status: z.enum(['queued', 'sending', 'sent', 'failed']).default('failed') });
  app.get('/api/authorization-copies', async (req) => journeys.listAuthorizationCopies(CopyQuery.parse(req.query).status));
  app.post('/api/patients/:id/authorizations', async (req, reply) =>
    reply.code(201).send(await journeys.recordAuthorization(IdParams.parse(req.params).id, req.body)),
  );
  app.addContentTypeParser('application/fhir+json', { parseAs: 'string' }, (_req, body, done) => {
    try {
      done(null, JSON.parse(body as string));
    } catch {
      done(Object.assign(new Error('invalid JSON'), { statusCode: 400 }), undefined);
    }
  });
  app.post('/api/patients/:id/authorizations/fhir', async (req, reply) =>
    reply.code(201).send(await journeys.recordFhirAuthorization(IdParams.parse(req.params).id, req.body)),
  );
  app.post('/api/patients/:id/authorizations/:authorizationId/revoke', async (req) => {
    const { id, authorizationId } = PatientAuth.parse(req.params);
    return journeys.endAuthorization(id, authorizationId, { ...(req.body as object), kind: 'revocation' });
  });
  app.post('/api/patients/:id/authorizations/:authorizationId/end', async (req) => {
    const { id, authorizationId } = PatientAuth.parse(req.params);
    return journeys.endAuthorization(id, authorizationId, req.body);
  });
  const consentPaths = { suppression: 'suppressions', directive: 'directives', restriction: 'restrictions', unencrypted_email: 'unencrypted-email' } as const;
  for (const [kind, path] of Object.entries(consentPaths) as [keyof typeof consentPaths, string][]) {
    app.post(`/api/patients/:id/${path}`, async (req, reply) =>
      reply.code(201).send(await journeys.recordConsentEntry(IdParams.parse(req.params).id, kind, req.body)),
    );
  }

  // People: sign in with password and TOTP; the session lives in an HttpOnly cookie.
  const Login = z.object({ email: z.string().email().max(320), password: z.string().min(1).max(200), code: z.string().regex(/^\d{6}$/) }).strict();
  const secureCookie = config.api.publicUrl.startsWith('https:') ? '; Secure' : '';
  const sessionCookie = (token: string) => `${SESSION_COOKIE}=${token}; HttpOnly; SameSite=Lax; Path=/; Max-Age=${config.sessions.absoluteHours * 3600}${secureCookie}`;
  if (oidc) {
    // Sign-in through the organisation's OIDC provider: off to the provider, back with a code.
    app.get('/api/auth/oidc/login', async (_req, reply) => {
      const { url, flow } = await oidc.begin();
      return reply.header('set-cookie', `${OIDC_FLOW_COOKIE}=${flow}; HttpOnly; SameSite=Lax; Path=/api/auth/oidc; Max-Age=600${secureCookie}`).redirect(url, 302);
    });
    app.get('/api/auth/oidc/callback', async (req, reply) => {
      const clearFlow = `${OIDC_FLOW_COOKIE}=; HttpOnly; SameSite=Lax; Path=/api/auth/oidc; Max-Age=0`;
      const refuse = async (code: string, message: string) => {
        await recordAudit(db, { principal: 'anonymous', action: 'auth.login', objectType: 'session', outcome: 'denied', details: { method: 'oidc', code } });
        return reply.header('set-cookie', clearFlow).code(401).send({ error: 'unauthenticated', code, message });
      };
      let identity;
      try {
        identity = await oidc.finish(new URL(req.url, config.api.publicUrl), cookie(req.headers.cookie, OIDC_FLOW_COOKIE));
      } catch (e) {
        if (e instanceof OidcError) return refuse('oidc_rejected', e.message);
        throw e;
      }
      const result = await signInWithIdentity(db, config.sessions, identity, config.oidc!.mfaMethods);
      if ('refused' in result) return refuse(result.refused, OIDC_REFUSALS[result.refused]);
      await recordAudit(db, { principal: result.principal.id, action: 'auth.login', objectType: 'session', outcome: 'ok', details: { method: 'oidc', role: result.principal.role } });
      return reply.header('set-cookie', [clearFlow, sessionCookie(result.token)]).redirect('/', 303);
    });
  }
  app.post('/api/auth/login', async (req, reply) => {
    if (!config.localSignIn) return reply.code(403).send({ error: 'local_sign_in_disabled', message: 'sign in through the organisation\'s identity provider: /api/auth/oidc/login' });
    const input = Login.safeParse(req.body);
    const session = input.success ? await signIn(db, config.payloadKeys, config.sessions, input.data) : null;
    await recordAudit(db, { principal: session?.principal.id ?? 'anonymous', action: 'auth.login', objectType: 'session', outcome: session ? 'ok' : 'denied' });
    if (!session) return reply.code(401).send({ error: 'unauthenticated', message: 'email, password or code is wrong' });
    return reply
      .header('set-cookie', sessionCookie(session.token))
      .send({ principal: session.principal.id, role: session.principal.role, expiresAt: session.expiresAt });
  });
  app.post('/api/auth/logout', async (req, reply) => {
    await signOut(db, cookie(req.headers.cookie, SESSION_COOKIE));
    return reply.header('set-cookie', `${SESSION_COOKIE}=; HttpOnly; SameSite=Lax; Path=/; Max-Age=0`).code(204).send();
  });
  app.get('/api/auth/me', async (req) => ({ principal: req.principal!.id, role: req.principal!.role }));
  const NewUser = z.object({ email: z.string().email().max(320), name: z.string().trim().min(1).max(200), role: z.enum(ROLES) }).strict();
  // Termination procedures: a person's account or a service's key stops working at once.
  app.post('/api/users/:id/disable', async (req, reply) =>
    (await disableUser(db, IdParams.parse(req.params).id)) ? reply.code(204).send() : reply.code(404).send({ error: 'not_found', message: 'no active user with that id' }),
  );
  app.post('/api/api-keys/:name/revoke', async (req, reply) =>
    (await revokeApiKey(db, z.object({ name: z.string().min(1).max(200) }).parse(req.params).name))
      ? reply.code(204).send()
      : reply.code(404).send({ error: 'not_found', message: 'no active key with that name' }),
  );
  app.post('/api/users', async (req, reply) => {
    const input = NewUser.parse(req.body);
    try {
      const user = await createUser(db, config.payloadKeys, { ...input, role: input.role as Role });
      await recordAudit(db, { principal: req.principal!.id, action: 'user.create', objectType: 'user', objectId: user.id, outcome: 'ok', details: { role: input.role } });
      return reply.code(201).send(user);
    } catch (e) {
      if (e instanceof AccountError) {
        await recordAudit(db, { principal: req.principal!.id, action: 'user.create', objectType: 'user', outcome: 'refused', details: { role: input.role } });
        return reply.code(400).send({ error: 'invalid_account', message: e.message });
      }
      throw e;
    }
  });

  // Codec server for the Temporal Web UI (and CLI): decrypts payloads for principals allowed to see
  // PHI, from the UI's origin only; every decode is audited (who, which namespace, how many).
  const codec = new PayloadEncryptionCodec(config.payloadKeys);
  const cors = (req: { headers: { origin?: string } }, reply: import('fastify').FastifyReply) => {
    const origin = req.headers.origin;
    if (origin && config.codecOrigins.includes(origin)) {
      reply
        .header('access-control-allow-origin', origin)
        .header('access-control-allow-credentials', 'true')
        .header('access-control-allow-methods', 'POST, OPTIONS')
        .header('access-control-allow-headers', 'content-type, x-namespace, authorization')
        .header('vary', 'origin');
    }
  };
  for (const action of ['encode', 'decode'] as const) {
    app.options(`/codec/${action}`, async (req, reply) => {
      cors(req, reply);
      return reply.code(204).send();
    });
    app.post(`/codec/${action}`, { bodyLimit: 4 * 1024 * 1024 }, async (req, reply) => {
      cors(req, reply);
      const payloads = payloadsFromJson(req.body);
      const result = action === 'decode' ? await codec.decode(payloads) : await codec.encode(payloads);
      const namespace = String(req.headers['x-namespace'] ?? 'default').slice(0, 100);
      await recordAudit(db, { principal: req.principal!.id, action: `codec.${action}`, objectType: 'temporal.namespace', objectId: namespace, outcome: 'ok', details: { payloads: payloads.length } });
      return reply.send(payloadsToJson(result));
    });
  }

  registerAuditRoutes(app, { db, config });
  registerOversightRoutes(app, { db, config, alerts: deps.alerts ?? null });

  // DEID-01..04: engagement data, de-identified (Safe Harbor).
  const ExportRequest = z.object({ journeyId: z.string().min(1).max(100).optional() }).strict();
  app.post('/api/exports/engagement', async (req) => exportEngagementDeidentified(db, { ...ExportRequest.parse(req.body ?? {}), principal: req.principal!.id }));
  // DEID-05/06: releases governed by a record — an expert determination, a data use agreement.
  const GovernedExport = z.object({ recipient: z.string().trim().min(2).max(200), journeyId: z.string().min(1).max(100).optional() });
  app.post('/api/exports/engagement/limited', async (req) => {
    const result = await exportEngagementLimited(db, { ...GovernedExport.extend({ dataUseAgreementId: z.string().min(1).max(100) }).strict().parse(req.body), principal: req.principal!.id });
    await raiseAlert(db, deps.alerts ?? null, { kind: 'phi_export', principal: req.principal!.id, details: { exportId: result.exportId, kind: result.kind, rows: result.rows.length } });
    return result;
  });
  app.post('/api/exports/engagement/expert', async (req) =>
    exportEngagementExpertDetermined(db, {
      ...GovernedExport.extend({ determinationId: z.string().min(1).max(100), fields: z.array(z.string().max(50)).min(1).optional() }).strict().parse(req.body),
      principal: req.principal!.id,
    }),
  );
  app.post('/api/data-use-agreements', async (req, reply) => reply.code(201).send(await createDataUseAgreement(db, req.body, req.principal!.id)));
  app.get('/api/data-use-agreements', async () => db.dataUseAgreement.findMany({ orderBy: { createdAt: 'desc' } }));
  app.post('/api/data-use-agreements/:id/terminate', async (req, reply) =>
    (await terminateDataUseAgreement(db, IdParams.parse(req.params).id, req.principal!.id)) ? reply.code(204).send() : reply.code(404).send({ error: 'not_found', message: 'no data use agreement in force with that id' }),
  );
  app.post('/api/expert-determinations', async (req, reply) => reply.code(201).send(await createExpertDetermination(db, req.body, req.principal!.id)));
  app.get('/api/expert-determinations', async () => db.expertDetermination.findMany({ orderBy: { createdAt: 'desc' } }));

  app.get('/api/journeys', async () => journeys.listJourneys());
  app.post('/api/journeys', async (req, reply) => reply.code(201).send(await journeys.createJourney(req.body, req.principal!.id)));
  app.post('/api/journeys/validate', async (req) => {
    await journeys.validate(req.body);
    return { ok: true };
  });
  app.get('/api/journeys/:id', async (req) => journeys.getJourney(IdParams.parse(req.params).id));
  app.put('/api/journeys/:id', async (req, reply) => {
    await journeys.updateDraft(IdParams.parse(req.params).id, req.body, req.principal!.id);
    return reply.code(204).send();
  });
  app.post('/api/journeys/:id/publish', async (req, reply) => reply.code(201).send(await journeys.publish(IdParams.parse(req.params).id, req.principal!.id)));
  app.post('/api/journeys/:id/stop', async (req) => journeys.stop(IdParams.parse(req.params).id));
  app.post('/api/journeys/:id/simulate', async (req) => journeys.simulate(IdParams.parse(req.params).id, req.body ?? {}));
  app.get('/api/journeys/:id/enrollments', async (req) => journeys.listEnrollments(IdParams.parse(req.params).id));
  app.get('/api/journeys/:id/conversions', async (req) => journeys.conversions(IdParams.parse(req.params).id));

  app.get('/api/senders', async () => listSenders(db));
  app.post('/api/senders', async (req, reply) => reply.code(201).send(await createSender(db, config.smtp.senders, req.body, req.principal!.id)));
  app.delete('/api/senders/:id', async (req, reply) => {
    if (!(await retireSender(db, IdParams.parse(req.params).id, req.principal!.id))) throw new NotFoundError('sender');
    return reply.code(204).send();
  });
  app.post('/api/audiences', async (req, reply) => reply.code(201).send(await journeys.createAudience(req.body)));
  app.get('/api/audiences', async () => journeys.listAudiences());
  app.get('/api/audiences/:id/count', async (req) => journeys.countAudience(IdParams.parse(req.params).id));
  app.post('/api/audiences/:id/exports', async (req, reply) => {
    const audienceId = IdParams.parse(req.params).id;
    const { csv, members } = await journeys.exportAudience(audienceId, req.body, req.principal!.id);
    await raiseAlert(db, deps.alerts ?? null, { kind: 'phi_export', principal: req.principal!.id, details: { audienceId, kind: 'identified_audience', rows: members } });
    return reply.type('text/csv; charset=utf-8').header('cache-control', 'no-store').header('content-disposition', 'attachment; filename="audience.csv"').send(csv);
  });

  app.post('/api/events', async (req, reply) => reply.code(202).send(await journeys.recordEvent(NewEvent.parse(req.body))));

  // Tracking: unauthenticated by nature (mail clients fetch these); the signed token is the key.
  app.get('/t/o/:token', async (req, reply) => {
    const claim = tracking.verify(tokenOf(req.params).replace(/\.gif$/, ''));
    if (!claim || claim.kind !== 'open' || !(await journeys.recordEngagement(claim))) return reply.code(404).send();
    return reply.header('cache-control', 'no-store, private').type('image/gif').send(PIXEL_GIF);
  });
  app.get('/t/c/:token', async (req, reply) => {
    const claim = tracking.verify(tokenOf(req.params));
    const result = claim?.kind === 'click' ? await journeys.recordEngagement(claim) : null;
    if (!result?.redirect) return reply.code(404).type('text/plain').send('This link is not valid.');
    return reply.header('cache-control', 'no-store, private').redirect(result.redirect, 302);
  });

  // One-click unsubscribe (RFC 8058): POST unsubscribes with no login, cookie or confirmation;
  // GET (which mail scanners prefetch) only shows a page with a button. No redirects.
  app.addContentTypeParser(['application/x-www-form-urlencoded', 'multipart/form-data'], { parseAs: 'string' }, (_req, body, done) => done(null, body));
  app.get('/u/:token', async (req, reply) => {
    const claim = tracking.verify(tokenOf(req.params));
    if (claim?.kind !== 'unsubscribe') return reply.code(404).type('text/plain').send('This link is not valid.');
    return reply
      .type('text/html')
      .header('cache-control', 'no-store')
      .send(
        '<!doctype html><meta charset="utf-8"><title>Unsubscribe</title><h1>Unsubscribe</h1>' +
          '<p>Stop receiving these emails? You will still receive messages about your own care.</p>' +
          `<form method="post"><input type="hidden" name="List-Unsubscribe" value="One-Click"><button type="submit">Unsubscribe</button></form>`,
      );
  });
  app.post('/u/:token', async (req, reply) => {
    const claim = tracking.verify(tokenOf(req.params));
    if (claim?.kind !== 'unsubscribe' || !(await journeys.unsubscribe(claim))) return reply.code(404).send();
    const fromBrowser = String(req.headers.accept ?? '').includes('text/html');
    return fromBrowser
      ? reply.type('text/html').send('<!doctype html><meta charset="utf-8"><title>Unsubscribed</title><p>You are unsubscribed.</p>')
      : reply.code(200).send();
  });

  app.get('/', async (_req, reply) => reply.type('text/html').send(indexPage(config, deps.links ?? {})));
  app.get('/editor/', async (_req, reply) => reply.type('text/html').send(await readFile(EDITOR_PAGE)));

  return app;
}

/** How the principal signed in (LOG-01): a service account's key, or a person's password and TOTP. */
function accessDetails(principal: Principal) {
  return { role: principal.role, auth: principal.id.startsWith('user:') ? 'password+totp' : 'api_key', ...(principal.breakGlass ? { breakGlass: principal.breakGlass } : {}) };
}

const idPattern = /^[A-Za-z0-9_:.-]{1,100}$/;
const idOf = (value: unknown): string | null => (typeof value === 'string' && idPattern.test(value) ? value : null);
function responseIds(payload: unknown): Record<string, unknown> {
  if (typeof payload !== 'string' || !payload.startsWith('{')) return {};
  try {
    return JSON.parse(payload) as Record<string, unknown>;
  } catch {
    return {};
  }
}

/** The object a request acted on: the one named in the path, else the one it created. Ids only. */
function auditedObjectId(params: unknown, payload: unknown): string | null {
  const p = (params ?? {}) as Record<string, unknown>;
  const created = responseIds(payload);
  return idOf(p.authorizationId) ?? idOf(p.id) ?? idOf(p.name) ?? idOf(created.id) ?? idOf(created.eventId) ?? null;
}

/** The patient (surrogate id) a request concerns, when it concerns one. */
function auditedPatientId(pattern: string, params: unknown, body: unknown, payload: unknown): string | null {
  if (pattern.startsWith('/api/patients/:id')) return idOf((params as { id?: unknown }).id);
  if (pattern === '/api/patients') return idOf(responseIds(payload).id);
  return idOf((body as { patientId?: unknown } | undefined)?.patientId);
}

/** Temporal did not answer (the client wraps gRPC errors in ServiceError): worth a retry. */
function isTemporalUnavailable(error: unknown): boolean {
  if (error instanceof TemporalUnreachableError) return true;
  const cause = error instanceof ServiceError ? error.cause : error;
  return isGrpcServiceError(cause) && [4, 14].includes(cause.code); // DEADLINE_EXCEEDED, UNAVAILABLE
}

function indexPage(config: HavenConfig, links: Record<string, string>): string {
  const all: Record<string, string> = {
    'Journey editor': '/editor/',
    'Temporal Web UI (journey runs)': config.temporal.uiUrl,
    ...links,
    'Health': '/healthz',
  };
  const items = Object.entries(all)
    .map(([name, href]) => `<li><a href="${href}">${name}</a></li>`)
    .join('');
  return `<!doctype html><html><head><meta charset="utf-8"><title>Haven</title></head><body><h1>Haven</h1><ul>${items}</ul></body></html>`;
}

function cookie(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const [key, ...value] = part.trim().split('=');
    if (key === name) return value.join('=') || undefined;
  }
  return undefined;
}
