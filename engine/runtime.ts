// Composition root: wires configuration to capabilities for the two kinds of Haven process — the
// API (HTTP + Temporal client) and the worker (journey workflows + delivery). Scripts and tests
// build processes from here and nowhere else.
import { readFileSync } from 'node:fs';
import type { WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { createActivities } from './activities/index.ts';
import { checkDenySpike, emailNotifier, notifyPendingAlerts } from './alerts/index.ts';
import { runRetention, SYSTEM_PRINCIPAL, writeCheckpoints } from './audit/index.ts';
import { buildApi } from './api/index.ts';
import type { HavenConfig } from './config.ts';
import { createDb } from './db/index.ts';
import { createJourneyEmailSender, createSmtpMailer, createTrackingTokens } from './delivery/index.ts';
import { createJourneyService } from './journeys/index.ts';
import { encryptAtRest, FieldVault, havenDataConverter } from './phi/index.ts';
import { connectClient, createJourneyWorkers } from './temporal/index.ts';

/** The database client every process uses: PHI columns sealed on write, opened on read. */
export function openDatabase(config: HavenConfig) {
  const raw = createDb(config.databaseUrl);
  const vault = new FieldVault(raw, config.kms);
  return { db: encryptAtRest(raw, vault), vault };
}

export async function createApiProcess(config: HavenConfig, options: { logger?: boolean; logStream?: NodeJS.WritableStream; links?: Record<string, string> } = {}) {
  const { db } = openDatabase(config);
  const temporal = connectClient(config.temporal, havenDataConverter(config.payloadKeys));
  const tracking = createTrackingTokens(config.trackingKeys);
  const journeys = createJourneyService({
    db,
    temporal,
    temporalSettings: config.temporal,
    defaultTimeZone: config.defaultTimeZone,
    consent: config.consent,
    identifiedExports: config.identifiedExports,
  });
  // LOG-03 / SEC-02: alerts reach the privacy officer by email when one is configured.
  const alertMailer = config.alerts.privacyOfficer ? createSmtpMailer(config.smtp.url) : null;
  const alerts = alertMailer
    ? emailNotifier({ mailer: alertMailer, to: config.alerts.privacyOfficer!, from: config.smtp.from, publicUrl: config.api.publicUrl, messageIdDomain: config.smtp.messageIdDomain })
    : null;
  const app = buildApi({ config, db, temporal, journeys, tracking, alerts, ...options });
  // Periodic signed checkpoints of the audit chains (LOG-02); failures are retried next time.
  const checkpoints = setInterval(() => void writeCheckpoints(db, config.auditKeys[0]!).catch(() => {}), config.auditCheckpointMinutes * 60_000);
  checkpoints.unref();
  // LOG-04: the retention job, ten minutes after start and then daily (a process restarted more
  // often than daily still runs it); several API processes may run it, each run waits its turn.
  const retain = () => void runRetention(db, { years: config.retention.years, key: config.auditKeys[0]!, principal: SYSTEM_PRINCIPAL }).catch(() => {});
  const retention = config.retention.job ? [setTimeout(retain, 10 * 60_000), setInterval(retain, 24 * 3_600_000)] : [];
  for (const timer of retention) timer.unref();
  // Every minute: notices that could not be sent, and the deployment-wide denial count (LOG-03).
  const minutely = setInterval(() => {
    if (alerts) void notifyPendingAlerts(db, alerts).catch(() => {});
    void checkDenySpike(db, alerts, config.alerts.denySpike).catch(() => {});
  }, 60_000);
  minutely.unref();
  return {
    app,
    db,
    temporal,
    journeys,
    async listen(): Promise<string> {
      return app.listen({ host: config.api.host, port: config.api.port });
    },
    async close() {
      clearInterval(checkpoints);
      for (const timer of retention) clearTimeout(timer);
      clearInterval(minutely);
      alertMailer?.close();
      await app.close();
      await temporal.connection.close();
      await db.$disconnect();
    },
  };
}

export async function createWorkerProcess(config: HavenConfig, options: { workflowBundle?: WorkflowBundleWithSourceMap } = {}) {
  const { db } = openDatabase(config);
  const mailer = createSmtpMailer(config.smtp.url);
  const journeyEmail = createJourneyEmailSender({
    db,
    mailer,
    tracking: createTrackingTokens(config.trackingKeys),
    publicUrl: config.api.publicUrl,
    from: config.smtp.from,
    senderPolicy: config.smtp.senders,
    messageIdDomain: config.smtp.messageIdDomain,
    defaultTimeZone: config.defaultTimeZone,
    postalAddress: config.consent.postalAddress,
    adLabel: config.consent.adLabel,
  });
  // Audience runs enroll patients, which starts journey runs: the worker needs a client too.
  const dataConverter = havenDataConverter(config.payloadKeys);
  const temporal = connectClient(config.temporal, dataConverter);
  const journeys = createJourneyService({ db, temporal, temporalSettings: config.temporal, defaultTimeZone: config.defaultTimeZone, consent: config.consent });
  const webhooks = { secret: config.webhooks.secret, ...(config.webhooks.caFile ? { ca: readFileSync(config.webhooks.caFile, 'utf8') } : {}) };
  const copies = { db, mailer, from: config.smtp.from, messageIdDomain: config.smtp.messageIdDomain, consent: config.consent };
  const activities = createActivities({ db, journeyEmail, journeys, webhooks, consent: config.consent, copies });
  const workers = await createJourneyWorkers(config.temporal, activities, dataConverter, options.workflowBundle);
  return {
    /** Runs until `shutdown()`; then releases the mail pool and the database. */
    async run() {
      try {
        await workers.run();
      } finally {
        mailer.close();
        await temporal.connection.close();
        await db.$disconnect();
      }
    },
    shutdown: () => workers.shutdown(),
  };
}
