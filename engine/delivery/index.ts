// Delivery: renders a journey's templates, hands messages to SMTP exactly once (the sent-ledger)
// from an approved sender identity (CS-02), and signs/verifies the opaque tokens in tracking
// pixels and links. Encryption policy (TLS or
// portal, S/MIME, PGP), DKIM and bounce handling will live here too, behind the same Mailer.
export { createSmtpMailer, classifySmtpError, type Mailer, type OutgoingMail } from './mailer.ts';
export { createJourneyEmailSender, type DeliveryDeps, type SendHooks } from './send.ts';
export { createTrackingTokens, type TrackingClaim, type TrackingTokens } from './tracking.ts';
export { hasControlCharacters, parseMailbox, senderProblems, type SenderIdentity, type SenderPolicy, type SenderProblem } from './senders.ts';
export { createSender, listSenders, retireSender, SenderInvalidError, unapprovedSenders } from './sender-registry.ts';
export { authorizationCopyEmail, CopyUndeliverableError, flagAuthorizationCopy, sendAuthorizationCopy, type CopyDeps } from './authorization-copy.ts';
export { renderTemplate, templateProblems, templateFields, addTracking } from './render.ts';

/** The 43-byte transparent GIF served by the open pixel. */
export const PIXEL_GIF = Buffer.from('R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7', 'base64');
