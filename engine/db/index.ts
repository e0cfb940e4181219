// The Prisma client (Rust-free, over node-postgres), plus the migration runner.
// Everything that reads or writes Postgres goes through the client created here.
import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient } from './generated/client.ts';

export { Prisma } from './generated/client.ts';
export type { PrismaClient } from './generated/client.ts';
export type * from './generated/models.ts';
export { migrate } from './migrate.ts';

export function createDb(databaseUrl: string): PrismaClient {
  return new PrismaClient({ adapter: new PrismaPg({ connectionString: databaseUrl, max: Number(process.env.HAVEN_DB_POOL ?? 10) }) });
}

/** True when `e` is Prisma's unique-constraint violation. */
export function isUniqueViolation(e: unknown): boolean {
  return typeof e === 'object' && e !== null && (e as { code?: unknown }).code === 'P2002';
}

/** A run's enrollment no longer exists (its start was rolled back): nothing may happen for it. */
export class EnrollmentNotFoundError extends Error {
  constructor() {
    super('enrollment not found');
    this.name = 'EnrollmentNotFoundError';
  }
}
