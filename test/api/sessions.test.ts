// People sign in with a password and a TOTP code (SEC-07), sessions end when idle, at their
// absolute limit and on logout, server-side (SEC-03), accounts are personal (SEC-01); the codec
// server decodes Temporal payloads only for principals allowed to see PHI, and audits each decode.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { defaultPayloadConverter } from '@temporalio/common';
import { PayloadEncryptionCodec } from '../../engine/phi/index.ts';
import { payloadsToJson } from '../../engine/api/codec-json.ts';
import { cookieOf, login as loginAs, newPerson, type TestPerson } from '../support/people.ts';
import { startStack, type Stack } from '../support/stack.ts';

describe('people, sessions and the codec server', () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack({ env: { HAVEN_SESSION_IDLE_MINUTES: '0.05', TEMPORAL_UI_URL: 'http://127.0.0.1:8233' } });
  });
  after(() => stack.close());

  const newUser = (role: string) => newPerson(stack, role);
  const login = (u: TestPerson, code?: string) => loginAs(stack, u, code);
  const me = (cookie: string) => fetch(`${stack.baseUrl}/api/auth/me`, { headers: { cookie } });

  it('SEC-07 signing in needs the password and a valid second factor', async () => {
    const user = await newUser('compliance');
    assert.equal((await login({ ...user, password: 'wrong' })).status, 401);
    assert.equal((await login({ ...user, email: 'nobody.here@clinic.example' })).status, 401, 'an unknown address is refused the same way');
    assert.equal((await login(user, '000000')).status, 401);
    const ok = await login(user);
    assert.equal(ok.status, 200);
    assert.match(ok.headers.get('set-cookie')!, /HttpOnly; SameSite=Lax/);
    const res = await me(cookieOf(ok));
    assert.equal(res.status, 200);
    assert.equal(((await res.json()) as { role: string }).role, 'compliance');
  });

  it('SEC-07 five wrong tries lock the account, even against the right password and code', async () => {
    const user = await newUser('operator');
    for (let i = 0; i < 5; i++) assert.equal((await login(user, '000000')).status, 401);
    assert.equal((await login(user)).status, 401, 'locked for 15 minutes');
  });

  it('SEC-01 shared mailboxes cannot become accounts', async () => {
    const res = await stack.request('POST', '/api/users', { email: 'frontdesk@clinic.example', name: 'Front desk', role: 'operator' });
    assert.equal(res.status, 400);
    assert.match(res.body.message, /SEC-01/);
  });

  it('SEC-01 termination: a disabled person is signed out at once and cannot sign in again; a revoked key stops working', async () => {
    const user = await newUser('operator');
    const session = cookieOf(await login(user));
    const { principal } = (await (await me(session)).json()) as { principal: string };
    const id = principal.replace(/^user:/, '');
    assert.equal((await stack.request('POST', `/api/users/${id}/disable`, {}, await stack.keyFor('compliance'))).status, 403, 'only an admin');
    assert.equal((await stack.request('POST', `/api/users/${id}/disable`, {})).status, 204);
    assert.equal((await me(session)).status, 401);
    assert.equal((await login(user)).status, 401);
    assert.equal((await stack.request('POST', `/api/users/${id}/disable`, {})).status, 404);

    const key = await stack.keyFor('service');
    const name = ((await stack.request('GET', '/api/auth/me', undefined, key)).body.principal as string).replace(/^apikey:/, '');
    assert.equal((await stack.request('POST', `/api/api-keys/${name}/revoke`, {})).status, 204);
    assert.equal((await stack.request('GET', '/api/auth/me', undefined, key)).status, 401);
    const audit = await stack.api.db.auditEvent.findFirstOrThrow({ where: { action: 'apikey.revoke', objectId: name } });
    assert.match(audit.principal, /^apikey:test-admin-/);
  });

  it('SEC-03 a session ends after the idle window and on logout, for good', async () => {
    const user = await newUser('auditor');
    const idle = cookieOf(await login(user));
    assert.equal((await me(idle)).status, 200);
    await new Promise((r) => setTimeout(r, 3_500)); // idle window in this test: 3 s
    assert.equal((await me(idle)).status, 401);
    const next = cookieOf(await login(user));
    assert.equal((await fetch(`${stack.baseUrl}/api/auth/logout`, { method: 'POST', headers: { cookie: next } })).status, 204);
    assert.equal((await me(next)).status, 401, 'a token used after logout is refused');
  });

  it('the codec server decodes for a compliance user from the Web UI\'s origin, and audits it', async () => {
    const codec = new PayloadEncryptionCodec(stack.config.payloadKeys);
    const body = JSON.stringify(payloadsToJson(await codec.encode([defaultPayloadConverter.toPayload({ patient: 'Zed Canary' })!])));
    const origin = 'http://localhost:8233';
    const decode = (headers: Record<string, string>) =>
      fetch(`${stack.baseUrl}/codec/decode`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-namespace': 'default', origin, ...headers }, body });

    const preflight = await fetch(`${stack.baseUrl}/codec/decode`, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST' } });
    assert.equal(preflight.status, 204);
    assert.equal(preflight.headers.get('access-control-allow-origin'), origin);
    assert.equal(preflight.headers.get('access-control-allow-credentials'), 'true');
    const foreign = await fetch(`${stack.baseUrl}/codec/decode`, { method: 'OPTIONS', headers: { origin: 'https://evil.example' } });
    assert.equal(foreign.headers.get('access-control-allow-origin'), null);

    assert.equal((await decode({})).status, 401, 'no token, no decode');
    const auditor = cookieOf(await login(await newUser('auditor')));
    assert.equal((await decode({ cookie: auditor })).status, 403, 'a role without PHI access is refused');
    const compliance = cookieOf(await login(await newUser('compliance')));
    const res = await decode({ cookie: compliance });
    assert.equal(res.status, 200);
    const decoded = (await res.json()) as { payloads: { data: string }[] };
    assert.match(Buffer.from(decoded.payloads[0]!.data, 'base64').toString(), /Zed Canary/);
    const audit = await stack.api.db.auditEvent.findFirst({ where: { action: 'codec.decode' }, orderBy: { at: 'desc' } });
    assert.ok(audit?.principal.startsWith('user:'));
    assert.deepEqual(audit?.details, { payloads: 1 });
  });
});
