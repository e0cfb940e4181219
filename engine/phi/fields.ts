// Sealing single values at rest (AES-256-GCM, key id in the sealed text): for secrets the database
// must not hold in the clear, such as people's TOTP seeds.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { PayloadKey } from './codec.ts';

export function sealField(keys: PayloadKey[], plaintext: string, purpose: string): string {
  const key = keys[0]!;
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key.key, iv);
  cipher.setAAD(Buffer.from(`field:${purpose}`));
  const data = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return [key.id, iv.toString('base64url'), data.toString('base64url'), cipher.getAuthTag().toString('base64url')].join('.');
}

export function openField(keys: PayloadKey[], sealed: string, purpose: string): string {
  const [keyId, iv, data, tag] = sealed.split('.');
  const key = keys.find((k) => k.id === keyId);
  if (!key || !iv || !data || !tag) throw new Error('sealed value cannot be opened');
  const decipher = createDecipheriv('aes-256-gcm', key.key, Buffer.from(iv, 'base64url'));
  decipher.setAAD(Buffer.from(`field:${purpose}`));
  decipher.setAuthTag(Buffer.from(tag, 'base64url'));
  return Buffer.concat([decipher.update(Buffer.from(data, 'base64url')), decipher.final()]).toString('utf8');
}
