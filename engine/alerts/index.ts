// Alerts for the privacy officer (LOG-03, SEC-02): break-glass access, unusual read volume, reads
// after hours, a spike of consent denials, and every export that carries PHI. An
// alert is a row (reviewed with GET /api/alerts, acknowledged by compliance) and an email to
// HAVEN_PRIVACY_OFFICER_EMAIL naming the kind, the principal and where to review it — never a
// patient, nor the reason someone typed. A notice that could not be sent is retried.
import type { PrismaClient } from '../db/index.ts';
import { recordAudit, SYSTEM_PRINCIPAL } from '../audit/index.ts';
import type { Mailer, SenderIdentity } from '../delivery/index.ts';

export type AlertKind = 'break_glass' | 'read_volume' | 'after_hours' | 'deny_spike' | 'phi_export';

export interface AlertNotice {
  id: string;
  kind: string;
  principal: string | null;
  createdAt: Date;
}

export interface AlertNotifier {
  notify(alert: AlertNotice): Promise<void>;
}

const TITLES: Record<string, string> = {
  break_glass: 'break-glass access to PHI started',
  read_volume: 'unusual number of patient records read',
  after_hours: 'a person read patient records outside business hours',
  deny_spike: 'unusual number of consent denials',
  phi_export: 'PHI left Haven in an export',
};

/** Emails the privacy officer; no recipient configured → alerts are only listed (and logged as unsent). */
export function emailNotifier(deps: { mailer: Mailer; to: string; from: SenderIdentity; publicUrl: string; messageIdDomain: string }): AlertNotifier {
  return {
    async notify(alert) {
      const review = `${deps.publicUrl}/api/alerts?open=true`;
      const text = [
        `Haven security alert: ${TITLES[alert.kind] ?? alert.kind}.`,
        '',
        `Who: ${alert.principal ?? 'unknown'}`,
        `When: ${alert.createdAt.toISOString()}`,
        `Alert: ${alert.id}`,
        '',
        `Review and acknowledge it (compliance sign-in): ${review}`,
      ].join('\n');
      await deps.mailer.send({
        from: deps.from,
        to: deps.to,
        subject: `Haven security alert: ${TITLES[alert.kind] ?? alert.kind}`,
        text,
        html: `<pre>${text.replace(/&/g, '&amp;').replace(/</g, '&lt;')}</pre>`,
        messageId: `alert-${alert.id}@${deps.messageIdDomain}`,
      });
    },
  };
}

export async function raiseAlert(db: PrismaClient, notifier: AlertNotifier | null, alert: { kind: AlertKind; principal: string; details: Record<string, string | number | null> }) {
  return announce(db, notifier, await db.alert.create({ data: { kind: alert.kind, principal: alert.principal, details: alert.details } }));
}

/** Audits a new alert and tells the privacy officer (a failed notice is retried later). */
async function announce<A extends AlertNotice>(db: PrismaClient, notifier: AlertNotifier | null, alert: A): Promise<A> {
  await recordAudit(db, { principal: SYSTEM_PRINCIPAL, action: 'alert.raise', objectType: 'alert', objectId: alert.id, outcome: 'ok', details: { kind: alert.kind, subject: alert.principal } });
  if (notifier) await notifyAlert(db, notifier, alert).catch(() => {}); // retried by notifyPendingAlerts
  return alert;
}

async function notifyAlert(db: PrismaClient, notifier: AlertNotifier, alert: AlertNotice): Promise<void> {
  await notifier.notify(alert);
  await db.alert.update({ where: { id: alert.id }, data: { notifiedAt: new Date() } });
}

/** Sends the notices that failed before; returns how many went out. */
export async function notifyPendingAlerts(db: PrismaClient, notifier: AlertNotifier): Promise<number> {
  let sent = 0;
  for (const alert of await db.alert.findMany({ where: { notifiedAt: null }, orderBy: { createdAt: 'asc' }, take: 100 })) {
    await notifyAlert(db, notifier, alert).then(() => sent++, () => {});
  }
  return sent;
}

export function listAlerts(db: PrismaClient, options: { open?: boolean } = {}) {
  return db.alert.findMany({ where: options.open ? { acknowledgedAt: null } : {}, orderBy: { createdAt: 'desc' }, take: 500 });
}

export class AlertNotFoundError extends Error {}

