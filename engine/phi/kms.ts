// The key-management boundary of encryption at rest (SEC-04, BR-03). Data keys encrypt PHI
// columns; a master key that never enters the database wraps them. `KeyManagementService` has the
// shape of a cloud KMS (wrap/unwrap by key id) so AWS KMS, Google Cloud KMS or Vault transit can
// replace `LocalKms`, which wraps with keys from configuration (RFC 3394 AES key wrap).
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

export interface KeyManagementService {
  /** The master key new data keys are wrapped under. */
  readonly currentKeyId: string;
  wrap(dataKey: Buffer): Promise<{ masterKeyId: string; wrapped: string }>;
  /** Throws when the master key is unknown or the wrapped key was altered. */
  unwrap(masterKeyId: string, wrapped: string): Promise<Buffer>;
}

const RFC3394_IV = Buffer.from('A6A6A6A6A6A6A6A6', 'hex');

export class LocalKms implements KeyManagementService {
  readonly currentKeyId: string;
  private readonly keys: Map<string, Buffer>;

  /** `HAVEN_MASTER_KEYS=m2:<base64 32 bytes>,m1:<…>`: the first wraps, all unwrap. */
  constructor(text: string | undefined) {
    if (!text) throw new Error('HAVEN_MASTER_KEYS is not set (npm start generates one under .data/; see README "Configuration")');
    const entries = text.split(',').map((entry) => {
      const [id, b64] = entry.trim().split(':');
      const key = Buffer.from(b64 ?? '', 'base64');
      if (!id || !/^[A-Za-z0-9]{1,16}$/.test(id) || key.length !== 32) throw new Error('HAVEN_MASTER_KEYS entries must be "<id>:<base64 of 32 bytes>"');
      return [id, key] as const;
    });
    this.currentKeyId = entries[0]![0];
    this.keys = new Map(entries);
  }

  async wrap(dataKey: Buffer) {
    const cipher = createCipheriv('id-aes256-wrap', this.keys.get(this.currentKeyId)!, RFC3394_IV);
    return { masterKeyId: this.currentKeyId, wrapped: Buffer.concat([cipher.update(dataKey), cipher.final()]).toString('base64') };
  }

  async unwrap(masterKeyId: string, wrapped: string) {
    const key = this.keys.get(masterKeyId);
    if (!key) throw new Error(`master key ${masterKeyId} is not configured (HAVEN_MASTER_KEYS)`);
    try {
      const decipher = createDecipheriv('id-aes256-wrap', key, RFC3394_IV);
      return Buffer.concat([decipher.update(Buffer.from(wrapped, 'base64')), decipher.final()]);
    } catch {
      throw new Error(`a data key wrapped under ${masterKeyId} failed its integrity check`);
    }
  }
}

export function newMasterKeys(): string {
  return `m1:${randomBytes(32).toString('base64')}`;
}
