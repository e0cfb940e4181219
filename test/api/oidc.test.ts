// SEC-07 / SEC-01 with an OpenID Connect provider in place of local accounts: a real provider
// (oidc-provider) authenticates; Haven admits only accounts an admin created, only with a second
// factor the provider reports, and ties each account to one provider identity. Local password
// sign-in is off once a provider is configured.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { freePort } from '../../scripts/local-state.ts';
import { browser, startIdentityProvider } from '../support/identity-provider.ts';
import { startStack, type Stack } from '../support/stack.ts';

describe('sign-in through an OIDC provider (SEC-07, SEC-01)', () => {
  let stack: Stack;
  let idp: Awaited<ReturnType<typeof startIdentityProvider>>;
  const clientSecret = 'haven-test-client-secret-0123456789';

  before(async () => {
    const idpPort = await freePort();
    stack = await startStack({ env: { HAVEN_OIDC_ISSUER: `http://127.0.0.1:${idpPort}`, HAVEN_OIDC_CLIENT_ID: 'haven', HAVEN_OIDC_CLIENT_SECRET: clientSecret } });
    idp = await startIdentityProvider({ port: idpPort, clientId: 'haven', clientSecret, redirectUri: `${stack.baseUrl}/api/auth/oidc/callback` });
  });
  after(async () => {
    await idp?.close();
    await stack?.close();
  });

  const provision = async (role: string) => {
    const email = `${role}.${Math.random().toString(36).slice(2, 8)}@clinic.example`;
    const res = await stack.request('POST', '/api/users', { email, name: `An ${role}`, role });
    assert.equal(res.status, 201);
    return { email, id: res.body.id as string };
  };
  const me = async (b: ReturnType<typeof browser>) => {
    const res = await fetch(`${stack.baseUrl}/api/auth/me`, { headers: { cookie: b.cookie() } });
    return { status: res.status, body: res.status === 200 ? ((await res.json()) as { principal: string; role: string }) : null };
  };
  const signIn = (b: ReturnType<typeof browser>) => b.visit(`${stack.baseUrl}/api/auth/oidc/login`);

  it('SEC-07 a person an admin created signs in at the provider with a second factor and gets their Haven role', async () => {
    const account = await provision('compliance');
    idp.signInNext({ sub: 'idp-user-1', email: account.email, amr: ['pwd', 'otp'] });
    const b = browser();
    const page = await signIn(b);
    assert.equal(page.status, 200, page.body);
    assert.equal(page.url.pathname, '/', 'lands on Haven after the provider');
    assert.deepEqual((await me(b)).body, { principal: `user:${account.id}`, role: 'compliance' });
    const audit = await stack.api.db.auditEvent.findFirstOrThrow({ where: { action: 'auth.login', principal: `user:${account.id}` }, orderBy: { seq: 'desc' } });
    assert.equal((audit.details as { method: string }).method, 'oidc');
    // The account is now tied to that identity: a later sign-in with a changed email still maps to it.
    idp.signInNext({ sub: 'idp-user-1', email: 'renamed@clinic.example', amr: ['pwd', 'hwk'] });
    const again = browser();
    await signIn(again);
    assert.equal((await me(again)).body?.principal, `user:${account.id}`);
  });

  it('SEC-07 a provider sign-in without a second factor is refused', async () => {
    const account = await provision('operator');
    idp.signInNext({ sub: 'idp-user-2', email: account.email, amr: ['pwd'] });
    const b = browser();
    const page = await signIn(b);
    assert.equal(page.status, 401);
    assert.equal(JSON.parse(page.body).code, 'second_factor_required');
    assert.equal((await me(b)).status, 401);
  });

  it('SEC-01 an identity no admin provisioned, or one claiming a linked account\'s email, is refused and audited', async () => {
    idp.signInNext({ sub: 'idp-stranger', email: 'stranger@clinic.example', amr: ['pwd', 'otp'] });
    const page = await signIn(browser());
    assert.equal(page.status, 401);
    assert.equal(JSON.parse(page.body).code, 'not_provisioned');
    const account = await provision('designer');
    idp.signInNext({ sub: 'idp-user-3', email: account.email, amr: ['otp'] });
    assert.equal((await signIn(browser())).status, 200);
    idp.signInNext({ sub: 'idp-impostor', email: account.email, amr: ['otp'] });
    const impostor = await signIn(browser());
    assert.equal(impostor.status, 401);
    assert.equal(JSON.parse(impostor.body).code, 'subject_mismatch');
    const denied = await stack.api.db.auditEvent.count({ where: { action: 'auth.login', outcome: 'denied', details: { path: ['method'], equals: 'oidc' } } });
    assert.ok(denied >= 2);
  });

  it('a callback from another browser, or with a forged state, is refused', async () => {
    const account = await provision('auditor');
    idp.signInNext({ sub: 'idp-user-4', email: account.email, amr: ['otp'] });
    const started = browser();
    const callback = await started.visit(`${stack.baseUrl}/api/auth/oidc/login`, (u) => u.pathname === '/api/auth/oidc/callback');
    const elsewhere = await browser().visit(callback.url.href);
    assert.equal(elsewhere.status, 401, 'the code alone is worth nothing without the browser that asked for it');
    const forged = new URL(callback.url);
    forged.searchParams.set('state', 'forged');
    assert.equal((await started.visit(forged.href)).status, 401);
    assert.equal((await me(started)).status, 401);
  });

  it('an identity provider that does not answer gives 503, not a sign-in', async () => {
    const down = await startStack({ env: { HAVEN_OIDC_ISSUER: `http://127.0.0.1:${await freePort()}`, HAVEN_OIDC_CLIENT_ID: 'haven', HAVEN_OIDC_CLIENT_SECRET: clientSecret } });
    try {
      const res = await fetch(`${down.baseUrl}/api/auth/oidc/login`, { redirect: 'manual' });
      assert.equal(res.status, 503);
      assert.equal(((await res.json()) as { error: string }).error, 'identity_provider_unavailable');
    } finally {
      await down.close();
    }
  });

  it('with a provider configured, local password sign-in is off', async () => {
    const res = await stack.request('POST', '/api/auth/login', { email: 'someone@clinic.example', password: 'x', code: '000000' }, null);
    assert.equal(res.status, 403);
    assert.equal(res.body.error, 'local_sign_in_disabled');
  });
});