export async function acknowledgeAlert(db: PrismaClient, id: string, principal: string) {
  const { count } = await db.alert.updateMany({ where: { id, acknowledgedAt: null }, data: { acknowledgedAt: new Date(), acknowledgedBy: principal } });
  if (!count) throw new AlertNotFoundError('no open alert with that id');
  return db.alert.findUniqueOrThrow({ where: { id } });
}

export interface ReadVolumeSettings {
  /** Distinct patients one principal may read within `minutes` before an alert. */
  patients: number;
  minutes: number;
}

/** One alert of `kind` (about `principal`, or the deployment) per window, however many callers race. */
async function raiseOncePerWindow(
  db: PrismaClient,
  notifier: AlertNotifier | null,
  kind: AlertKind,
  principal: string | null,
  since: Date,
  details: Record<string, string | number | null>,
): Promise<boolean> {
  const created = await db.$transaction(async (tx) => {
    await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext(${`haven-alert:${kind}:${principal ?? '*'}`}))`;
    if (await tx.alert.findFirst({ where: { kind, principal, createdAt: { gte: since } }, select: { id: true } })) return null;
    return tx.alert.create({ data: { kind, principal, details } });
  });
  if (created) await announce(db, notifier, created);
  return created !== null;
}

/**
 * LOG-03: after a principal read a patient's record, counts the distinct patients it read in the
 * window (from the access log) and raises one alert per window when that reaches the threshold.
 */
export async function checkReadVolume(db: PrismaClient, notifier: AlertNotifier | null, principal: string, settings: ReadVolumeSettings, now = new Date()): Promise<boolean> {
  const since = new Date(now.getTime() - settings.minutes * 60_000);
  const [row] = await db.$queryRaw<{ patients: bigint }[]>`
    SELECT count(DISTINCT details->>'patientId') AS patients FROM "AuditEvent"
    WHERE principal = ${principal} AND at >= ${since} AND details->>'read' = 'true'`;
  const patients = Number(row?.patients ?? 0);
  if (patients < settings.patients) return false;
  return raiseOncePerWindow(db, notifier, 'read_volume', principal, since, { patients, minutes: settings.minutes });
}

/** Business hours in one time zone: `07:00-19:00`, Monday to Friday. */
export interface BusinessHours {
  start: string;
  end: string;
  timeZone: string;
}

export function parseBusinessHours(text: string | undefined, timeZone: string): BusinessHours | null {
  if (!text) return null;
  const match = /^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-3]):([0-5]\d)$/.exec(text.trim());
  if (!match) throw new Error('HAVEN_BUSINESS_HOURS: HH:MM-HH:MM, e.g. 07:00-19:00');
  return { start: `${match[1]}:${match[2]}`, end: `${match[3]}:${match[4]}`, timeZone };
}

export function withinBusinessHours(hours: BusinessHours, at: Date): boolean {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-US', { timeZone: hours.timeZone, weekday: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).formatToParts(at).map((p) => [p.type, p.value]),
  );
  if (parts.weekday === 'Sat' || parts.weekday === 'Sun') return false;
  const hhmm = `${parts.hour}:${parts.minute}`;
  return hours.start <= hours.end ? hhmm >= hours.start && hhmm < hours.end : hhmm >= hours.start || hhmm < hours.end;
}

/** LOG-03: a person (not a service) reading a patient's record outside business hours; one alert an hour. */
export async function checkAfterHours(db: PrismaClient, notifier: AlertNotifier | null, principal: string, hours: BusinessHours | null, now = new Date()): Promise<boolean> {
  if (!hours || !principal.startsWith('user:') || withinBusinessHours(hours, now)) return false;
  return raiseOncePerWindow(db, notifier, 'after_hours', principal, new Date(now.getTime() - 3_600_000), { at: now.toISOString() });
}

/** LOG-03: consent denials across the deployment reaching `denials` within `minutes` (checked periodically). */
export async function checkDenySpike(db: PrismaClient, notifier: AlertNotifier | null, settings: { denials: number; minutes: number }, now = new Date()): Promise<boolean> {
  const since = new Date(now.getTime() - settings.minutes * 60_000);
  const denials = await db.decision.count({ where: { allow: false, at: { gte: since } } });
  if (denials < settings.denials) return false;
  return raiseOncePerWindow(db, notifier, 'deny_spike', null, since, { denials, minutes: settings.minutes });
}
