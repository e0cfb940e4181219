// The activity signatures the workflow calls; implemented in engine/activities. Workflows import
// these as types only, so no Node code enters the workflow bundle.
import type { SendStatus } from './interpreter.ts';

export interface DeliverEmailRequest {
  enrollmentId: string;
  journeyId: string;
  version: number;
  nodeId: string;
  visit: number;
  template: string;
  idempotencyKey: string;
}

export interface DeliverEmailResult {
  status: SendStatus;
}

export interface DeliveryActivities {
  deliverEmail(request: DeliverEmailRequest): Promise<DeliverEmailResult>;
}

export interface JourneyActivities {
  markEnrollmentCompleted(request: { enrollmentId: string }): Promise<void>;
}
