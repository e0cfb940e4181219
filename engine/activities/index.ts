// Activities: the only doors from workflow code to the world. Thin adapters onto capabilities —
// the logic of a send lives in delivery/, this file only wires it to the workflow's signatures.
import type { PrismaClient } from '../db/index.ts';
import type { DeliverEmailRequest, DeliverEmailResult, DeliveryActivities, JourneyActivities } from '../../workflows/index.ts';

export interface ActivityDeps {
  db: PrismaClient;
  deliverJourneyEmail: (request: DeliverEmailRequest) => Promise<DeliverEmailResult>;
}

export function createActivities(deps: ActivityDeps): { journey: JourneyActivities; delivery: DeliveryActivities } {
  return {
    journey: {
      async markEnrollmentCompleted({ enrollmentId }) {
        await deps.db.enrollment.update({ where: { id: enrollmentId }, data: { status: 'completed' } });
      },
    },
    delivery: {
      deliverEmail: (request) => deps.deliverJourneyEmail(request),
    },
  };
}
