// People in tests: an admin creates the account (password + TOTP enrolment), the person signs in
// with what their authenticator app shows, and carries the session cookie.
import assert from 'node:assert/strict';
import { Secret, TOTP } from 'otpauth';
import type { Stack } from './stack.ts';

export interface TestPerson {
  email: string;
  password: string;
  totpUri: string;
}

/** What the person's authenticator app shows now. */
export const currentCode = (totpUri: string) =>
  new TOTP({ secret: Secret.fromBase32(new URL(totpUri).searchParams.get('secret')!), digits: 6, period: 30 }).generate();

export async function newPerson(stack: Stack, role: string): Promise<TestPerson> {
  const email = `${role}.${Math.random().toString(36).slice(2, 8)}@clinic.example`;
  const res = await stack.request('POST', '/api/users', { email, name: `A ${role}`, role });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return { email, password: res.body.password as string, totpUri: res.body.totpUri as string };
}

export const login = (stack: Stack, person: TestPerson, code = currentCode(person.totpUri)) =>
  fetch(`${stack.baseUrl}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: person.email, password: person.password, code }) });

export const cookieOf = (res: Response) => res.headers.get('set-cookie')!.split(';')[0]!;

/** A signed-in person of `role`: their session cookie and how to call the API with it. */
export async function signedIn(stack: Stack, role: string) {
  const person = await newPerson(stack, role);
  const res = await login(stack, person);
  assert.equal(res.status, 200);
  const cookie = cookieOf(res);
  const call = async (method: string, path: string, body?: unknown) => {
    const r = await fetch(`${stack.baseUrl}${path}`, {
      method,
      headers: { cookie, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await r.text();
    return { status: r.status, body: text ? (JSON.parse(text) as any) : null };
  };
  const me = await call('GET', '/api/auth/me');
  return { person, cookie, call, principal: me.body.principal as string };
}
