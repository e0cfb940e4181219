// AES-256-GCM payload codec: every Temporal payload (workflow inputs and results, signal and
// activity arguments, memos, heartbeats, encoded failure messages) leaves Haven encrypted. The key
// id travels in the metadata (and is bound into the GCM tag), so old keys keep decrypting after
// rotation; decoding needs nothing but the payload, which is what a codec server gets.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { Payload, PayloadCodec } from '@temporalio/common';
import proto from '@temporalio/proto'; // CommonJS: no named ESM exports

const { Payload: PayloadMessage } = proto.temporal.api.common.v1;
const ENCODING = 'binary/encrypted';
const CODEC_VERSION = 'haven-aesgcm-1';
const IV_BYTES = 12;
const TAG_BYTES = 16;
const utf8 = (s: string) => new TextEncoder().encode(s);

export interface PayloadKey {
  id: string;
  key: Buffer;
}

/** `HAVEN_PAYLOAD_KEYS=k2:<base64 32 bytes>,k1:<…>`: the first encrypts, all decrypt. */
export function parsePayloadKeys(text: string | undefined): PayloadKey[] {
  if (!text) throw new Error('HAVEN_PAYLOAD_KEYS is not set (npm start generates one under .data/; see README "Configuration")');
  return text.split(',').map((entry) => {
    const [id, b64] = entry.trim().split(':');
    const key = Buffer.from(b64 ?? '', 'base64');
    if (!id || !/^[A-Za-z0-9]{1,16}$/.test(id) || key.length !== 32) throw new Error('HAVEN_PAYLOAD_KEYS entries must be "<id>:<base64 of 32 bytes>"');
    return { id, key };
  });
}

export function newPayloadKeys(): string {
  return `p1:${randomBytes(32).toString('base64')}`;
}

export class PayloadEncryptionCodec implements PayloadCodec {
  private readonly byId: Map<string, Buffer>;
  private readonly active: PayloadKey;

  constructor(keys: PayloadKey[]) {
    if (!keys[0]) throw new Error('at least one payload key is required');
    this.active = keys[0];
    this.byId = new Map(keys.map((k) => [k.id, k.key]));
  }

  async encode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', this.active.key, iv);
      cipher.setAAD(Buffer.from(`${CODEC_VERSION}:${this.active.id}`));
      const plain = PayloadMessage.encode(payload).finish();
      const data = Buffer.concat([iv, cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
      return { metadata: { encoding: utf8(ENCODING), 'encryption-key-id': utf8(this.active.id), 'encryption-codec': utf8(CODEC_VERSION) }, data };
    });
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => {
      const encoding = payload.metadata?.encoding ? Buffer.from(payload.metadata.encoding).toString() : '';
      if (encoding !== ENCODING) return payload; // not ours (e.g. histories recorded before encryption)
      const keyId = Buffer.from(payload.metadata?.['encryption-key-id'] ?? []).toString();
      const key = this.byId.get(keyId);
      if (!key) throw new Error(`no payload key "${keyId}" to decrypt with`);
      const data = Buffer.from(payload.data ?? []);
      const decipher = createDecipheriv('aes-256-gcm', key, data.subarray(0, IV_BYTES));
      decipher.setAAD(Buffer.from(`${CODEC_VERSION}:${keyId}`));
      decipher.setAuthTag(data.subarray(data.length - TAG_BYTES));
      const plain = Buffer.concat([decipher.update(data.subarray(IV_BYTES, data.length - TAG_BYTES)), decipher.final()]);
      return PayloadMessage.decode(plain) as Payload;
    });
  }
}
