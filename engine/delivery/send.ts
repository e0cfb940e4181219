// Sends one journey email exactly once, at an allowed time, with consent. In order: an early
// consent look (a send that may not go out is denied now rather than after waiting); the send
// window (quiet hours in the patient's time zone); the cross-journey frequency cap, reserved under
// a per-patient lock; then the final consent decision and the claim of the ledger row, in one
// transaction under that lock. The row (unique idempotency key), written before the SMTP call,
// moves pending → submitted → accepted | failed | uncertain (or denied), so an activity retry after
// a crash or an unclear SMTP outcome never sends a second copy.
import { randomBytes, randomUUID } from 'node:crypto';
import type { Prisma, PrismaClient } from '../db/index.ts';
import {
  capDecision,
  durationToMs,
  sendWindowFor,
  timeZoneFor,
  windowDecision,
  type DeliverEmailRequest,
  type JourneyDefinition,
  type NodeOf,
  type ReconsideredSend,
  type SendResult,
} from '../../workflows/index.ts';
import { classifySmtpError, describeSmtpError, type Mailer } from './mailer.ts';
import { addTracking, renderTemplate, type RenderContext, type TrackedEmail } from './render.ts';
import { hasControlCharacters, senderProblems, type SenderIdentity, type SenderPolicy } from './senders.ts';
import { newTrackingId, type TrackingTokens } from './tracking.ts';

export interface DeliveryDeps {
  db: PrismaClient;
  mailer: Mailer;
  tracking: TrackingTokens;
  publicUrl: string;
  /** The sender of journeys that name none. */
  from: SenderIdentity;
  senderPolicy: SenderPolicy;
  messageIdDomain: string;
  /** Time zone for patients who have none on record. */
  defaultTimeZone: string;
  /** Footer of commercial messages (CS-07): the ad label and the postal address. */
  postalAddress: string;
  adLabel: string;
  now?: () => number;
}

/** What the caller (the send activity) supplies for one message. */
export interface SendHooks {
  /** The run as the caller loaded it (the sender does not read the enrollment again). */
  run: { enrollmentId: string; patientId: string; version: number; definition: JourneyDefinition; timeZone: string | null };
  /** Template data: declared fields only. */
  context: RenderContext;
  /** Commercial under CAN-SPAM (CS-01): gets the footer and one-click unsubscribe. */
  commercial: boolean;
  /**
   * The consent decision. `final` is made inside the transaction that claims the message, under
   * the per-patient lock that consent writes also take: a revocation either lands before it (and
   * is seen) or after the hand-off began (and applies from the next message). An early look, before
   * waiting for a send window or a cap, spares waiting for a send that may not go out at all.
   */
  gate: (tx: Prisma.TransactionClient | PrismaClient, moment: 'early' | 'final') => Promise<{ allow: boolean; reasons: string[]; address?: string }>;
}

/** Messages that count toward a frequency cap: everything handed over or about to be. */
const COUNTED = ['pending', 'submitted', 'accepted', 'uncertain'] as const;

