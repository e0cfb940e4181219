// Activities: the only doors from workflow code to the world. Thin adapters onto capabilities —
// the logic lives in delivery/, runs/ and journeys/; this file only wires it to the workflow's
// signatures.
import { ApplicationFailure, heartbeat } from '@temporalio/activity';
import type { AudienceActivities, AuthorizationCopyActivities, DeliverEmailRequest, DeliveryActivities, JourneyActivities, NodeOf, ReconsideredSend, SendResult } from '../../workflows/index.ts';
import { recordAudit, type AuditEntry } from '../audit/index.ts';
import { gate, isCommercial, minimumNecessaryProblems, stepOf, type ConsentSettings } from '../consent/index.ts';
import { EnrollmentNotFoundError } from '../db/index.ts';
import type { PrismaClient } from '../db/index.ts';
import { CopyUndeliverableError, flagAuthorizationCopy, sendAuthorizationCopy, templateFields, type CopyDeps, type SendHooks } from '../delivery/index.ts';
import type { JourneyService } from '../journeys/index.ts';
import { callWebhook, evaluateNode, loadRunFacts, markEnrollmentEnded, recordGoal, updatePatient, type WebhookSettings } from '../runs/index.ts';

export interface ActivityDeps {
  db: PrismaClient;
  /** Journey email: the full send, and the early look alone (see `createJourneyEmailSender`). */
  journeyEmail: {
    deliver: (request: DeliverEmailRequest, hooks: SendHooks) => Promise<SendResult>;
    reconsider: (request: DeliverEmailRequest, hooks: SendHooks) => Promise<ReconsideredSend>;
  };
  consent: ConsentSettings;
  journeys: Pick<JourneyService, 'enrollAudiencePage'>;
  webhooks: WebhookSettings;
  /** How authorization copies are emailed (AUTH-03). */
  copies: CopyDeps;
}

export function createActivities(deps: ActivityDeps): {
  journey: JourneyActivities & AudienceActivities;
  delivery: DeliveryActivities & AuthorizationCopyActivities;
} {
  const { db } = deps;
  const run = (action: string, r: { enrollmentId: string; nodeId?: string; visit?: number }) =>
    ({ action, objectType: 'enrollment', objectId: r.enrollmentId, details: { nodeId: r.nodeId ?? null, visit: r.visit ?? null } });
  return {
    journey: {
      evaluateNode: (request) => audited(db, run('patient.evaluate', request), () => final(evaluateNode(db, request))),
      updatePatient: (request) => audited(db, run('patient.update', request), () => final(updatePatient(db, request))),
      callWebhook: (request) => audited(db, run('webhook.call', request), () => final(callWebhook(db, deps.webhooks, request))),
      recordGoal: (request) => audited(db, run('enrollment.goal', request), () => final(recordGoal(db, request))),
      reconsiderSend: (request) =>
        audited(
          db,
          { ...run('message.reconsider', request), details: { nodeId: request.nodeId, visit: request.visit, idempotencyKey: request.idempotencyKey } },
          () => final(withSendHooks(deps, request, deps.journeyEmail.reconsider)),
          (result) => ({
            outcome: result.status === 'denied' ? 'denied' : 'ok',
            details: { status: result.status, ...('reason' in result ? { reasons: result.reason } : {}) },
          }),
        ),
      markEnrollmentEnded: (request) =>
        audited(db, { ...run('enrollment.end', request), details: { outcome: request.outcome } }, () => markEnrollmentEnded(db, request)),
      enrollAudiencePage: (request) =>
        audited(
          db,
          { action: 'audience.enroll', objectType: 'journey', objectId: request.journeyId },
          () => deps.journeys.enrollAudiencePage(request, (cursor) => heartbeat(cursor)),
          (page) => ({ outcome: 'ok', details: { enrolled: page.enrolled, skipped: page.skipped } }),
        ),
    },
    delivery: {
      deliverEmail: (request) =>
        audited(
          db,
          { ...run('message.deliver', request), details: { nodeId: request.nodeId, visit: request.visit, idempotencyKey: request.idempotencyKey } },
          () => final(withSendHooks(deps, request, deps.journeyEmail.deliver)),
          (result) => ({
            outcome: result.status === 'denied' || result.status === 'skipped' ? 'denied' : result.status === 'failed' || result.status === 'uncertain' ? 'error' : 'ok',
            details: { status: result.status, ...('reason' in result ? { reasons: result.reason } : {}) },
          }),
        ),
      sendAuthorizationCopy: ({ authorizationId }) =>
        audited(db, { action: 'authorization_copy.send', objectType: 'authorization', objectId: authorizationId }, async () => {
          try {
            return await sendAuthorizationCopy(deps.copies, authorizationId);
          } catch (e) {
            if (e instanceof CopyUndeliverableError) throw ApplicationFailure.nonRetryable('authorization copy undeliverable', e.reason);
            throw e;
          }
        }),
      flagAuthorizationCopy: ({ authorizationId, reason }) =>
        audited(db, { action: 'authorization_copy.flag', objectType: 'authorization', objectId: authorizationId, details: { reason } }, () =>
          flagAuthorizationCopy(db, authorizationId, reason),
        ),
    },
  };
}

