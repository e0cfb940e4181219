// Authentication and authorization for the API: every route names the permission it needs;
// requests carry a principal — a named service account's API key, or a person's session (password
// and TOTP) — and the principal's role decides (SEC-01, SEC-03, SEC-07, MIN-02). Public routes are
// the few a mail client or a patient reaches without an account (tracking, unsubscribe) and health.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { PrismaClient } from '../db/index.ts';
import { ROLES, type Principal, type Role } from './roles.ts';

export { can, PERMISSIONS, ROLES, type Permission, type Principal, type Role } from './roles.ts';
export { activeBreakGlass, BREAK_GLASS_PERMISSIONS, BreakGlassRefusedError, endBreakGlass, listBreakGlass, startBreakGlass } from './break-glass.ts';
export { AccountError, createUser, disableUser, principalFromSession, signIn, signInWithIdentity, signOut, type ExternalIdentity, type SessionSettings } from './people.ts';
export { createOidcSignIn, OidcError, OidcUnavailableError, type OidcSettings, type OidcSignIn } from './oidc.ts';

const hash = (secret: string) => createHash('sha256').update(secret).digest();

/** Creates a key for a named service account; the returned key is shown once and never stored. */
export async function createApiKey(db: PrismaClient, name: string, role: Role): Promise<string> {
  if (!ROLES.includes(role)) throw new Error(`unknown role ${role}`);
  const prefix = randomBytes(6).toString('hex');
  const secret = randomBytes(24).toString('base64url');
  await db.apiKey.create({ data: { name, prefix, keyHash: hash(secret).toString('hex'), role } });
  return `hk_${prefix}_${secret}`;
}

/** The principal behind an `Authorization: Bearer hk_…` header, or null. */
export async function principalFromApiKey(db: PrismaClient, header: string | undefined): Promise<Principal | null> {
  const match = /^Bearer hk_([0-9a-f]{12})_([A-Za-z0-9_-]{32})$/.exec(header ?? '');
  if (!match) return null;
  const row = await db.apiKey.findUnique({ where: { prefix: match[1]! } });
  if (!row || row.revokedAt) return null;
  const expected = Buffer.from(row.keyHash, 'hex');
  if (!timingSafeEqual(expected, hash(match[2]!))) return null;
  return { id: `apikey:${row.name}`, role: row.role as Role };
}

/** Ends a service account's key at once (the name stays taken, so old audit events stay unambiguous). */
export async function revokeApiKey(db: PrismaClient, name: string): Promise<boolean> {
  const { count } = await db.apiKey.updateMany({ where: { name, revokedAt: null }, data: { revokedAt: new Date() } });
  return count > 0;
}
