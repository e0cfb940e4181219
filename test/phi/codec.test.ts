// SEC-04/SEC-10: the payload codec — AES-256-GCM with the key id in the metadata, rotation
// without losing old payloads, tamper detection, pass-through of unencrypted payloads.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defaultPayloadConverter } from '@temporalio/common';
import { newPayloadKeys, parsePayloadKeys, PayloadEncryptionCodec } from '../../engine/phi/index.ts';

const value = { patient: 'Zed Canary', dx: 'E11.9' };
const payload = () => defaultPayloadConverter.toPayload(value)!;

describe('payload encryption codec', () => {
  it('SEC-10 encrypts: no plaintext left, and the key id is in the metadata', async () => {
    const codec = new PayloadEncryptionCodec(parsePayloadKeys(newPayloadKeys()));
    const [encoded] = await codec.encode([payload()]);
    assert.ok(!Buffer.from(encoded!.data!).toString('latin1').includes('Zed Canary'));
    assert.equal(Buffer.from(encoded!.metadata!.encoding!).toString(), 'binary/encrypted');
    assert.equal(Buffer.from(encoded!.metadata!['encryption-key-id']!).toString(), 'p1');
    const [decoded] = await codec.decode([encoded!]);
    assert.deepEqual(defaultPayloadConverter.fromPayload(decoded!), value);
  });

  it('SEC-04 after key rotation old payloads still decrypt and new ones use the new key', async () => {
    const old = newPayloadKeys();
    const rotated = `p2:${Buffer.alloc(32, 7).toString('base64')},${old}`;
    const [before] = await new PayloadEncryptionCodec(parsePayloadKeys(old)).encode([payload()]);
    const codec = new PayloadEncryptionCodec(parsePayloadKeys(rotated));
    assert.deepEqual(defaultPayloadConverter.fromPayload((await codec.decode([before!]))[0]!), value);
    const [after] = await codec.encode([payload()]);
    assert.equal(Buffer.from(after!.metadata!['encryption-key-id']!).toString(), 'p2');
  });

  it('refuses tampered data, a forged key id and unknown keys; passes unencrypted payloads through', async () => {
    const codec = new PayloadEncryptionCodec(parsePayloadKeys(newPayloadKeys()));
    const [encoded] = await codec.encode([payload()]);
    const tampered = { ...encoded!, data: Buffer.from(encoded!.data!).map((b, i) => (i === 20 ? b ^ 1 : b)) };
    await assert.rejects(codec.decode([tampered]));
    const otherKey = { ...encoded!, metadata: { ...encoded!.metadata, 'encryption-key-id': new TextEncoder().encode('p9') } };
    await assert.rejects(codec.decode([otherKey]), /no payload key "p9"/);
    const stranger = new PayloadEncryptionCodec(parsePayloadKeys(newPayloadKeys()));
    await assert.rejects(stranger.decode([encoded!]), 'same key id, another key: GCM refuses');
    const plain = payload();
    assert.deepEqual(await codec.decode([plain]), [plain]);
  });

  it('refuses malformed key configuration', () => {
    assert.throws(() => parsePayloadKeys(undefined), /HAVEN_PAYLOAD_KEYS is not set/);
    assert.throws(() => parsePayloadKeys('p1:c2hvcnQ='), /32 bytes/);
  });
});
