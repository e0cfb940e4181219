// Authentication and authorization for the API: every route names the permission it needs;
// requests carry a principal (SEC-01: a named service account for API keys), and the principal's
// role decides. Public routes are the few a mail client or a patient reaches without an account
// (tracking, unsubscribe) and health. People signing in (sessions with a second factor) build on
// the same principals and roles.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { PrismaClient } from '../db/index.ts';

export const ROLES = ['admin', 'designer', 'operator', 'compliance', 'auditor', 'service'] as const;
export type Role = (typeof ROLES)[number];

export const PERMISSIONS = [
  'journeys:read',
  'journeys:write',
  'audiences:write',
  'patients:write',
  'events:write',
  'consent:read',
  'consent:write',
  'audit:read',
  'audit:write',
  'exports:deidentified',
] as const;
export type Permission = (typeof PERMISSIONS)[number];

/** What each role may do. PHI reads (consent:read) are limited to admin and compliance (MIN-02). */
const GRANTS: Record<Role, readonly Permission[]> = {
  admin: PERMISSIONS,
  designer: ['journeys:read', 'journeys:write', 'audiences:write'],
  operator: ['journeys:read', 'patients:write', 'events:write'],
  compliance: ['journeys:read', 'consent:read', 'consent:write', 'audit:read', 'audit:write', 'exports:deidentified'],
  auditor: ['journeys:read', 'audit:read', 'exports:deidentified'],
  /** Systems that feed Haven (EHR integrations): patients and events only. */
  service: ['patients:write', 'events:write'],
};

export function can(role: string, permission: Permission): boolean {
  return (GRANTS[role as Role] ?? []).includes(permission);
}

export interface Principal {
  /** Unique and stable, as audit events record it: `apikey:<name>`. */
  id: string;
  role: Role;
}

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
