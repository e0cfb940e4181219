// Where a checkout keeps its local state: `.data/` (databases, inbox, secrets) and `.tools/`
// (the Temporal CLI built from source). Both are ignored by git.
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const DATA_DIR = process.env.HAVEN_DATA_DIR ?? path.join(ROOT, '.data');
export const TOOLS_DIR = path.join(ROOT, '.tools');
