// Signed, opaque tokens for the open pixel, click redirects and the unsubscribe link. A token
// holds only the message's random tracking id, the kind and a link index — no PHI, nothing
// guessable — and an HMAC-SHA256 tag (128 bits) under a versioned key, so keys can rotate without
// breaking old mail (unsubscribe links never expire, CS-04).
import { createHmac, timingSafeEqual } from 'node:crypto';

export type TrackingKind = 'open' | 'click' | 'unsubscribe';
export interface TrackingClaim {
  trackingId: string;
  kind: TrackingKind;
  link: number;
}
export interface TrackingTokens {
  sign(claim: TrackingClaim): string;
  /** The claim, or null for anything malformed, tampered or signed with an unknown key. */
  verify(token: string): TrackingClaim | null;
}

const KINDS: TrackingKind[] = ['open', 'click', 'unsubscribe'];
const TAG_BYTES = 16;
const ID_BYTES = 16;

export function createTrackingTokens(keys: { id: string; secret: Buffer }[]): TrackingTokens {
  const active = keys[0];
  if (!active) throw new Error('at least one tracking key is required');
  const byId = new Map(keys.map((k) => [k.id, k.secret]));
  const tag = (secret: Buffer, keyId: string, body: Buffer) =>
    createHmac('sha256', secret).update(keyId).update('.').update(body).digest().subarray(0, TAG_BYTES);

  return {
    sign({ trackingId, kind, link }) {
      const id = Buffer.from(trackingId, 'base64url');
      if (id.length !== ID_BYTES || link < 0 || link > 0xffff) throw new Error('invalid tracking claim');
      const body = Buffer.alloc(3 + ID_BYTES);
      body.writeUInt8(KINDS.indexOf(kind), 0);
      body.writeUInt16BE(link, 1);
      id.copy(body, 3);
      return `${active.id}.${body.toString('base64url')}.${tag(active.secret, active.id, body).toString('base64url')}`;
    },
    verify(token) {
      const [keyId, bodyText, tagText, ...rest] = token.split('.');
      if (!keyId || !bodyText || !tagText || rest.length) return null;
      const secret = byId.get(keyId);
      if (!secret) return null;
      const body = Buffer.from(bodyText, 'base64url');
      const given = Buffer.from(tagText, 'base64url');
      if (body.length !== 3 + ID_BYTES || given.length !== TAG_BYTES) return null;
      // Re-encoding must reproduce the text exactly, so no two strings verify as one token.
      if (body.toString('base64url') !== bodyText || given.toString('base64url') !== tagText) return null;
      if (!timingSafeEqual(given, tag(secret, keyId, body))) return null;
      const kind = KINDS[body.readUInt8(0)];
      if (!kind) return null;
      return { kind, link: body.readUInt16BE(1), trackingId: body.subarray(3).toString('base64url') };
    },
  };
}

export function newTrackingId(random: (n: number) => Buffer): string {
  return random(ID_BYTES).toString('base64url');
}
