// People: one account each (SEC-01), a password and always a TOTP second factor (SEC-07), and
// sessions that end after 15 idle minutes or 12 hours in all, revoked server-side on logout
// (SEC-03). The cookie holds a random token; the database only its hash.
import { createHash, randomBytes, scrypt as scryptCb, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';
import { Secret, TOTP } from 'otpauth';
import type { PrismaClient } from '../db/index.ts';
import { openField, sealField, type PayloadKey } from '../phi/index.ts';
import { ROLES, type Principal, type Role } from './roles.ts';

const scrypt = promisify(scryptCb) as (password: string, salt: Buffer, length: number) => Promise<Buffer>;
const tokenHash = (token: string) => createHash('sha256').update(token).digest('hex');
/** Names that stand for a group, not a person: a shared login defeats accountability (SEC-01). */
const SHARED_NAMES = /^(admin|administrator|root|shared|team|staff|office|frontdesk|front-desk|nurses?|info|support|test|user)$/i;

const UNKNOWN_USER_HASH = `scrypt$${randomBytes(16).toString('base64url')}$${randomBytes(32).toString('base64url')}`;

/** Guessing is slowed to 5 tries per 15 minutes per account. */
const MAX_FAILED_LOGINS = 5;
const LOCKOUT_MS = 15 * 60_000;

export interface SessionSettings {
  idleMinutes: number;
  absoluteHours: number;
}

async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  return `scrypt$${salt.toString('base64url')}$${(await scrypt(password, salt, 32)).toString('base64url')}`;
}

