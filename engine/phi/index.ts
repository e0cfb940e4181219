// PHI protection: the AES-256-GCM payload codec and the failure converter that keep Temporal's
// history, visibility and Web UI free of plaintext, the data converter every Temporal client,
// worker and replay uses; envelope encryption of PHI columns at rest (a KMS-wrapped data key per
// rotation, blind indexes for lookups) applied to the database client; and a scanner for Safe
// Harbor identifiers in text.
import { fileURLToPath } from 'node:url';
import type { DataConverter } from '@temporalio/common';
import { PayloadEncryptionCodec, type PayloadKey } from './codec.ts';

export { PayloadEncryptionCodec, parsePayloadKeys, newPayloadKeys, type PayloadKey } from './codec.ts';
export { openField, sealField } from './fields.ts';
export { LocalKms, newMasterKeys, type KeyManagementService } from './kms.ts';
export { FieldVault } from './vault.ts';
export { encryptAtRest, PHI_COLUMNS } from './encrypted-db.ts';
export { redactPhi, scanForPhi, type Finding, type PhiCategory } from './scanner.ts';
export { ageAt, deidentifyRow, RESTRICTED_ZIP3, zip3, type DeidOptions, type FieldKind } from './deid.ts';

export const FAILURE_CONVERTER_PATH = fileURLToPath(new URL('./failure-converter.ts', import.meta.url));

export function havenDataConverter(keys: PayloadKey[]): DataConverter {
  return { payloadCodecs: [new PayloadEncryptionCodec(keys)], failureConverterPath: FAILURE_CONVERTER_PATH };
}
