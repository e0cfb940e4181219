// Every API route is either public (tracking, unsubscribe, health) or needs a principal whose role
// grants its permission: unauthenticated → 401, wrong role → 403 (and the refusal is audited).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { can, ROLES, type Role } from '../../engine/auth/index.ts';
import { PUBLIC_ROUTES, ROUTE_PERMISSIONS } from '../../engine/api/index.ts';
import { startStack, type Stack } from '../support/stack.ts';

describe('API authorization (SEC-01, MIN-02)', () => {
  let stack: Stack;
  const keys = new Map<Role, string>();
  before(async () => {
    stack = await startStack();
    for (const role of ROLES) keys.set(role, await stack.keyFor(role));
  });
  after(() => stack.close());

  const call = (route: string, key: string | null) => {
    const [method, pattern] = route.split(' ') as [string, string];
    return stack.request(method, pattern.replace(/:[A-Za-z]+/g, 'x'), method === 'GET' ? undefined : {}, key);
  };

  it('every registered route is public or has a permission', () => {
    const unclassified = stack.api.app.havenRoutes.filter((r) => !PUBLIC_ROUTES.includes(r) && !(r in ROUTE_PERMISSIONS));
    assert.deepEqual(unclassified, []);
    assert.ok(Object.keys(ROUTE_PERMISSIONS).length >= 25);
  });

  it('SEC-01 every non-public route refuses a request without an API key, or with a bad one (401)', async () => {
    for (const route of Object.keys(ROUTE_PERMISSIONS)) {
      assert.equal((await call(route, null)).status, 401, route);
      assert.equal((await call(route, `hk_${'0'.repeat(12)}_${'A'.repeat(32)}`)).status, 401, `${route} (forged key)`);
    }
  });

  it('MIN-02 every non-public route refuses a role without its permission (403)', async () => {
    for (const [route, permission] of Object.entries(ROUTE_PERMISSIONS)) {
      if (permission === 'authenticated') continue; // any principal
      const role = ROLES.find((r) => !can(r, permission))!;
      const res = await call(route, keys.get(role)!);
      assert.equal(res.status, 403, `${route} as ${role}`);
    }
  });

  it('MIN-02 a designer (marketing) reading a patient\'s consent record is refused and the attempt audited', async () => {
    const res = await call('GET /api/patients/:id/consent', keys.get('designer')!);
    assert.equal(res.status, 403);
    const audit = await stack.api.db.auditEvent.findFirst({ where: { action: 'api.access', outcome: 'denied', objectId: 'GET /api/patients/:id/consent' }, orderBy: { at: 'desc' } });
    assert.ok(audit);
    assert.match(audit!.principal, /^apikey:test-designer-/);
  });

  it('public routes need no key', async () => {
    assert.equal((await stack.request('GET', '/healthz', undefined, null)).status, 200);
    assert.equal((await stack.request('GET', '/t/o/not-a-token.gif', undefined, null)).status, 404);
  });

  it('SEC-01 audited actions carry the caller\'s own principal, never a shared one', async () => {
    const designer = keys.get('designer')!;
    const res = await stack.request('POST', '/api/journeys', { format: 'haven.journey/v1' }, designer);
    assert.equal(res.status, 400);
    const audit = await stack.api.db.auditEvent.findFirst({ where: { action: 'journey.create', outcome: 'refused' }, orderBy: { at: 'desc' } });
    assert.match(audit!.principal, /^apikey:test-designer-/);
  });
});
