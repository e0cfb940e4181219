// SEC-09: the security-decisions document has an entry for every addressable implementation
// specification of the Security Rule, each entry says what was decided, and every setting it
// names is one Haven actually reads and documents.
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { describe, it } from 'node:test';

const root = new URL('../../', import.meta.url);
const doc = readFileSync(new URL('docs/security-decisions.md', root), 'utf8');

/** The addressable specifications of 45 CFR 164.308, 164.310 and 164.312, from the regulation. */
const ADDRESSABLE = [
  '164.308(a)(3)(ii)(A)', '164.308(a)(3)(ii)(B)', '164.308(a)(3)(ii)(C)',
  '164.308(a)(4)(ii)(B)', '164.308(a)(4)(ii)(C)',
  '164.308(a)(5)(ii)(A)', '164.308(a)(5)(ii)(B)', '164.308(a)(5)(ii)(C)', '164.308(a)(5)(ii)(D)',
  '164.308(a)(7)(ii)(D)', '164.308(a)(7)(ii)(E)',
  '164.310(a)(2)(i)', '164.310(a)(2)(ii)', '164.310(a)(2)(iii)', '164.310(a)(2)(iv)',
  '164.310(d)(2)(iii)', '164.310(d)(2)(iv)',
  '164.312(a)(2)(iii)', '164.312(a)(2)(iv)', '164.312(c)(2)', '164.312(e)(2)(i)', '164.312(e)(2)(ii)',
];

/** Entry heading → its text. */
function entries(): Map<string, string> {
  const out = new Map<string, string>();
  const parts = doc.split(/^### /m).slice(1);
  for (const part of parts) out.set(part.split(/\s/)[0]!, part);
  return out;
}

/** Source Haven reads its settings from: the configuration module and the process scripts. */
function settingsSource(): string {
  const files = [new URL('engine/config.ts', root), ...readdirSync(new URL('scripts/', root)).filter((f) => f.endsWith('.ts')).map((f) => new URL(`scripts/${f}`, root))];
  return files.map((f) => readFileSync(f, 'utf8')).join('\n');
}

describe('SEC-09 security decisions', () => {
  it('SEC-09 every addressable specification has exactly one entry, with a decision', () => {
    const found = entries();
    for (const spec of ADDRESSABLE) {
      const entry = found.get(spec);
      assert.ok(entry, `no entry for ${spec}`);
      assert.match(entry, /\*\*Decision:\*\* (implemented|alternative|supported|organisational|not applicable|documented|the operator)/i, `${spec} has no decision`);
      assert.match(entry, /\*\*Settings:\*\*/, `${spec} names no settings (say "none")`);
    }
    assert.deepEqual([...found.keys()].filter((k) => !ADDRESSABLE.includes(k)), [], 'entries for specifications that are not addressable');
  });

  it('SEC-09 every setting the document names exists: Haven reads it and the README documents it', () => {
    const named = new Set([...doc.matchAll(/`([A-Z][A-Z0-9]*_[A-Z0-9_]+)`/g)].map((m) => m[1]!));
    assert.ok(named.size >= 15, `only ${named.size} settings named`);
    const source = settingsSource();
    const readme = readFileSync(new URL('README.md', root), 'utf8');
    for (const name of named) {
      assert.match(source, new RegExp(`env\\.${name}\\b`), `${name} is not read by engine/config.ts or scripts/`);
      assert.ok(readme.includes(`\`${name}\``), `${name} is not in README "Configuration"`);
    }
  });

  it('SEC-09 the automatic-logoff entry states the values the product uses by default', async () => {
    const { loadConfig } = await import('../../engine/config.ts');
    const { sessions } = loadConfig({ ...process.env, HAVEN_SESSION_IDLE_MINUTES: undefined, HAVEN_SESSION_HOURS: undefined });
    const entry = entries().get('164.312(a)(2)(iii)')!;
    assert.match(entry, new RegExp(`after ${sessions.idleMinutes} minutes idle`));
    assert.match(entry, new RegExp(`after ${sessions.absoluteHours} hours in all`));
  });
});
