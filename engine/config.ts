// Runtime configuration, read from the environment once. Defaults suit a single development
// machine; README ("Configuration") lists every variable.
import { hkdfSync } from 'node:crypto';
import { parseMailbox, senderProblems, type SenderIdentity, type SenderPolicy } from './delivery/index.ts';
import { parseBusinessHours, type BusinessHours } from './alerts/index.ts';
import type { OidcSettings } from './auth/index.ts';
import { LocalKms, parsePayloadKeys, type KeyManagementService, type PayloadKey } from './phi/index.ts';

export interface HavenConfig {
  api: { host: string; port: number; publicUrl: string };
  databaseUrl: string;
  temporal: {
    address: string;
    namespace: string;
    taskQueue: string;
    deliveryTaskQueue: string;
    uiUrl: string;
    /** Journey runs a worker keeps cached (HAVEN_WORKER_CACHED_RUNS); unset: the SDK's heap-based default. */
    cachedRuns?: number;
  };
  smtp: {
    url: string;
    /** The sender of journeys that name none (MAIL_FROM). */
    from: SenderIdentity;
    messageIdDomain: string;
    /** Verified sending domains and protected names (CS-02). */
    senders: SenderPolicy;
  };
  /** Tracking-token keys, newest first: tokens are signed with the first and verified with any. */
  trackingKeys: { id: string; secret: Buffer }[];
  /** Temporal payload encryption keys, newest first (SEC-10). */
  payloadKeys: PayloadKey[];
  /** Wraps the data keys that seal PHI columns at rest (SEC-04): HAVEN_MASTER_KEYS. */
  kms: KeyManagementService;
  /** Keys that sign audit checkpoints (kept apart from the database), newest first. */
  auditKeys: { id: string; secret: Buffer }[];
  /** How often the API signs a checkpoint of the audit chains. */
  auditCheckpointMinutes: number;
  /** LOG-04, AUTH-10: years audit, decisions and ended authorizations are kept (at least 6); the daily job. */
  retention: { years: number; job: boolean };
  /** SEC-02: the longest a break-glass elevation lasts. */
  breakGlassMinutes: number;
  /** LOG-03: who is told, and what is unusual: read volume, reads after hours, denial spikes. */
  alerts: {
    privacyOfficer: string | null;
    readVolume: { patients: number; minutes: number };
    businessHours: BusinessHours | null;
    denySpike: { denials: number; minutes: number };
  };
  /** Sign-in through the organisation's OpenID Connect provider, when configured. */
  oidc: OidcSettings | null;
  /** Local password + TOTP sign-in: on unless an OIDC provider replaces it. */
  localSignIn: boolean;
  /** Sessions of people: idle and absolute lifetimes (SEC-03). */
  sessions: { idleMinutes: number; absoluteHours: number };
  /** Browser origins allowed to call the codec server (the Temporal Web UI). */
  codecOrigins: string[];
  /** MKT-06: identified audience exports (a sale of PHI unless every member authorized it); off by default. */
  identifiedExports: boolean;
  /** Time zone for send windows of patients with none on record. */
  defaultTimeZone: string;
  webhooks: { secret: string; caFile?: string };
  consent: {
    /** Physical postal address printed on commercial messages (CS-07); empty blocks them. */
    postalAddress: string;
    /** Ad identification on marketing messages (CS-07). */
    adLabel: string;
    /** The Notice of Privacy Practices says the covered entity may send fundraising (FUND-01). */
    nppFundraisingStatement: boolean;
    /** The covered entity's time zone (calendar days, date-only expiries). */
    timeZone: string;
    /** Tries to email an authorization copy before staff are asked to deliver it (AUTH-03). */
    authorizationCopyAttempts: number;
    /** When a parent's authority over a minor's authorizations ends (AUTH-09; state law). */
    ageOfMajority: number;
  };
}

export const DEFAULT_DATABASE_URL = 'postgresql://postgres@127.0.0.1:5432/haven';

