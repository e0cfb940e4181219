// Sign-in through an OpenID Connect provider (the organisation's IdP) instead of local passwords:
// authorization code flow with PKCE, state and nonce (openid-client). The flow's secrets travel in
// a short-lived cookie sealed with the payload keys, so no server-side state is needed between the
// redirect and the callback. The provider authenticates; Haven authorizes (people.ts).
import * as client from 'openid-client';
import { openField, sealField, type PayloadKey } from '../phi/index.ts';
import type { ExternalIdentity } from './people.ts';

export interface OidcSettings {
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** Haven's callback, registered at the provider. */
  redirectUri: string;
  /** `amr` values that count as a second factor. */
  mfaMethods: string[];
}

const FLOW_MINUTES = 10;

export class OidcError extends Error {}
export class OidcUnavailableError extends Error {}

export function createOidcSignIn(settings: OidcSettings, keys: PayloadKey[]) {
  let discovered: Promise<client.Configuration> | null = null;
  // Discovery waits for the first sign-in (the IdP may start after Haven) and is retried on failure.
  const configuration = () => {
    const issuer = new URL(settings.issuer);
    // Plain http only for a provider on this machine (development, tests).
    const loopback = ['127.0.0.1', 'localhost', '[::1]'].includes(issuer.hostname);
    discovered ??= client
      .discovery(issuer, settings.clientId, settings.clientSecret, undefined, loopback ? { execute: [client.allowInsecureRequests] } : undefined)
      .catch(() => {
        discovered = null;
        throw new OidcUnavailableError('the identity provider does not answer; try again shortly');
      });
    return discovered;
  };

  return {
    /** Where to send the browser, and the sealed cookie that carries this attempt's secrets. */
    async begin(): Promise<{ url: string; flow: string }> {
      const verifier = client.randomPKCECodeVerifier();
      const state = client.randomState();
      const nonce = client.randomNonce();
      const url = client.buildAuthorizationUrl(await configuration(), {
        redirect_uri: settings.redirectUri,
        scope: 'openid email',
        code_challenge: await client.calculatePKCECodeChallenge(verifier),
        code_challenge_method: 'S256',
        state,
        nonce,
        // Ask for the authentication methods in the ID token: Haven needs them to see a second factor.
        claims: JSON.stringify({ id_token: { amr: null, email: null, email_verified: null } }),
      });
      const flow = sealField(keys, JSON.stringify({ verifier, state, nonce, exp: Date.now() + FLOW_MINUTES * 60_000 }), 'oidc-flow');
      return { url: url.href, flow };
    },

    /** Validates the callback against the attempt's secrets; the identity the ID token asserts. */
    async finish(callbackUrl: URL, flowCookie: string | undefined): Promise<ExternalIdentity> {
      let flow: { verifier: string; state: string; nonce: string; exp: number };
      try {
        flow = JSON.parse(openField(keys, flowCookie ?? '', 'oidc-flow'));
      } catch {
        throw new OidcError('no sign-in in progress in this browser');
      }
      if (flow.exp < Date.now()) throw new OidcError('the sign-in took too long; start again');
      const provider = await configuration();
      let tokens: client.TokenEndpointResponse & client.TokenEndpointResponseHelpers;
      try {
        tokens = await client.authorizationCodeGrant(provider, callbackUrl, {
          pkceCodeVerifier: flow.verifier,
          expectedState: flow.state,
          expectedNonce: flow.nonce,
          idTokenExpected: true,
        });
      } catch (e) {
        // openid-client's messages describe protocol faults (state, nonce, signature), not people.
        throw new OidcError(`the provider's answer was not accepted (${(e as { code?: string }).code ?? 'invalid'})`);
      }
      const claims = tokens.claims()!;
      // Code-flow providers often keep profile claims out of the ID token: ask UserInfo then.
      let profile: Record<string, unknown> = { ...claims };
      if (typeof claims.email !== 'string') {
        try {
          profile = { ...(await client.fetchUserInfo(provider, tokens.access_token, claims.sub)) };
        } catch (e) {
          throw new OidcError(`the provider's profile could not be read (${(e as { code?: string }).code ?? 'invalid'})`);
        }
      }
      return {
        issuer: claims.iss,
        subject: claims.sub,
        email: typeof profile.email === 'string' ? profile.email : null,
        emailVerified: profile.email_verified === true,
        amr: Array.isArray(claims.amr) ? claims.amr.filter((m): m is string => typeof m === 'string') : [],
      };
    },
  };
}

export type OidcSignIn = ReturnType<typeof createOidcSignIn>;
