// Started by a journey's Temporal Schedule: enrolls the members of its audience, a page at a
// time (each page an activity that heartbeats), so a large audience never runs as one long call.
import { continueAsNew, proxyActivities } from '@temporalio/workflow';
import type { AudienceActivities } from './activity-types.ts';

const { enrollAudiencePage } = proxyActivities<AudienceActivities>({
  startToCloseTimeout: '10 minutes',
  heartbeatTimeout: '1 minute',
  // A page that keeps failing must not block every later firing of the schedule (overlap: skip).
  retry: { maximumInterval: '1 minute', maximumAttempts: 10 },
});

/** Pages per run before continuing as new, to keep the history short for any audience size. */
const PAGES_PER_RUN = 100;

export interface AudienceRunResult {
  enrolled: number;
  skipped: number;
}

export async function audienceRunWorkflow(input: { journeyId: string; cursor?: string | null; total?: AudienceRunResult }): Promise<AudienceRunResult> {
  const total: AudienceRunResult = input.total ?? { enrolled: 0, skipped: 0 };
  let cursor: string | null = input.cursor ?? null;
  for (let pages = 0; pages === 0 || cursor; pages++) {
    if (pages === PAGES_PER_RUN) return continueAsNew<typeof audienceRunWorkflow>({ journeyId: input.journeyId, cursor, total });
    const page: { enrolled: number; skipped: number; next: string | null } = await enrollAudiencePage({ journeyId: input.journeyId, cursor });
    total.enrolled += page.enrolled;
    total.skipped += page.skipped;
    cursor = page.next;
  }
  return total;
}
