// Emergency access (SEC-02): a person whose role does not grant PHI access may "break the glass" —
// with a reason, for a bounded time, after which it lapses by itself. While it lasts, each request
// it allows is logged as break-glass; starting one alerts the privacy officer (the API does that).
// Only people signed in may do it: a service key has no one to hold to account.
import type { PrismaClient } from '../db/index.ts';
import { can, type Permission, type Principal } from './roles.ts';

/** What an elevation grants beyond the person's role. */
export const BREAK_GLASS_PERMISSIONS: readonly Permission[] = ['consent:read', 'phi:view'];

export class BreakGlassRefusedError extends Error {
  constructor(
    readonly code: 'not_a_person' | 'not_needed' | 'reason_required' | 'not_found',
    message: string,
  ) {
    super(message);
  }
}

export async function startBreakGlass(db: PrismaClient, principal: Principal, request: { reason: string; minutes?: number | undefined }, maxMinutes: number) {
  if (!principal.id.startsWith('user:')) throw new BreakGlassRefusedError('not_a_person', 'break-glass is for people signed in, not API keys');
  if (BREAK_GLASS_PERMISSIONS.every((p) => can(principal.role, p))) throw new BreakGlassRefusedError('not_needed', `role ${principal.role} already has PHI access`);
  const reason = request.reason.trim();
  if (reason.length < 10) throw new BreakGlassRefusedError('reason_required', 'say why (at least 10 characters): it goes to the privacy officer');
  const minutes = Math.min(request.minutes ?? maxMinutes, maxMinutes);
  const now = new Date();
  return db.breakGlass.create({ data: { principal: principal.id, role: principal.role, reason, startedAt: now, expiresAt: new Date(now.getTime() + minutes * 60_000) } });
}

/** The principal's elevation in force now, if any. */
export function activeBreakGlass(db: PrismaClient, principalId: string, now = new Date()) {
  return db.breakGlass.findFirst({ where: { principal: principalId, endedAt: null, expiresAt: { gt: now } }, orderBy: { startedAt: 'desc' }, select: { id: true } });
}

/** Ends an elevation early: its holder, or an admin. */
export async function endBreakGlass(db: PrismaClient, id: string, principal: Principal) {
  const { count } = await db.breakGlass.updateMany({
    where: { id, endedAt: null, ...(principal.role === 'admin' ? {} : { principal: principal.id }) },
    data: { endedAt: new Date() },
  });
  if (!count) throw new BreakGlassRefusedError('not_found', 'no break-glass in force with that id of yours');
}

export function listBreakGlass(db: PrismaClient) {
  return db.breakGlass.findMany({ orderBy: { startedAt: 'desc' }, take: 500 });
}