async function passwordMatches(password: string, stored: string): Promise<boolean> {
  const [, salt, hash] = stored.split('$');
  if (!salt || !hash) return false;
  const expected = Buffer.from(hash, 'base64url');
  const actual = await scrypt(password, Buffer.from(salt, 'base64url'), 32);
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

function totpFor(secretBase32: string, email: string): TOTP {
  return new TOTP({ issuer: 'Haven', label: email, secret: Secret.fromBase32(secretBase32), digits: 6, period: 30 });
}

export class AccountError extends Error {}

/** A new person; returns a one-time password and the TOTP enrolment URI (show once). */
export async function createUser(db: PrismaClient, keys: PayloadKey[], input: { email: string; name: string; role: Role }) {
  const local = input.email.split('@')[0] ?? '';
  if (SHARED_NAMES.test(local)) throw new AccountError('SEC-01: accounts are for one named person, not a shared mailbox');
  if (!ROLES.includes(input.role)) throw new AccountError(`unknown role ${input.role}`);
  const password = randomBytes(12).toString('base64url');
  const secret = new Secret({ size: 20 }).base32;
  const user = await db.user.create({
    data: { email: input.email.toLowerCase(), name: input.name, role: input.role, passwordHash: await hashPassword(password), totpSealed: sealField(keys, secret, 'totp') },
  });
  return { id: user.id, password, totpUri: totpFor(secret, user.email).toString() };
}

/** Checks password and code; a session token on success, null otherwise (no hint which failed). */
export async function signIn(
  db: PrismaClient,
  keys: PayloadKey[],
  settings: SessionSettings,
  input: { email: string; password: string; code: string },
  now = new Date(),
): Promise<{ token: string; expiresAt: Date; principal: Principal } | null> {
  const user = await db.user.findUnique({ where: { email: input.email.toLowerCase() } });
  // An unknown address costs the same scrypt as a known one, so timing does not reveal accounts.
  const passwordOk = await passwordMatches(input.password, user?.passwordHash ?? UNKNOWN_USER_HASH);
  if (!user || user.disabledAt) return null;
  if (user.lockedUntil && user.lockedUntil > now) return null;
  const totp = totpFor(openField(keys, user.totpSealed, 'totp'), user.email);
  if (!passwordOk || totp.validate({ token: input.code, timestamp: now.getTime(), window: 1 }) === null) {
    const failed = user.failedLogins + 1;
    const locked = failed >= MAX_FAILED_LOGINS;
    await db.user.update({
      where: { id: user.id },
      data: { failedLogins: locked ? 0 : failed, lockedUntil: locked ? new Date(now.getTime() + LOCKOUT_MS) : user.lockedUntil },
    });
    return null;
  }
  if (user.failedLogins > 0) await db.user.update({ where: { id: user.id }, data: { failedLogins: 0 } });
  return openSession(db, settings, user, now);
}

export type SignedIn = { token: string; expiresAt: Date; principal: Principal };

async function openSession(db: PrismaClient, settings: SessionSettings, user: { id: string; role: string }, now: Date): Promise<SignedIn> {
  const token = randomBytes(32).toString('base64url');
  const expiresAt = new Date(now.getTime() + settings.absoluteHours * 3_600_000);
  await db.session.create({ data: { tokenHash: tokenHash(token), userId: user.id, createdAt: now, lastSeenAt: now, expiresAt } });
  return { token, expiresAt, principal: { id: `user:${user.id}`, role: user.role as Role } };
}

/** What the OIDC provider vouched for in a validated ID token. */
export interface ExternalIdentity {
  issuer: string;
  subject: string;
  email: string | null;
  emailVerified: boolean;
  /** Authentication methods (RFC 8176), e.g. ["pwd", "otp"]. */
  amr: string[];
}

/**
 * Signs in a person the provider authenticated. Haven still decides who may enter and with which
 * role: only an account an admin created (matched by subject, or on first sign-in by verified
 * email), not disabled, and only after a second factor the provider reports (SEC-07).
 */
export async function signInWithIdentity(
  db: PrismaClient,
  settings: SessionSettings,
  identity: ExternalIdentity,
  mfaMethods: string[],
  now = new Date(),
): Promise<SignedIn | { refused: 'not_provisioned' | 'disabled' | 'second_factor_required' | 'subject_mismatch' }> {
  const subject = `${identity.issuer}#${identity.subject}`;
  let user = await db.user.findUnique({ where: { oidcSubject: subject } });
  if (!user && identity.email && identity.emailVerified) {
    const byEmail = await db.user.findUnique({ where: { email: identity.email.toLowerCase() } });
    // An account already linked to another identity is not taken over by a matching email.
    if (byEmail?.oidcSubject) return { refused: 'subject_mismatch' };
    user = byEmail;
  }
  if (!user) return { refused: 'not_provisioned' };
  if (user.disabledAt) return { refused: 'disabled' };
  if (!identity.amr.some((m) => mfaMethods.includes(m))) return { refused: 'second_factor_required' };
  if (!user.oidcSubject) await db.user.update({ where: { id: user.id }, data: { oidcSubject: subject } });
  return openSession(db, settings, user, now);
}

/** The principal of a live session; an idle, expired or revoked one is refused (and stays so). */
export async function principalFromSession(db: PrismaClient, settings: SessionSettings, token: string | undefined, now = new Date()): Promise<Principal | null> {
  if (!token) return null;
  const session = await db.session.findUnique({ where: { tokenHash: tokenHash(token) }, include: { user: true } });
  if (!session || session.revokedAt || session.user.disabledAt) return null;
  const idle = now.getTime() - session.lastSeenAt.getTime() > settings.idleMinutes * 60_000;
  if (idle || now >= session.expiresAt) {
    await db.session.update({ where: { id: session.id }, data: { revokedAt: now } });
    return null;
  }
  await db.session.update({ where: { id: session.id }, data: { lastSeenAt: now } });
  return { id: `user:${session.userId}`, role: session.user.role as Role };
}

export async function signOut(db: PrismaClient, token: string | undefined): Promise<void> {
  if (token) await db.session.updateMany({ where: { tokenHash: tokenHash(token), revokedAt: null }, data: { revokedAt: new Date() } });
}

/**
 * Termination (164.308(a)(3)(ii)(C)): the account can no longer sign in and its sessions end now.
 * The row stays, so audit events keep naming a real person.
 */
export async function disableUser(db: PrismaClient, id: string): Promise<boolean> {
  const { count } = await db.user.updateMany({ where: { id, disabledAt: null }, data: { disabledAt: new Date() } });
  if (count) await db.session.updateMany({ where: { userId: id, revokedAt: null }, data: { revokedAt: new Date() } });
  return count > 0;
}
