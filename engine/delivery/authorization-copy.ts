// AUTH-03: emails a patient the copy of an authorization they signed at the covered entity's
// request. The address comes from the consent gate (confidential-communication directives apply,
// hard bounces stop it); the subject is PHI-free. Like journey mail, a copy whose hand-off had an
// unknown outcome is never sent blind again: it goes to staff instead.
import { gate, type ConsentSettings, type Step } from '../consent/index.ts';
import type { PrismaClient } from '../db/index.ts';
import { classifySmtpError, describeSmtpError, type Mailer } from './mailer.ts';
import type { SenderIdentity } from './senders.ts';

/** A delivery that retrying cannot fix; `reason` is a code, safe to log and to show staff. */
export class CopyUndeliverableError extends Error {
  constructor(readonly reason: string) {
    super(`authorization copy undeliverable: ${reason}`);
  }
}

const COPY_STEP: Step = { purpose: 'TRANSACTIONAL', usesPhi: true, thirdPartyRemuneration: 'none', stream: 'transactional', channel: 'email', fields: [] };

export interface CopyDeps {
  db: PrismaClient;
  mailer: Mailer;
  from: SenderIdentity;
  messageIdDomain: string;
  consent: ConsentSettings;
}

export async function sendAuthorizationCopy(deps: CopyDeps, authorizationId: string): Promise<{ status: 'sent' | 'already_sent' }> {
  const { db } = deps;
  const copy = await db.authorizationCopy.findUnique({ where: { authorizationId } });
  // Retryable: the workflow starts inside the transaction that stores the copy, so the first
  // attempt can run before that commit is visible.
  if (!copy) throw new Error('authorization copy not stored (yet)');
  if (copy.status === 'sent') return { status: 'already_sent' };
  if (copy.status === 'sending') throw new CopyUndeliverableError('OUTCOME_UNKNOWN');
  const authorization = await db.authorization.findUniqueOrThrow({ where: { id: authorizationId } });

  const claim = await db.$transaction(async (tx) => {
    const decision = await gate(tx, deps.consent, { patientId: copy.patientId, phase: 'send', step: COPY_STEP, principal: 'service:authorization-copy' });
    if (!decision.allow || !decision.address) return { reasons: decision.reasons };
    await tx.authorizationCopy.updateMany({ where: { id: copy.id, status: 'queued' }, data: { status: 'sending', attempts: { increment: 1 } } });
    return { address: decision.address };
  });
  if (!claim.address) throw new CopyUndeliverableError(claim.reasons!.join(','));

  try {
    const receipt = await deps.mailer.send({
      from: { name: deps.from.name, address: deps.from.address },
      to: claim.address,
      ...authorizationCopyEmail(authorization),
      messageId: `${copy.id}@${deps.messageIdDomain}`,
    });
    await db.authorizationCopy.update({ where: { id: copy.id }, data: { status: 'sent', copyProvidedAt: new Date(), result: receipt.response.slice(0, 3) } });
    return { status: 'sent' };
  } catch (error) {
    const failure = classifySmtpError(error);
    if (failure === 'retry') {
      await db.authorizationCopy.update({ where: { id: copy.id }, data: { status: 'queued', result: describeSmtpError(error) } });
      throw new Error(`copy hand-off failed (${describeSmtpError(error)})`);
    }
    throw new CopyUndeliverableError(failure === 'permanent' ? 'SMTP_REFUSED' : 'OUTCOME_UNKNOWN');
  }
}

/** Puts an undeliverable copy on the staff queue (`GET /api/authorization-copies?status=failed`). */
export async function flagAuthorizationCopy(db: PrismaClient, authorizationId: string, reason: string): Promise<void> {
  await db.authorizationCopy.updateMany({ where: { authorizationId, status: { not: 'sent' } }, data: { status: 'failed', result: reason.slice(0, 200) } });
}

interface AuthorizationTerms {
  infoDescription: string;
  disclosers: string[];
  recipients: string[];
  purposes: string[];
  channels: string[];
  sponsors: string[];
  expiresAt: Date | null;
  expirationEvent: string | null;
  signedAt: Date;
  templateVersion: string;
  documentHash: string;
}

/** The copy: the terms the patient agreed to and their rights, as a plain-text email. */
export function authorizationCopyEmail(a: AuthorizationTerms): { subject: string; text: string; html: string } {
  const lines = [
    'This is your copy of the authorization you signed.',
    '',
    `Signed: ${a.signedAt.toISOString().slice(0, 10)}`,
    `Information to be used or disclosed: ${a.infoDescription}`,
    `Who may disclose it: ${a.disclosers.join(', ')}`,
    `Who may receive it: ${a.recipients.join(', ')}`,
    `Purposes: ${a.purposes.map((p) => p.toLowerCase().replace(/_/g, ' ')).join(', ')}`,
    `Channels: ${a.channels.join(', ')}`,
    ...(a.sponsors.length ? [`Paid for by: ${a.sponsors.join(', ')}`] : []),
    `Expires: ${a.expiresAt ? a.expiresAt.toISOString().slice(0, 10) : a.expirationEvent}`,
    '',
    'You may revoke this authorization at any time in writing, except where we have already acted on it.',
    'Your treatment, payment, enrollment or eligibility for benefits does not depend on signing it.',
    'Information disclosed under it may be redisclosed by the recipient and no longer protected by federal privacy rules.',
    '',
    `Document ${a.templateVersion}, fingerprint ${a.documentHash.slice(0, 16)}.`,
  ];
  const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  const text = `${lines.join('\n')}\n`;
  return { subject: 'Your copy of the authorization you signed', text, html: `<!doctype html><html><body><pre style="font-family:inherit;white-space:pre-wrap">${esc(text)}</pre></body></html>` };
}
