// Activities: the only doors from workflow code to the world. Thin adapters onto capabilities —
// the logic lives in delivery/, runs/ and journeys/; this file only wires it to the workflow's
// signatures.
import { heartbeat } from '@temporalio/activity';
import type { AudienceActivities, DeliverEmailRequest, DeliveryActivities, JourneyActivities, SendResult } from '../../workflows/index.ts';
import type { PrismaClient } from '../db/index.ts';
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
      evaluateNode: (request) => evaluateNode(db, request),
      updatePatient: (request) => updatePatient(db, request),
      callWebhook: (request) => callWebhook(db, deps.webhooks, request),
      recordGoal: (request) => recordGoal(db, request),
      markEnrollmentEnded: (request) => markEnrollmentEnded(db, request),
      enrollAudiencePage: (request) => deps.journeys.enrollAudiencePage(request, (cursor) => heartbeat(cursor)),
    },
    delivery: {
      deliverEmail: (request) => deps.deliverJourneyEmail(request),
    },
  };
}
