// Envelope encryption of PHI columns (SEC-04). Values are sealed with AES-256-GCM under a data key;
// data keys live in the DataKey table only wrapped by the KMS master key, so a database dump or
// backup holds ciphertext and wrapped keys, never a usable key. Sealed text names its data key, so
// rotation never re-encrypts: new writes use the newest key, old ciphertext keeps opening.
// Blind indexes (HMAC under a key kept the same way) let exact lookups such as "patient by email"
// work on encrypted columns.
import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';
import type { PrismaClient } from '../db/index.ts';
import type { KeyManagementService } from './kms.ts';

const SEALED = /^hv1(j?):([A-Za-z0-9_-]+):([A-Za-z0-9_-]+)$/;
const INDEX_KEY_ID = 'blind-index';
/** How long a process keeps using its active data key before looking for a newer one. */
const REFRESH_MS = 5 * 60_000;

export function isSealed(value: unknown): value is string {
  return typeof value === 'string' && SEALED.test(value);
}

export class FieldVault {
  private readonly keys = new Map<string, Buffer>();
  /** Data keys this process cannot unwrap (master key not configured), with the reason. */
  private readonly unavailable = new Map<string, string>();
  private active: { id: string; key: Buffer } | undefined;
  private indexKey: Buffer | undefined;
  private loadedAt = 0;
  private loading: Promise<void> | undefined;

  /** `db` must be the plain client: data keys are not themselves field-encrypted. */
  constructor(
    private readonly db: PrismaClient,
    private readonly kms: KeyManagementService,
  ) {}

  /** Loads (and on first use creates) the data keys; cheap once loaded. */
  async ready(now = Date.now()): Promise<void> {
    if (this.active && now - this.loadedAt < REFRESH_MS) return;
    this.loading ??= this.load().finally(() => (this.loading = undefined));
    await this.loading;
  }

  /** A new data key for new writes (rotation); older keys keep decrypting. */
  async rotate(): Promise<string> {
    const id = await this.createDataKey();
    await this.load();
    return id;
  }

  /** Re-wraps every data key under the current master key, so retired master keys can go. */
  async rewrap(): Promise<number> {
    await this.ready();
    const rows = await this.db.dataKey.findMany({ where: { masterKeyId: { not: this.kms.currentKeyId } } });
    for (const row of rows) {
      const { masterKeyId, wrapped } = await this.kms.wrap(await this.kms.unwrap(row.masterKeyId, row.wrapped));
      await this.db.dataKey.update({ where: { id: row.id }, data: { masterKeyId, wrapped } });
    }
    return rows.length;
  }

  get activeKeyId(): string {
    return this.required().id;
  }

  seal(field: string, plaintext: string, json = false): string {
    const { id, key } = this.required();
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', key, iv);
    cipher.setAAD(Buffer.from(`${id}:${field}`)); // a value cannot be moved to another column
    const body = Buffer.concat([iv, cipher.update(plaintext, 'utf8'), cipher.final(), cipher.getAuthTag()]);
    return `hv1${json ? 'j' : ''}:${id}:${body.toString('base64url')}`;
  }

  /** Whether this process holds the data key of a sealed value (false after another process rotated). */
  canOpen(sealed: string): boolean {
    return this.keys.has(SEALED.exec(sealed)?.[2] ?? '');
  }

  async reload(): Promise<void> {
    await this.load();
  }

  /** The plaintext (parsed, for JSON columns) of a sealed value of column `field`. */
  open(field: string, sealed: string): unknown {
    const [, json, id, b64] = SEALED.exec(sealed) ?? [];
    const key = id ? this.keys.get(id) : undefined;
    if (!key) throw new Error(this.unavailable.get(id ?? '') ?? `sealed ${field} needs data key ${id ?? '?'}, which is not available`);
    const body = Buffer.from(b64!, 'base64url');
    const decipher = createDecipheriv('aes-256-gcm', key, body.subarray(0, 12));
    decipher.setAAD(Buffer.from(`${id}:${field}`));
    decipher.setAuthTag(body.subarray(body.length - 16));
    const text = Buffer.concat([decipher.update(body.subarray(12, body.length - 16)), decipher.final()]).toString('utf8');
    return json ? JSON.parse(text) : text;
  }

  /** Keyed hash for exact lookups; `kind` keeps equal values of different columns apart. */
  blindIndex(kind: string, value: string): string {
    if (!this.indexKey) throw new Error('field vault is not loaded');
    return createHmac('sha256', this.indexKey).update(`${kind}\0${value}`).digest('base64url');
  }

  private required() {
    if (!this.active) throw new Error('field vault is not loaded');
    return this.active;
  }

  private async createDataKey(id = `dk_${randomBytes(9).toString('base64url')}`, purpose = 'field'): Promise<string> {
    const { masterKeyId, wrapped } = await this.kms.wrap(randomBytes(32));
    // Concurrent first starts may each create a field key: harmless, both stay usable.
    await this.db.dataKey.createMany({ data: [{ id, purpose, masterKeyId, wrapped }], skipDuplicates: true });
    return id;
  }

  private async load(): Promise<void> {
    const unwrapAll = async () => {
      const rows = await this.db.dataKey.findMany({ orderBy: { createdAt: 'asc' } });
      for (const row of rows) {
        if (this.keys.has(row.id)) continue;
        try {
          this.keys.set(row.id, await this.kms.unwrap(row.masterKeyId, row.wrapped));
          this.unavailable.delete(row.id);
        } catch (e) {
          // Only values sealed under this key become unreadable; the rest keep working.
          this.unavailable.set(row.id, (e as Error).message);
        }
      }
      return rows;
    };
    let rows = await unwrapAll();
    const index = rows.find((r) => r.purpose === 'index');
    if (index && !this.keys.has(index.id)) throw new Error(this.unavailable.get(index.id));
    const current = (r: (typeof rows)[number]) => r.purpose === 'field' && r.masterKeyId === this.kms.currentKeyId;
    if (!index || !rows.some(current)) {
      if (!index) await this.createDataKey(INDEX_KEY_ID, 'index');
      if (!rows.some(current)) await this.createDataKey();
      rows = await unwrapAll();
    }
    const newest = rows.filter(current).at(-1)!;
    this.active = { id: newest.id, key: this.keys.get(newest.id)! };
    this.indexKey = this.keys.get(rows.find((r) => r.purpose === 'index')!.id);
    this.loadedAt = Date.now();
  }
}
