// Activities: the only doors from workflow code to the world. Thin adapters onto capabilities —
// the logic lives in delivery/, runs/ and journeys/; this file only wires it to the workflow's
// signatures.
import { ApplicationFailure, heartbeat } from '@temporalio/activity';
import type { AudienceActivities, DeliverEmailRequest, DeliveryActivities, JourneyActivities, SendResult } from '../../workflows/index.ts';
import type { PrismaClient } from '../db/index.ts';
import { EnrollmentNotFoundError } from '../delivery/index.ts';
import type { JourneyService } from '../journeys/index.ts';
import { callWebhook, evaluateNode, markEnrollmentEnded, recordGoal, updatePatient, type WebhookSettings } from '../runs/index.ts';

export interface ActivityDeps {
  db: PrismaClient;
  deliverJourneyEmail: (request: DeliverEmailRequest) => Promise<SendResult>;
  journeys: Pick<JourneyService, 'enrollAudiencePage'>;
  webhooks: WebhookSettings;
}

export function createActivities(deps: ActivityDeps): {
  journey: JourneyActivities & AudienceActivities;
  delivery: DeliveryActivities;
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
      deliverEmail: (request) => final(deps.deliverJourneyEmail(request)),
    },
  };
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
