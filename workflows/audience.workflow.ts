// Started by a journey's Temporal Schedule: enrolls the members of its audience, a page at a
// time (each page an activity that heartbeats), so a large audience never runs as one long call.
import { proxyActivities } from '@temporalio/workflow';
import type { AudienceActivities } from './activity-types.ts';

const { enrollAudiencePage } = proxyActivities<AudienceActivities>({
  startToCloseTimeout: '10 minutes',
  heartbeatTimeout: '1 minute',
  retry: { maximumInterval: '1 minute' },
});

export interface AudienceRunResult {
  enrolled: number;
  skipped: number;
}

export async function audienceRunWorkflow(input: { journeyId: string }): Promise<AudienceRunResult> {
  const total: AudienceRunResult = { enrolled: 0, skipped: 0 };
  let cursor: string | null = null;
  do {
    const page: { enrolled: number; skipped: number; next: string | null } = await enrollAudiencePage({ journeyId: input.journeyId, cursor });
    total.enrolled += page.enrolled;
    total.skipped += page.skipped;
    cursor = page.next;
  } while (cursor);
  return total;
}
