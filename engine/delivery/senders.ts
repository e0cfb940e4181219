// CS-02, no false or misleading headers: who a message claims to be from. An admin approves sender
// identities (display name, From address, Reply-To); journeys pick one by id. The From and Reply-To
// domains must be verified tenant domains, never a free-mail domain; the display name may not pose
// as an agency or brand the tenant has not verified, including through look-alike letters; and no
// header value may carry a line break (header injection) by the time nodemailer sees it.
import { domainToASCII } from 'node:url';

export interface SenderIdentity {
  name: string;
  address: string;
  replyTo?: string | null;
}

export interface SenderPolicy {
  /** Domains the tenant has verified (DKIM-signed, monitored): From and Reply-To must be on one. */
  verifiedDomains: string[];
  /** Protected names this tenant has proven it may use (e.g. its own pharmacy brand). */
  verifiedNames: string[];
}

export interface SenderProblem {
  field: 'name' | 'address' | 'replyTo';
  message: string;
}

/** Mailbox providers anyone can sign up to: never a covered entity's sending domain. */
const FREE_MAIL = new Set(['gmail.com', 'googlemail.com', 'yahoo.com', 'outlook.com', 'hotmail.com', 'live.com', 'msn.com', 'aol.com', 'icloud.com', 'me.com', 'mail.com', 'gmx.com', 'proton.me', 'protonmail.com', 'yandex.com', 'zoho.com']);

/**
 * Agencies, payers and retail health brands recipients trust: a display name containing one is
 * refused unless the tenant verified it. Compared on a skeleton (see `skeleton`).
 */
const PROTECTED_NAMES = [
  'medicare', 'medicaid', 'social security', 'ssa', 'irs', 'cms', 'hhs', 'fda', 'cdc', 'va', 'tricare',
  'cvs', 'walgreens', 'rite aid', 'walmart', 'amazon', 'costco', 'kroger',
  'aetna', 'cigna', 'humana', 'kaiser', 'anthem', 'blue cross', 'blue shield', 'unitedhealthcare', 'united healthcare', 'optum',
  'pfizer', 'moderna', 'apple', 'google', 'microsoft', 'paypal',
];

// Letters from other scripts that render like Latin ones, and digits used as letters.
const LOOKALIKES: Record<string, string> = {
  а: 'a', е: 'e', о: 'o', р: 'p', с: 'c', у: 'y', х: 'x', і: 'i', ј: 'j', ѕ: 's', ԁ: 'd', һ: 'h', ӏ: 'i', ԛ: 'q', ԝ: 'w', в: 'b', м: 'm', н: 'h', т: 't', к: 'k',
  α: 'a', ο: 'o', ρ: 'p', ν: 'v', τ: 't', ι: 'i', κ: 'k', υ: 'u', ε: 'e',
  '0': 'o', '1': 'i', '3': 'e', '5': 's', '$': 's', '@': 'a',
  // "l", "1" and "I" look alike; folding them together catches "Med1care" and "PaypaI".
  l: 'i',
};

/** Lower-case Latin letters only, after compatibility folding and look-alike mapping. */
function skeleton(text: string): string {
  return [...text.normalize('NFKD').replace(/\p{M}/gu, '').toLowerCase()]
    .map((c) => LOOKALIKES[c] ?? c)
    .join('')
    .replace(/[^a-z ]+/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

/** CR, LF and other control characters: in a header they start a new header (injection). */
const CONTROL = /[\u0000-\u001f\u007f\u0085\u2028\u2029]/;

export function hasControlCharacters(value: string): boolean {
  return CONTROL.test(value);
}

function domainOf(address: string): string | undefined {
  const match = /^[^\s@<>()",;:\\[\]]+@([^\s@<>()",;:\\[\]]+\.[^\s@<>()",;:\\[\]]+)$/.exec(address);
  return match ? domainToASCII(match[1]!.toLowerCase()) || undefined : undefined;
}

function addressProblems(field: 'address' | 'replyTo', address: string, policy: SenderPolicy): SenderProblem[] {
  if (hasControlCharacters(address)) return [{ field, message: 'contains a line break or control character' }];
  const domain = domainOf(address);
  if (!domain) return [{ field, message: 'is not a plain email address (name@domain)' }];
  if (FREE_MAIL.has(domain)) return [{ field, message: `${domain} is a free-mail domain; send from a domain the organisation owns` }];
  const verified = policy.verifiedDomains.map((d) => d.toLowerCase());
  if (!verified.includes(domain)) return [{ field, message: `${domain} is not a verified sending domain (HAVEN_SENDER_DOMAINS: ${verified.join(', ')})` }];
  return [];
}

function nameProblems(name: string, policy: SenderPolicy): SenderProblem[] {
  if (hasControlCharacters(name)) return [{ field: 'name', message: 'contains a line break or control character' }];
  if (!name.trim() || name.length > 64) return [{ field: 'name', message: 'must be 1 to 64 characters' }];
  if (/[@<>]/.test(name)) return [{ field: 'name', message: 'may not contain "@", "<" or ">": a display name must not look like an address' }];
  // Latin mixed with Cyrillic or Greek letters is how look-alike names are built.
  const scripts = ['Latin', 'Cyrillic', 'Greek'].filter((s) => new RegExp(`\\p{Script=${s}}`, 'u').test(name));
  if (scripts.length > 1) return [{ field: 'name', message: `mixes ${scripts.join(' and ')} letters (look-alike characters)` }];
  const words = ` ${skeleton(name)} `;
  const allowed = policy.verifiedNames.map((n) => skeleton(n));
  const posed = PROTECTED_NAMES.find((p) => {
    const folded = skeleton(p);
    return words.includes(` ${folded} `) && !allowed.some((a) => ` ${a} `.includes(` ${folded} `));
  });
  if (posed) return [{ field: 'name', message: `"${posed}" is a protected name this organisation has not verified (HAVEN_VERIFIED_SENDER_NAMES)` }];
  return [];
}

export function senderProblems(sender: SenderIdentity, policy: SenderPolicy): SenderProblem[] {
  return [
    ...nameProblems(sender.name, policy),
    ...addressProblems('address', sender.address, policy),
    ...(sender.replyTo ? addressProblems('replyTo', sender.replyTo, policy) : []),
  ];
}

/** `Name <address>` (as in MAIL_FROM) → its parts. */
export function parseMailbox(text: string): SenderIdentity {
  const match = /^\s*"?([^"<]*?)"?\s*<([^>]+)>\s*$/.exec(text);
  return match ? { name: match[1]!.trim(), address: match[2]!.trim() } : { name: '', address: text.trim() };
}
