// Activities: the only doors from workflow code to the world. Thin adapters onto capabilities —
// the logic lives in delivery/, runs/ and journeys/; this file only wires it to the workflow's
// signatures.
import { ApplicationFailure, heartbeat } from '@temporalio/activity';
import type { AudienceActivities, AuthorizationCopyActivities, DeliverEmailRequest, DeliveryActivities, JourneyActivities, NodeOf, SendResult } from '../../workflows/index.ts';
import { gate, isCommercial, minimumNecessaryProblems, stepOf, type ConsentSettings } from '../consent/index.ts';
import { EnrollmentNotFoundError } from '../db/index.ts';
import type { PrismaClient } from '../db/index.ts';
import { CopyUndeliverableError, flagAuthorizationCopy, sendAuthorizationCopy, templateFields, type CopyDeps, type SendHooks } from '../delivery/index.ts';
import type { JourneyService } from '../journeys/index.ts';
import { callWebhook, evaluateNode, loadRunFacts, markEnrollmentEnded, recordGoal, updatePatient, type WebhookSettings } from '../runs/index.ts';

export interface ActivityDeps {
  db: PrismaClient;
  deliverJourneyEmail: (request: DeliverEmailRequest, hooks: SendHooks) => Promise<SendResult>;
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
  return {
    journey: {
      evaluateNode: (request) => final(evaluateNode(db, request)),
      updatePatient: (request) => final(updatePatient(db, request)),
      callWebhook: (request) => final(callWebhook(db, deps.webhooks, request)),
      recordGoal: (request) => final(recordGoal(db, request)),
      markEnrollmentEnded: (request) => markEnrollmentEnded(db, request),
      enrollAudiencePage: (request) => deps.journeys.enrollAudiencePage(request, (cursor) => heartbeat(cursor)),
    },
    delivery: {
      deliverEmail: (request) => final(sendWithConsent(deps, request)),
      sendAuthorizationCopy: async ({ authorizationId }) => {
        try {
          return await sendAuthorizationCopy(deps.copies, authorizationId);
        } catch (e) {
          if (e instanceof CopyUndeliverableError) throw ApplicationFailure.nonRetryable('authorization copy undeliverable', e.reason);
          throw e;
        }
      },
      flagAuthorizationCopy: ({ authorizationId, reason }) => flagAuthorizationCopy(db, authorizationId, reason),
    },
  };
}

/** A journey email: minimum-necessary check, then delivery with the consent gate at the hand-off. */
async function sendWithConsent(deps: ActivityDeps, request: DeliverEmailRequest): Promise<SendResult> {
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
  return deps.deliverJourneyEmail(request, {
    context: { patient: facts.patient, trigger: facts.trigger },
    commercial: isCommercial(step),
    gate: (tx, moment) =>
      gate(
        tx,
        deps.consent,
        { patientId: facts.enrollment.patientId, enrollmentId: request.enrollmentId, nodeId: request.nodeId, phase: 'send', step, principal: 'service:journey-worker' },
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
