// The SMTP hand-off, behind one small interface so the encryption policy (TLS-or-portal, S/MIME,
// PGP) can slot in later without touching callers. nodemailer's pooled transport reuses
// connections: a handshake per message costs ~10× throughput (docs/email-delivery.md §11).
import nodemailer from 'nodemailer';

export interface OutgoingMail {
  /** nodemailer encodes the name; callers have refused line breaks already (CS-02). */
  from: { name: string; address: string };
  replyTo?: string;
  to: string;
  subject: string;
  text: string;
  html: string;
  /** RFC 5322 Message-ID without angle brackets. */
  messageId: string;
  headers?: Record<string, string>;
}

export interface Mailer {
  send(mail: OutgoingMail): Promise<{ response: string }>;
  close(): void;
}

/** What a failed hand-off means for the message. */
export type SmtpFailure =
  /** Nothing was accepted by the server: safe to try again. */
  | 'retry'
  /** The server refused it for good (5xx). */
  | 'permanent'
  /** The message may or may not have been accepted (e.g. the connection dropped after DATA). */
  | 'unknown';

export function classifySmtpError(error: unknown): SmtpFailure {
  const e = error as { responseCode?: number; code?: string; syscall?: string };
  // A reply code means the server refused this transaction: nothing was accepted.
  if (typeof e.responseCode === 'number') return e.responseCode >= 500 ? 'permanent' : 'retry';
  // Never connected, or TLS failed before any command carried the message.
  if (e.syscall === 'connect' || e.syscall === 'getaddrinfo' || e.code === 'EDNS' || e.code === 'ETLS') return 'retry';
  // Anything else — notably "Connection closed unexpectedly", which nodemailer also reports after
  // the message was transmitted — may have been accepted.
  return 'unknown';
}

/** A PHI-free description of an SMTP error (nodemailer's messages can quote recipient addresses). */
export function describeSmtpError(error: unknown): string {
  const e = error as { responseCode?: number; command?: string; code?: string };
  return ['SMTP', e.code, e.command, e.responseCode].filter((x) => x !== undefined).join(' ');
}

export function createSmtpMailer(url: string): Mailer {
  const u = new URL(url);
  if (u.protocol !== 'smtp:' && u.protocol !== 'smtps:') throw new Error('SMTP_URL must start with smtp:// or smtps://');
  const transport = nodemailer.createTransport({
    pool: true,
    host: u.hostname,
    port: Number(u.port || (u.protocol === 'smtps:' ? 465 : 25)),
    secure: u.protocol === 'smtps:',
    auth: u.username ? { user: decodeURIComponent(u.username), pass: decodeURIComponent(u.password) } : undefined,
    maxConnections: 5,
    maxMessages: Infinity,
    // Template content must never make nodemailer read files or fetch URLs.
    disableFileAccess: true,
    disableUrlAccess: true,
    // nodemailer's logger prints whole SMTP transcripts, PHI included.
    logger: false,
    debug: false,
  });
  return {
    async send(mail) {
      const info = await transport.sendMail({ ...mail, messageId: `<${mail.messageId}>` });
      return { response: String(info.response ?? '') };
    },
    close: () => transport.close(),
  };
}
