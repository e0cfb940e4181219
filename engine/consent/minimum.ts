// Minimum necessary (MIN-01) and PHI-safe message surfaces (MIN-03), checked when a journey is
// published and again when a message is rendered. Pure: callers supply the fields a template
// reads (from Liquid's static analysis) and its source text.
import type { Purpose, Template } from '../../workflows/index.ts';
import { scanForPhi } from '../phi/index.ts';
import { FUNDRAISING_FIELDS } from './decide.ts';

const NAME = ['patient.givenName', 'patient.familyName'];

/**
 * The data each purpose may put in a message. `any`: whatever the journey declares (treatment
 * needs the details). Marketing is bounded later by the patient's authorization (AUTH-08).
 */
const ALLOWED: Record<Purpose, 'any' | string[]> = {
  TREATMENT: 'any',
  CARE_COORDINATION: 'any',
  TRANSACTIONAL: 'any',
  MARKETING: 'any',
  REFILL_REMINDER: [...NAME, 'trigger'],
  FUNDRAISING: FUNDRAISING_FIELDS,
  OWN_HEALTH_PRODUCT: NAME,
  GOV_PROGRAM_INFO: NAME,
  GENERAL_HEALTH_PROMOTION: NAME,
};

/** Words that reveal a health condition or service: never in a subject line (MIN-03). */
const CONDITION_TERMS =
  /\b(hiv|aids|cancer|oncology|tumou?r|diabet\w*|pregnan\w*|prenatal|std|sti|hepatitis|depress\w*|anxiety|mental health|psychiatr\w*|substance|opioid|addiction|alcohol\w*|abortion|dialysis|chemo\w*|biopsy|diagnos\w*|test results?|lab results?|positive|hiv|dementia|alzheimer\w*|schizo\w*|bipolar|infertility|ivf|transplant)\b/i;

export interface MinimumProblem {
  part: 'subject' | 'text' | 'html' | 'template';
  message: string;
}

export function minimumNecessaryProblems(
  template: Template,
  fieldsByPart: { subject: string[]; body: string[] },
  step: { purpose: Purpose; usesPhi: boolean },
): MinimumProblem[] {
  const problems: MinimumProblem[] = [];
  if (/^\s*(re|fwd?|fw)\s*:/i.test(template.subject)) {
    problems.push({ part: 'subject', message: 'CS-03: a first message may not pretend to be a reply or a forward ("Re:", "Fwd:")' });
  }
  if (template.html) problems.push(...trackingProblems(template.html));
  if (fieldsByPart.subject.length) {
    problems.push({ part: 'subject', message: `MIN-03: the subject may not contain patient data (it reads ${fieldsByPart.subject.join(', ')})` });
  }
  const identifiers = [...new Set(scanForPhi(template.subject).map((f) => f.category))];
  if (identifiers.length) problems.push({ part: 'subject', message: `MIN-03: the subject contains an identifier (${identifiers.join(', ')})` });
  const term = CONDITION_TERMS.exec(template.subject);
  if (term) problems.push({ part: 'subject', message: `MIN-03: the subject names a health condition or service ("${term[0]}")` });

  for (const part of ['text', 'html'] as const) {
    const source = template[part];
    if (source && urlsWithData(source).length) {
      problems.push({ part, message: 'MIN-03: links may not contain template data; use fixed URLs (they are tracked with opaque tokens)' });
    }
  }

  const fields = [...new Set([...fieldsByPart.subject, ...fieldsByPart.body])];
  if (!step.usesPhi && fields.length) {
    problems.push({ part: 'template', message: `INV-3: the step says it uses no PHI, but its template reads ${fields.join(', ')}` });
  }
  const allowed = ALLOWED[step.purpose];
  if (allowed !== 'any') {
    const extra = fields.filter((f) => !allowed.some((a) => f === a || f.startsWith(`${a}.`)));
    if (extra.length) {
      const id = step.purpose === 'FUNDRAISING' ? 'FUND-01' : 'MIN-01';
      problems.push({ part: 'template', message: `${id}: a ${step.purpose} message may not use ${extra.join(', ')}` });
    }
  }
  return problems;
}

/**
 * RCC-04: only first-party tracking. No scripts, frames or third-party pixels in an email: Haven's
 * own open pixel is the only remote image added, and images must be embedded or on a data URI.
 */
function trackingProblems(html: string): MinimumProblem[] {
  const problems: MinimumProblem[] = [];
  if (/<\s*(script|iframe|object|embed)\b/i.test(html)) problems.push({ part: 'html', message: 'RCC-04: scripts, frames and embedded objects are not allowed in email' });
  const remote = [...html.matchAll(/<\s*img\b[^>]*\bsrc\s*=\s*(["'])(https?:[^"']*)\1/gi)].map((m) => m[2]!);
  if (remote.length) problems.push({ part: 'html', message: `RCC-04: remote images are third-party tracking (${remote.length} found); attach or inline them` });
  return problems;
}

/** URLs in a template (href values or bare) that contain Liquid output or tags. */
function urlsWithData(source: string): string[] {
  const hrefs = [...source.matchAll(/href\s*=\s*(["'])(.*?)\1/gi)].map((m) => m[2]!);
  const bare = [...source.matchAll(/https?:\/\/[^\s"'<>]*/gi)].map((m) => m[0]);
  return [...hrefs, ...bare].filter((u) => u.includes('{{') || u.includes('{%'));
}
