// A real OpenID Connect provider (npm oidc-provider) for sign-in tests. The test decides who "signs
// in" there next and with which methods (amr); the provider's login and consent steps finish on
// their own, as if the person had typed a password and an authenticator code at their IdP.
import { createServer, type Server } from 'node:http';
import Provider from 'oidc-provider';

export interface IdpPerson {
  sub: string;
  email: string;
  emailVerified?: boolean;
  amr: string[];
}

export async function startIdentityProvider(options: { port: number; clientId: string; clientSecret: string; redirectUri: string }) {
  const issuer = `http://127.0.0.1:${options.port}`;
  const people = new Map<string, IdpPerson>();
  let next: IdpPerson | null = null;
  const provider = new Provider(issuer, {
    clients: [{ client_id: options.clientId, client_secret: options.clientSecret, redirect_uris: [options.redirectUri], grant_types: ['authorization_code'], response_types: ['code'] }],
    claims: { amr: null, openid: ['sub'], email: ['email', 'email_verified'] },
    findAccount: async (_ctx, sub) => {
      const person = people.get(sub);
      return person ? { accountId: sub, claims: async () => ({ sub, email: person.email, email_verified: person.emailVerified ?? true }) } : undefined;
    },
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    features: { devInteractions: { enabled: false }, claimsParameter: { enabled: true } },
    cookies: { keys: ['haven-test-idp-cookie-key'] },
    pkce: { required: () => true },
  });
  provider.on('server_error', () => {});
  const callback = provider.callback();
  const server: Server = createServer(async (req, res) => {
    if (!req.url?.startsWith('/interaction/')) return callback(req, res);
    try {
      const details = await provider.interactionDetails(req, res);
      if (details.prompt.name === 'login') {
        if (!next) throw new Error('the test named no one to sign in');
        people.set(next.sub, next);
        await provider.interactionFinished(req, res, { login: { accountId: next.sub, amr: next.amr } }, { mergeWithLastSubmission: false });
        return;
      }
      const grant = new provider.Grant({ accountId: details.session!.accountId, clientId: String(details.params.client_id) });
      const missing = details.prompt.details as { missingOIDCScope?: string[]; missingOIDCClaims?: string[] };
      if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
      if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
      await provider.interactionFinished(req, res, { consent: { grantId: await grant.save() } }, { mergeWithLastSubmission: true });
    } catch (e) {
      res.statusCode = 500;
      res.end(String(e));
    }
  });
  await new Promise<void>((resolve) => server.listen(options.port, '127.0.0.1', resolve));
  return {
    issuer,
    /** Who signs in at the provider on the next attempt. */
    signInNext(person: IdpPerson) {
      next = person;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** A browser enough for redirects: follows them by hand and keeps cookies (host-wide, as browsers do). */
export function browser() {
  const jar = new Map<string, string>();
  const header = () => [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
  const keep = (res: Response) => {
    for (const line of res.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq).trim();
      const value = pair!.slice(eq + 1).trim();
      if (/max-age=0/i.test(line) || value === '') jar.delete(name);
      else jar.set(name, value);
    }
  };
  return {
    jar,
    /** GETs `url` and follows redirects until one leaves `stopAt`'s origin path or a page answers. */
    async visit(url: string, stopAt?: (url: URL) => boolean): Promise<{ status: number; url: URL; body: string }> {
      let current = new URL(url);
      for (let hop = 0; hop < 20; hop++) {
        const res = await fetch(current, { redirect: 'manual', headers: { cookie: header() } });
        keep(res);
        const location = res.headers.get('location');
        if (res.status >= 300 && res.status < 400 && location) {
          const target = new URL(location, current);
          if (stopAt?.(target)) return { status: res.status, url: target, body: '' };
          current = target;
          continue;
        }
        return { status: res.status, url: current, body: await res.text() };
      }
      throw new Error('too many redirects');
    },
    cookie: header,
  };
}
