// Registers Haven's search attributes on a namespace. `temporal server start-dev
// --search-attribute` only applies to a new database, and a production cluster needs them too.
import { Connection } from '@temporalio/client';
import proto from '@temporalio/proto'; // CommonJS: no named ESM exports

const { IndexedValueType } = proto.temporal.api.enums.v1;
import { SEARCH_ATTRIBUTES } from '../../workflows/search-attributes.ts';

const TYPES = {
  Keyword: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
  Int: IndexedValueType.INDEXED_VALUE_TYPE_INT,
} as const;

/** Adds whichever of Haven's search attributes the namespace lacks; returns their names. */
export async function ensureSearchAttributes(address: string, namespace: string): Promise<string[]> {
  const connection = await Connection.connect({ address });
  try {
    const existing = await connection.operatorService.listSearchAttributes({ namespace });
    const have = new Set(Object.keys(existing.customAttributes ?? {}));
    const missing = Object.entries(SEARCH_ATTRIBUTES).filter(([name]) => !have.has(name));
    if (missing.length) {
      await connection.operatorService.addSearchAttributes({
        namespace,
        searchAttributes: Object.fromEntries(missing.map(([name, type]) => [name, TYPES[type]!])),
      });
    }
    return missing.map(([name]) => name);
  } finally {
    await connection.close();
  }
}
