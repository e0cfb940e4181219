// AUTH-03: the patient's copy of an authorization the covered entity asked for. Sending is retried
// with backoff; a copy that still cannot be delivered goes to the staff queue (the authorization
// itself stays valid). Started in the same transaction that stores the authorization.
import { ActivityFailure, ApplicationFailure, proxyActivities } from '@temporalio/workflow';
import type { AuthorizationCopyActivities } from './activity-types.ts';

export interface AuthorizationCopyInput {
  authorizationId: string;
  deliveryTaskQueue: string;
  /** Tries before the copy is flagged for staff. */
  maximumAttempts: number;
}

export async function authorizationCopyWorkflow(input: AuthorizationCopyInput): Promise<{ status: string; reason?: string }> {
  const { sendAuthorizationCopy } = proxyActivities<AuthorizationCopyActivities>({
    taskQueue: input.deliveryTaskQueue,
    startToCloseTimeout: '1 minute',
    retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '10 minutes', maximumAttempts: input.maximumAttempts },
  });
  const { flagAuthorizationCopy } = proxyActivities<AuthorizationCopyActivities>({
    taskQueue: input.deliveryTaskQueue,
    startToCloseTimeout: '30 seconds',
    retry: { maximumInterval: '1 minute' },
  });
  try {
    return await sendAuthorizationCopy({ authorizationId: input.authorizationId });
  } catch (e) {
    if (!(e instanceof ActivityFailure)) throw e;
    // The failure type is a reason code (messages are encrypted and may not be PHI-free).
    const reason = e.cause instanceof ApplicationFailure && e.cause.type ? e.cause.type : 'DELIVERY_FAILED';
    await flagAuthorizationCopy({ authorizationId: input.authorizationId, reason });
    return { status: 'failed', reason };
  }
}