/** Activities act as the worker's own service principal. */
const WORKER_PRINCIPAL = 'service:journey-worker';

/**
 * LOG-01: every activity leaves an audit event — what it did, to which run, with what outcome. A
 * failure is recorded by its kind only (messages can quote data).
 */
async function audited<T>(
  db: PrismaClient,
  entry: { action: string; objectType: string; objectId: string; details?: Record<string, unknown> },
  work: () => Promise<T>,
  verdict: (result: T) => { outcome: AuditEntry['outcome']; details?: Record<string, unknown> } = () => ({ outcome: 'ok' }),
): Promise<T> {
  let result: T;
  try {
    result = await work();
  } catch (e) {
    const kind = e instanceof ApplicationFailure ? (e.type ?? 'ApplicationFailure') : e instanceof Error ? e.name : 'unknown';
    // Best effort: when the database is what failed, the activity's own error matters more.
    await recordAudit(db, { principal: WORKER_PRINCIPAL, ...entry, outcome: 'error', details: { ...entry.details, error: kind } }).catch(() => undefined);
    throw e;
  }
  const { outcome, details } = verdict(result);
  await recordAudit(db, { principal: WORKER_PRINCIPAL, ...entry, outcome, details: { ...entry.details, ...details } });
  return result;
}

/** A journey email: minimum-necessary check, then delivery (or its early look) with the consent gate. */
async function withSendHooks<T>(deps: ActivityDeps, request: DeliverEmailRequest, send: (request: DeliverEmailRequest, hooks: SendHooks) => Promise<T>): Promise<T | { status: 'denied'; reason: string }> {
  const facts = await loadRunFacts(deps.db, request.enrollmentId);
  const node = facts.definition.nodes.find((n): n is NodeOf<'send_email'> => n.id === request.nodeId && n.type === 'send_email');
  const template = node && facts.definition.templates[node.template];
  if (!node || !template) throw new Error(`node ${request.nodeId} is not a send_email node with a template`);
  const fields = templateFields(template);
  const step = stepOf(facts.definition, node, { source: template, fields }, facts.trigger);
  // Re-checked at render: a version published before a rule existed must not slip through.
  if (minimumNecessaryProblems(template, { subject: templateFields(template, 'subject'), body: fields }, node).length) {
    return { status: 'denied', reason: 'MIN_NECESSARY' };
  }
  return send(request, {
    run: { enrollmentId: facts.enrollment.id, patientId: facts.enrollment.patientId, version: facts.enrollment.version, definition: facts.definition, timeZone: facts.timeZone },
    context: { patient: facts.patient, trigger: facts.trigger },
    commercial: isCommercial(step),
    gate: (tx, moment) =>
      gate(
        tx,
        deps.consent,
        { patientId: facts.enrollment.patientId, enrollmentId: request.enrollmentId, nodeId: request.nodeId, phase: 'send', step, principal: WORKER_PRINCIPAL },
        new Date(),
        moment === 'final',
      ),
  });
}

/** A run whose enrollment is gone (its start was rolled back) must not retry: it fails at once. */
async function final<T>(work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (e) {
    if (e instanceof EnrollmentNotFoundError) throw ApplicationFailure.nonRetryable('enrollment not found', 'EnrollmentNotFound');
    throw e;
  }
}
