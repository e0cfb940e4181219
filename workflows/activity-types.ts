// The activity signatures the workflow calls; implemented in engine/activities. Workflows import
// these as types only, so no Node code enters the workflow bundle. Requests carry ids only.
import type { EvaluationResult, Outcome, SendResult } from './interpreter.ts';

export interface NodeRequest {
  enrollmentId: string;
  journeyId: string;
  version: number;
  nodeId: string;
  visit: number;
}

export interface DeliverEmailRequest extends NodeRequest {
  template: string;
  /** `<workflowId>:<node>:<visit>`: stable across retries, worker restarts and continue-as-new. */
  idempotencyKey: string;
}

/** What a reconsidered send comes to without sending: refused, still held, or free to go now. */
export type ReconsideredSend = Extract<SendResult, { status: 'denied' | 'deferred' }> | { status: 'proceed' };

export interface DeliveryActivities {
  deliverEmail(request: DeliverEmailRequest): Promise<SendResult>;
}

export interface JourneyActivities {
  /** Evaluates a condition or wait_until node against current data; only the result enters history. */
  evaluateNode(request: NodeRequest & { visits: Record<string, number> }): Promise<EvaluationResult>;
  updatePatient(request: NodeRequest & { visits: Record<string, number> }): Promise<void>;
  callWebhook(request: NodeRequest & { idempotencyKey: string }): Promise<void>;
  /**
   * Run as a local activity when a deferred send's consent changed: the gate's early look and the
   * send window only, so a revocation ends the wait within the same workflow task.
   */
  reconsiderSend(request: DeliverEmailRequest): Promise<ReconsideredSend>;
  recordGoal(request: { enrollmentId: string; path: string[] }): Promise<void>;
  markEnrollmentEnded(request: { enrollmentId: string; outcome: Outcome | 'failed' }): Promise<void>;
}

export interface AudienceActivities {
  /** Enrolls one page of the journey's audience; `next` is the cursor of the following page. */
  enrollAudiencePage(request: { journeyId: string; cursor: string | null }): Promise<{ enrolled: number; skipped: number; next: string | null }>;
}

export interface AuthorizationCopyActivities {
  /** Emails the patient their copy (AUTH-03); a failure it cannot recover from is non-retryable, typed by reason. */
  sendAuthorizationCopy(request: { authorizationId: string }): Promise<{ status: 'sent' | 'already_sent' }>;
  /** Puts the copy on the staff queue; the authorization stays valid. */
  flagAuthorizationCopy(request: { authorizationId: string; reason: string }): Promise<void>;
}