export function loadConfig(env: NodeJS.ProcessEnv = process.env): HavenConfig {
  const port = Number(env.PORT ?? 3000);
  const host = env.HOST ?? '127.0.0.1';
  const trackingKeys = parseKeys(env.HAVEN_TRACKING_KEYS, 'HAVEN_TRACKING_KEYS');
  return {
    api: { host, port, publicUrl: (env.PUBLIC_URL ?? `http://127.0.0.1:${port}`).replace(/\/$/, '') },
    databaseUrl: env.DATABASE_URL ?? DEFAULT_DATABASE_URL,
    temporal: temporalConfig(env),
    smtp: smtpConfig(env),
    trackingKeys,
    payloadKeys: parsePayloadKeys(env.HAVEN_PAYLOAD_KEYS),
    kms: new LocalKms(env.HAVEN_MASTER_KEYS),
    auditKeys: parseKeys(env.HAVEN_AUDIT_KEYS, 'HAVEN_AUDIT_KEYS'),
    auditCheckpointMinutes: Number(env.HAVEN_AUDIT_CHECKPOINT_MINUTES ?? 60),
    // The database refuses deletions of anything younger than six years anyway; say so at start-up.
    retention: { years: wholeNumberSetting('HAVEN_RETENTION_YEARS', env.HAVEN_RETENTION_YEARS ?? '6', 6, 'years', ' (45 CFR 164.316(b)(2))'), job: env.HAVEN_RETENTION_JOB !== 'off' },
    breakGlassMinutes: Number(env.HAVEN_BREAK_GLASS_MINUTES ?? 60),
    oidc: oidcConfig(env, port),
    localSignIn: (env.HAVEN_LOCAL_SIGN_IN ?? (env.HAVEN_OIDC_ISSUER ? 'off' : 'on')) === 'on',
    alerts: {
      privacyOfficer: env.HAVEN_PRIVACY_OFFICER_EMAIL?.trim() || null,
      readVolume: { patients: Number(env.HAVEN_ALERT_READ_PATIENTS ?? 200), minutes: Number(env.HAVEN_ALERT_READ_MINUTES ?? 5) },
      businessHours: parseBusinessHours(env.HAVEN_BUSINESS_HOURS, env.HAVEN_DEFAULT_TIMEZONE ?? 'America/New_York'),
      denySpike: { denials: Number(env.HAVEN_ALERT_DENIALS ?? 1000), minutes: Number(env.HAVEN_ALERT_DENIAL_MINUTES ?? 10) },
    },
    sessions: { idleMinutes: Number(env.HAVEN_SESSION_IDLE_MINUTES ?? 15), absoluteHours: Number(env.HAVEN_SESSION_HOURS ?? 12) },
    codecOrigins: codecOrigins(env),
    identifiedExports: env.HAVEN_IDENTIFIED_EXPORTS === 'on',
    defaultTimeZone: env.HAVEN_DEFAULT_TIMEZONE ?? 'America/New_York',
    consent: {
      postalAddress: env.HAVEN_POSTAL_ADDRESS ?? '',
      adLabel: env.HAVEN_AD_LABEL ?? 'This is an advertisement.',
      nppFundraisingStatement: env.HAVEN_NPP_FUNDRAISING === 'true',
      timeZone: env.HAVEN_DEFAULT_TIMEZONE ?? 'America/New_York',
      authorizationCopyAttempts: Number(env.HAVEN_AUTH_COPY_ATTEMPTS ?? 8),
      ageOfMajority: Number(env.HAVEN_AGE_OF_MAJORITY ?? 18),
    },
    webhooks: {
      // Without its own secret, webhook signing uses a key derived from the tracking key.
      secret: env.HAVEN_WEBHOOK_SECRET ?? Buffer.from(hkdfSync('sha256', trackingKeys[0]!.secret, '', 'haven-webhook-signing', 32)).toString('hex'),
      ...(env.HAVEN_WEBHOOK_CA_FILE ? { caFile: env.HAVEN_WEBHOOK_CA_FILE } : {}),
    },
  };
}

function smtpConfig(env: NodeJS.ProcessEnv): HavenConfig['smtp'] {
  const from = parseMailbox(env.MAIL_FROM ?? 'Haven Care Team <care@haven.test>');
  const list = (v: string | undefined) => (v ?? '').split(',').map((x) => x.trim()).filter(Boolean);
  const senders = {
    verifiedDomains: list(env.HAVEN_SENDER_DOMAINS ?? from.address.split('@')[1]),
    verifiedNames: list(env.HAVEN_VERIFIED_SENDER_NAMES),
  };
  // The default sender obeys the same rules as approved ones (a nameless MAIL_FROM is allowed).
  const problems = senderProblems({ ...from, name: from.name || 'x' }, senders);
  if (problems.length) throw new Error(`MAIL_FROM: ${problems.map((p) => `${p.field} ${p.message}`).join('; ')}`);
  return { url: env.SMTP_URL ?? 'smtp://127.0.0.1:1025', from, messageIdDomain: env.MESSAGE_ID_DOMAIN ?? 'haven.test', senders };
}

