// Roles and permissions: what each kind of principal may do (MIN-02: PHI only for the roles that
// need it).
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
  /** Limited data sets (still PHI) and the records that govern releases: DUAs, expert determinations. */
  'exports:limited',
  /** Identified audience exports (MKT-06): admin only, and off unless the deployment turns them on. */
  'exports:identified',
  'users:admin',
  /** Approve and retire sender identities (CS-02). */
  'senders:admin',
  /** Decrypt Temporal payloads through the codec server (PHI). */
  'phi:view',
] as const;
export type Permission = (typeof PERMISSIONS)[number];

/** What each role may do. PHI reads (consent:read) are limited to admin and compliance (MIN-02). */
const GRANTS: Record<Role, readonly Permission[]> = {
  admin: PERMISSIONS,
  designer: ['journeys:read', 'journeys:write', 'audiences:write'],
  operator: ['journeys:read', 'patients:write', 'events:write'],
  compliance: ['journeys:read', 'consent:read', 'consent:write', 'audit:read', 'audit:write', 'exports:deidentified', 'exports:limited', 'phi:view'],
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
  /** The break-glass elevation this request runs under (SEC-02), if any. */
  breakGlass?: string;
}

