// Sends one journey email exactly once. The ledger row (unique idempotency key) is written before
// the SMTP call and moves pending → submitted → accepted | failed | uncertain, so an activity
// retry after a crash or an unclear SMTP outcome never sends a second copy.
import { randomBytes, randomUUID } from 'node:crypto';
import type { PrismaClient } from '../db/index.ts';
import type { DeliverEmailRequest, DeliverEmailResult, JourneyDefinition } from '../../workflows/index.ts';
import { classifySmtpError, describeSmtpError, type Mailer } from './mailer.ts';
import { addTracking, renderTemplate } from './render.ts';
import { newTrackingId, type TrackingTokens } from './tracking.ts';

export interface DeliveryDeps {
  db: PrismaClient;
  mailer: Mailer;
  tracking: TrackingTokens;
  publicUrl: string;
  from: string;
  messageIdDomain: string;
}

export function createJourneyEmailSender(deps: DeliveryDeps) {
  const { db, mailer, tracking } = deps;

  return async function deliverJourneyEmail(req: DeliverEmailRequest): Promise<DeliverEmailResult> {
    const enrollment = await db.enrollment.findUniqueOrThrow({
      where: { id: req.enrollmentId },
      include: { patient: true, version: true },
    });
    const message = await db.message.upsert({
      where: { idempotencyKey: req.idempotencyKey },
      update: {},
      create: {
        idempotencyKey: req.idempotencyKey,
        enrollmentId: enrollment.id,
        patientId: enrollment.patientId,
        nodeId: req.nodeId,
        visit: req.visit,
        trackingId: newTrackingId(randomBytes),
        smtpMessageId: `${randomUUID()}@${deps.messageIdDomain}`,
      },
    });

    if (message.status === 'submitted') {
      // An earlier attempt handed the message to SMTP and never learned the outcome. Sending
      // again could deliver PHI twice; record it for an operator instead.
      await db.message.update({ where: { id: message.id }, data: { status: 'uncertain' } });
      return { status: 'uncertain' };
    }
    if (message.status !== 'pending') return { status: message.status };

    const definition = enrollment.version.definition as unknown as JourneyDefinition;
    const template = definition.templates[req.template];
    if (!template) throw new Error(`template missing from published version ${enrollment.version.version}`);
    const { patient } = enrollment;
    const rendered = await renderTemplate(template, {
      patient: { givenName: patient.givenName, familyName: patient.familyName },
    });
    const base = `${deps.publicUrl}/t`;
    const tracked = addTracking(rendered, {
      open: `${base}/o/${tracking.sign({ trackingId: message.trackingId, kind: 'open', link: 0 })}.gif`,
      click: (link) => `${base}/c/${tracking.sign({ trackingId: message.trackingId, kind: 'click', link })}`,
    });

    // Claim the send: only one attempt can move the row out of `pending`.
    const claimed = await db.message.updateMany({
      where: { id: message.id, status: 'pending' },
      data: { status: 'submitted', links: tracked.links, attempts: { increment: 1 } },
    });
    if (claimed.count === 0) throw new Error('message is being sent by another attempt');

    try {
      const receipt = await mailer.send({
        from: deps.from,
        to: patient.email,
        subject: tracked.subject,
        text: tracked.text,
        html: tracked.html,
        messageId: message.smtpMessageId,
      });
      await db.message.update({
        where: { id: message.id },
        data: { status: 'accepted', smtpResponse: receipt.response.slice(0, 500), sentAt: new Date() },
      });
      return { status: 'accepted' };
    } catch (error) {
      const failure = classifySmtpError(error);
      const description = describeSmtpError(error);
      if (failure === 'permanent') {
        await db.message.update({ where: { id: message.id }, data: { status: 'failed', smtpResponse: description } });
        return { status: 'failed' };
      }
      if (failure === 'retry') {
        await db.message.update({ where: { id: message.id }, data: { status: 'pending', smtpResponse: description } });
      }
      // Left `submitted` when the outcome is unknown: the retry will mark it uncertain.
      throw new Error(`email hand-off failed (${description})`);
    }
  };
}
