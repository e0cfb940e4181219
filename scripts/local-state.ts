// Small helpers shared by the start and test scripts.
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import pg from 'pg';
import { newMasterKeys, newPayloadKeys } from '../engine/phi/index.ts';

/** A TCP port that was free a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export function portInUse(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host: '127.0.0.1' });
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
  });
}

export function newTrackingKeys(): string {
  return `k1:${randomBytes(32).toString('base64')}`;
}

export function newAuditKeys(): string {
  return `a1:${randomBytes(32).toString('base64')}`;
}

/** Development secrets, generated once per checkout and kept in .data/secrets.json (mode 600). */
export type DevSecrets = { trackingKeys: string; payloadKeys: string; masterKeys: string; auditKeys: string; apiKey?: string };

export async function loadDevSecrets(dataDir: string): Promise<DevSecrets> {
  const file = path.join(dataDir, 'secrets.json');
  type Secrets = DevSecrets;
  const existing: Partial<Secrets> = await readFile(file, 'utf8').then((t) => JSON.parse(t) as Partial<Secrets>, () => ({}));
  const secrets: Secrets = {
    trackingKeys: existing.trackingKeys ?? newTrackingKeys(),
    payloadKeys: existing.payloadKeys ?? newPayloadKeys(),
    masterKeys: existing.masterKeys ?? newMasterKeys(),
    auditKeys: existing.auditKeys ?? newAuditKeys(),
    ...(existing.apiKey ? { apiKey: existing.apiKey } : {}),
  };
  if (Object.keys(secrets).some((k) => secrets[k as keyof Secrets] !== existing[k as keyof Secrets])) {
    await mkdir(dataDir, { recursive: true });
    await writeFile(file, JSON.stringify(secrets, null, 2), { mode: 0o600 });
  }
  return secrets;
}

/** The same server and credentials as `url`, another database. */
export function withDatabase(url: string, name: string): string {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

/** Drops the database `url` names (closing its connections) and creates it empty. */
export async function recreateDatabase(url: string): Promise<void> {
  const name = new URL(url).pathname.slice(1);
  const admin = new pg.Client({ connectionString: withDatabase(url, 'postgres') });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    await admin.query(`CREATE DATABASE "${name}"`);
  } finally {
    await admin.end();
  }
}

export async function saveDevSecrets(dataDir: string, secrets: DevSecrets): Promise<void> {
  await mkdir(dataDir, { recursive: true });
  await writeFile(path.join(dataDir, 'secrets.json'), JSON.stringify(secrets, null, 2), { mode: 0o600 });
}
