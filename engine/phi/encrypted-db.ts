// Transparent encryption of the PHI columns listed below: every write through the returned client
// seals them, every read opens them (nested includes too), and an equality filter on a column with
// a blind index is rewritten to the index. Any other filter on a sealed column is refused, since it
// could never match. A column missing here is stored in the clear: add PHI columns here.
import type { PrismaClient } from '../db/index.ts';
import { FieldVault, isSealed } from './vault.ts';

type Kind = 'string' | 'json';

export const PHI_COLUMNS: Record<string, Record<string, Kind>> = {
  Patient: { email: 'string', givenName: 'string', familyName: 'string', birthDate: 'string', attributes: 'json' },
  Event: { data: 'json' },
  Message: { smtpResponse: 'string', links: 'json' },
  Directive: { address: 'string' },
  UnencryptedEmailElection: { address: 'string' },
  Authorization: { signer: 'json', signature: 'json' },
  BreakGlass: { reason: 'string' },
};

/** Columns looked up by exact value: sealed column → its blind-index column and normalisation. */
const BLIND_INDEXES: Record<string, Record<string, { column: string; normalize: (v: string) => string }>> = {
  Patient: { email: { column: 'emailIndex', normalize: (v) => v.trim().toLowerCase() } },
};

const WRITES = new Set(['create', 'createMany', 'createManyAndReturn', 'update', 'updateMany', 'updateManyAndReturn', 'upsert']);

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && (Object.getPrototypeOf(v) === Object.prototype || Object.getPrototypeOf(v) === null);

export function encryptAtRest(db: PrismaClient, vault: FieldVault): PrismaClient {
  const sealData = (model: string, data: Record<string, unknown>): Record<string, unknown> => {
    const columns = PHI_COLUMNS[model]!;
    const out: Record<string, unknown> = { ...data };
    for (const [field, kind] of Object.entries(columns)) {
      let value = out[field];
      if (value === undefined || value === null) continue;
      if (isPlainObject(value) && 'set' in value) value = value.set; // Prisma's { set: x } form
      if (kind === 'string' && typeof value !== 'string') continue;
      out[field] = vault.seal(field, kind === 'json' ? JSON.stringify(value) : (value as string), kind === 'json');
      const index = BLIND_INDEXES[model]?.[field];
      if (index) out[index.column] = vault.blindIndex(`${model}.${field}`, index.normalize(value as string));
    }
    return out;
  };

  // Relation fields per model, so filters through relations (`{ patient: { email } }`) are rewritten
  // too; Prisma exposes its data model only on the client instance.
  const relations = new Map<string, Map<string, string>>();
  const models = (db as unknown as { _runtimeDataModel: { models: Record<string, { fields: { name: string; kind: string; type: string }[] }> } })._runtimeDataModel.models;
  for (const [name, { fields }] of Object.entries(models)) {
    relations.set(name, new Map(fields.filter((f) => f.kind === 'object').map((f) => [f.name, f.type])));
  }
  const RELATION_OPERATORS = new Set(['is', 'isNot', 'some', 'every', 'none']);

  const rewriteWhere = (model: string, where: Record<string, unknown>): Record<string, unknown> => {
    const out: Record<string, unknown> = { ...where };
    for (const [key, value] of Object.entries(where)) {
      if (key === 'AND' || key === 'OR' || key === 'NOT') {
        out[key] = Array.isArray(value) ? value.map((w) => rewriteWhere(model, w)) : isPlainObject(value) ? rewriteWhere(model, value) : value;
        continue;
      }
      const related = relations.get(model)?.get(key);
      if (related && isPlainObject(value)) {
        const operators = Object.keys(value).every((k) => RELATION_OPERATORS.has(k));
        out[key] = operators
          ? Object.fromEntries(Object.entries(value).map(([op, w]) => [op, isPlainObject(w) ? rewriteWhere(related, w) : w]))
          : rewriteWhere(related, value);
        continue;
      }
      if (!PHI_COLUMNS[model]?.[key]) continue;
      const index = BLIND_INDEXES[model]?.[key];
      if (!index || typeof value !== 'string') throw new Error(`${model}.${key} is encrypted at rest: only exact matches through its blind index are possible`);
      delete out[key];
      out[index.column] = vault.blindIndex(`${model}.${key}`, index.normalize(value));
    }
    return out;
  };

  /** Opens sealed values in place; leaves (and collects) those needing keys not loaded yet. */
  const openAll = (value: unknown, unopened: string[], field = ''): unknown => {
    if (isSealed(value)) {
      if (vault.canOpen(value)) return vault.open(field, value);
      unopened.push(value);
      return value;
    }
    if (Array.isArray(value)) return value.map((v) => openAll(v, unopened, field));
    if (isPlainObject(value)) {
      for (const [k, v] of Object.entries(value)) value[k] = openAll(v, unopened, k);
    }
    return value;
  };

  return db.$extends({
    query: {
      $allModels: {
        async $allOperations({ model, operation, args, query }) {
          await vault.ready();
          const a = args as Record<string, unknown>;
          if (PHI_COLUMNS[model]) {
            if (WRITES.has(operation)) {
              if (Array.isArray(a.data)) a.data = a.data.map((d) => sealData(model, d as Record<string, unknown>));
              else if (isPlainObject(a.data)) a.data = sealData(model, a.data);
              if (isPlainObject(a.create)) a.create = sealData(model, a.create);
              if (isPlainObject(a.update)) a.update = sealData(model, a.update);
            }
          }
          if (isPlainObject(a.where)) a.where = rewriteWhere(model, a.where);
          const result = await query(args);
          const unopened: string[] = [];
          openAll(result, unopened);
          // Sealed under a data key another process created since we loaded: load it and retry.
          if (unopened.length) {
            await vault.reload();
            const still: string[] = [];
            openAll(result, still);
            if (still.length) vault.open('', still[0]!); // throws why the key is unavailable
          }
          return result;
        },
      },
    },
  }) as unknown as PrismaClient;
}
