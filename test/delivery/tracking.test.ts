import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { createTrackingTokens } from '../../engine/delivery/index.ts';

const key = (id: string) => ({ id, secret: randomBytes(32) });
const trackingId = randomBytes(16).toString('base64url');

describe('tracking tokens', () => {
  const k1 = key('k1');
  const tokens = createTrackingTokens([k1]);

  it('round-trips a claim and carries nothing but opaque bytes', () => {
    const token = tokens.sign({ trackingId, kind: 'click', link: 3 });
    assert.deepEqual(tokens.verify(token), { trackingId, kind: 'click', link: 3 });
    assert.match(token, /^k1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{22}$/);
  });

  it('refuses any changed character, another key, junk and padding tricks', () => {
    const token = tokens.sign({ trackingId, kind: 'open', link: 0 });
    for (let i = 0; i < token.length; i++) {
      if (token[i] === '.') continue;
      const changed = token.slice(0, i) + (token[i] === 'A' ? 'B' : 'A') + token.slice(i + 1);
      assert.equal(tokens.verify(changed), null, `changed at ${i}`);
    }
    assert.equal(createTrackingTokens([key('k1')]).verify(token), null, 'same key id, other secret');
    for (const junk of ['', '.', 'k1..', 'k1.AAAA.AAAA', `${token}.extra`, `${token}=`]) assert.equal(tokens.verify(junk), null, junk);
  });

  it('keeps verifying tokens of a retired signing key after rotation', () => {
    const old = tokens.sign({ trackingId, kind: 'open', link: 0 });
    const rotated = createTrackingTokens([key('k2'), k1]);
    assert.deepEqual(rotated.verify(old), { trackingId, kind: 'open', link: 0 });
    assert.match(rotated.sign({ trackingId, kind: 'open', link: 0 }), /^k2\./);
  });
});