export function createJourneyEmailSender(deps: DeliveryDeps) {
  const { db, mailer, tracking } = deps;

  async function load(req: DeliverEmailRequest, { run }: SendHooks) {
    const node = run.definition.nodes.find((n): n is NodeOf<'send_email'> => n.id === req.nodeId && n.type === 'send_email');
    if (!node) throw new Error(`node ${req.nodeId} is not a send_email node of version ${run.version}`);
    const message = await db.message.findUnique({ where: { idempotencyKey: req.idempotencyKey } });
    return { run, node, message };
  }

  /**
   * Before anything is reserved: the early consent look, then quiet hours. Both are asked at every
   * attempt that has not handed the message over yet; a denial also closes a pending ledger row.
   */
  async function earlyLook({ run, node, message }: Awaited<ReturnType<typeof load>>, hooks: SendHooks): Promise<ReconsideredSend> {
    // A row already decided speaks for itself; one handed to SMTP is for the full send to settle.
    if (message?.status === 'denied') return { status: 'denied', reason: message.smtpResponse ?? 'denied' };
    if (message && message.status !== 'pending') return { status: 'proceed' };
    const early = await hooks.gate(db, 'early');
    if (!early.allow) {
      if (message) await db.message.updateMany({ where: { id: message.id, status: 'pending' }, data: { status: 'denied', smtpResponse: early.reasons.join(',') } });
      return { status: 'denied', reason: early.reasons.join(', ') };
    }
    const now = deps.now?.() ?? Date.now();
    return windowDecision(sendWindowFor(run.definition, node), timeZoneFor(run.timeZone, deps.defaultTimeZone), now) ?? { status: 'proceed' };
  }

  return {
    /**
     * The early look alone, for a deferred send whose patient's consent changed: the run learns at
     * once whether the send is now refused (the denial is recorded as at any send) or still held,
     * and runs the full send only when it may go now.
     */
    reconsider: async (req: DeliverEmailRequest, hooks: SendHooks): Promise<ReconsideredSend> => earlyLook(await load(req, hooks), hooks),
    deliver: (req: DeliverEmailRequest, hooks: SendHooks) => deliverJourneyEmail(req, hooks),
  };

  async function deliverJourneyEmail(req: DeliverEmailRequest, hooks: SendHooks): Promise<SendResult> {
    const loaded = await load(req, hooks);
    const { run, node } = loaded;
    const { definition } = run;
    let { message } = loaded;
    const look = await earlyLook(loaded, hooks);
    if (look.status !== 'proceed') return look;

    if (!message) {
      // Count and reserve under a per-patient lock, so two journeys cannot both take the last slot.
      const cap = definition.rules.frequencyCap;
      const reserved = await db.$transaction(async (tx) => {
        await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext(${run.patientId}))`;
        const again = await tx.message.findUnique({ where: { idempotencyKey: req.idempotencyKey } });
        if (again) return again;
        if (cap) {
          const lockedAt = deps.now?.() ?? Date.now(); // after the lock: rows reserved meanwhile count
          const recent = await tx.message.findMany({
            where: { patientId: run.patientId, status: { in: [...COUNTED] }, createdAt: { gt: new Date(lockedAt - durationToMs(cap.per)!) } },
            select: { createdAt: true },
          });
          const held = capDecision(cap, recent.map((m) => m.createdAt.getTime()), lockedAt);
          if (held) return held;
        }
        return tx.message.create({
          data: {
            idempotencyKey: req.idempotencyKey,
            enrollmentId: run.enrollmentId,
            patientId: run.patientId,
            nodeId: req.nodeId,
            visit: req.visit,
            trackingId: newTrackingId(randomBytes),
            smtpMessageId: `${randomUUID()}@${deps.messageIdDomain}`,
          },
        });
      });
      if (!('idempotencyKey' in reserved)) return reserved; // held by the cap
      message = reserved;
    }

    if (message.status === 'submitted') {
      // An earlier attempt handed the message to SMTP and never learned the outcome. Sending
      // again could deliver PHI twice; record it for an operator instead.
      await db.message.update({ where: { id: message.id }, data: { status: 'uncertain' } });
      return { status: 'uncertain' };
    }
    // A denied row keeps the reason codes where a sent one keeps the SMTP reply.
    if (message.status === 'denied') return { status: 'denied', reason: message.smtpResponse ?? 'denied' };
    if (message.status !== 'pending') return { status: message.status };

    const template = definition.templates[req.template];
    if (!template) throw new Error(`template missing from published version ${run.version}`);
    const rendered = await renderTemplate(template, hooks.context);
    const base = `${deps.publicUrl}/t`;
    const tracked = addTracking(rendered, {
      open: `${base}/o/${tracking.sign({ trackingId: message.trackingId, kind: 'open', link: 0 })}.gif`,
      click: (link) => `${base}/c/${tracking.sign({ trackingId: message.trackingId, kind: 'click', link })}`,
    });
    const unsubscribe = `${deps.publicUrl}/u/${tracking.sign({ trackingId: message.trackingId, kind: 'unsubscribe', link: 0 })}`;
    const email = hooks.commercial ? withCommercialFooter(tracked, { ...deps, unsubscribe }) : tracked;
    const messageId = message.id;

    // CS-02: an approved, still valid sender, and no header a line break could split.
    const senderId = node.sender ?? definition.sender;
    const sender = senderId ? await db.sender.findUnique({ where: { id: senderId } }) : { ...deps.from, retiredAt: null };
    const refusal = sender ? senderRefusal(sender, deps.senderPolicy, email.subject) : 'SENDER_NOT_APPROVED';
    if (refusal !== undefined || !sender) {
      const reason = refusal ?? 'SENDER_NOT_APPROVED';
      await db.message.updateMany({ where: { id: messageId, status: 'pending' }, data: { status: 'denied', smtpResponse: reason } });
      return { status: 'denied', reason };
    }

    // Decide and claim in one transaction: only one attempt can move the row out of `pending`,
    // and only with consent as it stands at that moment.
    const claim = await db.$transaction(async (tx) => {
      await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext(${run.patientId}))`;
      const decision = await hooks.gate(tx, 'final');
      if (!decision.allow || !decision.address) {
        await tx.message.updateMany({ where: { id: messageId, status: 'pending' }, data: { status: 'denied', smtpResponse: decision.reasons.join(',') } });
        return { decision, claimed: false };
      }
      const claimed = await tx.message.updateMany({
        where: { id: messageId, status: 'pending' },
        data: { status: 'submitted', links: email.links, attempts: { increment: 1 } },
      });
      return { decision, claimed: claimed.count === 1 };
    });
    if (!claim.decision.allow || !claim.decision.address) return { status: 'denied', reason: claim.decision.reasons.join(', ') };
    if (!claim.claimed) throw new Error('message is being sent by another attempt');

    try {
      const receipt = await mailer.send({
        from: { name: sender.name, address: sender.address },
        ...(sender.replyTo ? { replyTo: sender.replyTo } : {}),
        to: claim.decision.address,
        subject: email.subject,
        text: email.text,
        html: email.html,
        messageId: message.smtpMessageId,
        ...(hooks.commercial
          ? { headers: { 'List-Unsubscribe': `<${unsubscribe}>`, 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click' } }
          : {}),
      });
      await db.message.updateMany({
        where: { id: message.id, status: 'submitted' },
        data: { status: 'accepted', smtpResponse: receipt.response.slice(0, 500), sentAt: new Date() },
      });
      return { status: 'accepted' };
    } catch (error) {
      const failure = classifySmtpError(error);
      const description = describeSmtpError(error);
      // Only from `submitted`: a slower, abandoned attempt must not overwrite a newer verdict.
      const submitted = { id: message.id, status: 'submitted' as const };
      if (failure === 'permanent') {
        await db.message.updateMany({ where: submitted, data: { status: 'failed', smtpResponse: description } });
        return { status: 'failed' };
      }
      if (failure === 'retry') await db.message.updateMany({ where: submitted, data: { status: 'pending', smtpResponse: description } });
      // Left `submitted` when the outcome is unknown: the retry will mark it uncertain.
      throw new Error(`email hand-off failed (${description})`);
    }
  }
}

function senderRefusal(sender: SenderIdentity & { retiredAt: Date | null }, policy: SenderPolicy, subject: string): string | undefined {
  if (sender.retiredAt || senderProblems({ ...sender, name: sender.name || 'x' }, policy).length) return 'SENDER_NOT_APPROVED';
  if ([sender.name, sender.address, sender.replyTo ?? '', subject].some(hasControlCharacters)) return 'HEADER_INJECTION';
  return undefined;
}

/**
 * CS-07: ad identification, the sender's postal address and a working opt-out. Haven records no
 * affirmative consent to commercial email, so the ad label is always there.
 */
function withCommercialFooter(email: TrackedEmail, f: { postalAddress: string; adLabel: string; unsubscribe: string }): TrackedEmail {
  const lines = [f.adLabel, f.postalAddress, `To stop receiving these emails, unsubscribe: ${f.unsubscribe}`];
  const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
  const html = `<hr><p style="font-size:12px;color:#555">${lines
    .slice(0, -1)
    .map(esc)
    .join('<br>')}<br><a href="${esc(f.unsubscribe)}">Unsubscribe</a></p>`;
  return {
    ...email,
    text: `${email.text.trimEnd()}\n\n--\n${lines.join('\n')}\n`,
    html: /<\/body>/i.test(email.html) ? email.html.replace(/<\/body>/i, `${html}</body>`) : `${email.html}${html}`,
  };
}
