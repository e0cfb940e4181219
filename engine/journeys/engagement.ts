// Engagement (opens, clicks) from verified tracking claims, routed to the run that sent the message.
import type { EngagementType } from '../../workflows/index.ts';
import type { TrackingClaim } from '../delivery/index.ts';
import { signalEngagement } from '../temporal/index.ts';
import type { JourneyDeps } from './deps.ts';

/**
 * Records an open or click and signals the run that sent the message. Returns null when no such
 * message (or link) exists: the caller answers 404.
 */
export async function recordEngagement({ db, temporal }: JourneyDeps, claim: TrackingClaim): Promise<{ redirect?: string } | null> {
  const message = await db.message.findUnique({
    where: { trackingId: claim.trackingId },
    include: { enrollment: { select: { workflowId: true } } },
  });
  if (!message) return null;
  let redirect: string | undefined;
  if (claim.kind === 'click') {
    const links = message.links as unknown;
    redirect = Array.isArray(links) && typeof links[claim.link] === 'string' ? (links[claim.link] as string) : undefined;
    if (!redirect) return null;
  }
  const type: EngagementType = claim.kind === 'click' ? 'clicked' : 'opened';
  // Only the first engagement of a kind is news to the workflow; the rest are just recorded.
  const alreadySignalled = await db.engagementEvent.count({ where: { messageId: message.id, type, signalled: true } });
  const event = await db.engagementEvent.create({
    data: { messageId: message.id, type, linkIndex: claim.kind === 'click' ? claim.link : null },
  });
  if (alreadySignalled === 0) {
    const signalled = await signalEngagement(temporal, message.enrollment.workflowId, {
      nodeId: message.nodeId,
      visit: message.visit,
      event: type,
    }).catch(() => false); // Temporal unreachable: the engagement is kept; the recipient still gets the pixel or page
    if (signalled) await db.engagementEvent.update({ where: { id: event.id }, data: { signalled: true } });
  }
  return redirect ? { redirect } : {};
}