/** RFC 8176 methods that are, or include, a second factor. */
const MFA_METHODS = 'mfa,otp,hwk,swk,sc,pop,fpt,face,iris';

function oidcConfig(env: NodeJS.ProcessEnv, port: number): OidcSettings | null {
  if (!env.HAVEN_OIDC_ISSUER) return null;
  if (!env.HAVEN_OIDC_CLIENT_ID || !env.HAVEN_OIDC_CLIENT_SECRET) throw new Error('HAVEN_OIDC_ISSUER needs HAVEN_OIDC_CLIENT_ID and HAVEN_OIDC_CLIENT_SECRET');
  const publicUrl = (env.PUBLIC_URL ?? `http://127.0.0.1:${port}`).replace(/\/$/, '');
  return {
    issuer: env.HAVEN_OIDC_ISSUER,
    clientId: env.HAVEN_OIDC_CLIENT_ID,
    clientSecret: env.HAVEN_OIDC_CLIENT_SECRET,
    redirectUri: `${publicUrl}/api/auth/oidc/callback`,
    mfaMethods: (env.HAVEN_OIDC_MFA_METHODS ?? MFA_METHODS).split(',').map((m) => m.trim()).filter(Boolean),
  };
}

/** A whole-number setting with a floor: a value below it, or not a whole number, stops start-up with the setting's name. */
function wholeNumberSetting(name: string, text: string, min: number, unit: string, basis = ''): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < min) throw new Error(`${name}: a whole number of ${unit}, at least ${min}${basis}`);
  return n;
}

export function temporalConfig(env: NodeJS.ProcessEnv = process.env): HavenConfig['temporal'] {
  return {
    address: env.TEMPORAL_ADDRESS ?? '127.0.0.1:7233',
    namespace: env.TEMPORAL_NAMESPACE ?? 'default',
    taskQueue: env.HAVEN_TASK_QUEUE ?? 'haven-journeys',
    deliveryTaskQueue: env.HAVEN_DELIVERY_TASK_QUEUE ?? 'haven-delivery',
    uiUrl: (env.TEMPORAL_UI_URL ?? 'http://127.0.0.1:8233').replace(/\/$/, ''),
    // 0 would turn the cache off and replay every run at every step; 1 is refused by the SDK.
    ...(env.HAVEN_WORKER_CACHED_RUNS ? { cachedRuns: wholeNumberSetting('HAVEN_WORKER_CACHED_RUNS', env.HAVEN_WORKER_CACHED_RUNS, 2, 'runs') } : {}),
  };
}

/** `NAME=k2:<base64 secret>,k1:<base64 secret>` — at least 32 bytes each, newest first. */
function parseKeys(text: string | undefined, name: string): { id: string; secret: Buffer }[] {
  if (!text) throw new Error(`${name} is not set (npm start generates one under .data/; see README "Configuration")`);
  return text.split(',').map((entry) => {
    const [id, b64] = entry.trim().split(':');
    const secret = Buffer.from(b64 ?? '', 'base64');
    if (!id || !/^[A-Za-z0-9]{1,8}$/.test(id) || secret.length < 32) {
      throw new Error(`${name} entries must be "<id>:<base64 secret of at least 32 bytes>"`);
    }
    return { id, secret };
  });
}

/** The Web UI's origin, under both loopback names when it is local. */
function codecOrigins(env: NodeJS.ProcessEnv): string[] {
  if (env.HAVEN_CODEC_ORIGINS) return env.HAVEN_CODEC_ORIGINS.split(',').map((o) => o.trim());
  const ui = new URL(env.TEMPORAL_UI_URL ?? 'http://127.0.0.1:8233');
  const origins = [ui.origin];
  if (ui.hostname === '127.0.0.1') origins.push(`${ui.protocol}//localhost:${ui.port}`);
  if (ui.hostname === 'localhost') origins.push(`${ui.protocol}//127.0.0.1:${ui.port}`);
  return origins;
}
