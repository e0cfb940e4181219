// CS-01, the CAN-SPAM primary-purpose test (16 CFR 316.3), decided per send from the step and its
// template. Pure, so the editor shows the same verdict the engine acts on. A commercial message gets
// the opt-out, the postal address and the ad label, and unsubscribes suppress it.
import type { Purpose, Template } from './schema.ts';

export type CanSpamClass = 'commercial' | 'transactional' | 'other';

export interface CanSpamVerdict {
  class: CanSpamClass;
  /** Why it is commercial (empty otherwise). */
  reasons: string[];
}

/** Subject wording a recipient would read as an advertisement. */
const PROMOTIONAL_SUBJECT =
  /(\d+\s*%\s*off|\$\s*\d+\s*off|\b(sale|discounts?|coupons?|promo(tion)?s?|special offers?|limited[- ]time|deals?|save \$?\d+|free (gift|trial|shipping|consultation|exam|whitening)|buy now|order now|shop now|exclusive offer|bonus)\b)/i;

export function isPromotionalSubject(subject: string): boolean {
  return PROMOTIONAL_SUBJECT.test(subject);
}

export function canSpamClassOf(step: { purpose: Purpose; stream: 'transactional' | 'broadcast' }, template: Template): CanSpamVerdict {
  const reasons: string[] = [];
  // Marketing and fundraising are always commercial (CS-01 default), as are broadcasts.
  if (step.purpose === 'MARKETING' || step.purpose === 'FUNDRAISING') reasons.push('PURPOSE_IS_COMMERCIAL');
  if (step.stream === 'broadcast') reasons.push('BROADCAST_STREAM');
  if (template.canSpamClass === 'commercial') reasons.push('DECLARED_COMMERCIAL');
  // A mixed message is commercial unless the transactional part comes first and the subject is
  // not promotional (316.3(a)(2)).
  if (template.promotion?.position === 'above') reasons.push('PROMOTION_BEFORE_TRANSACTIONAL_CONTENT');
  if (isPromotionalSubject(template.subject)) reasons.push('PROMOTIONAL_SUBJECT');
  if (reasons.length) return { class: 'commercial', reasons };
  return { class: template.canSpamClass === 'other' ? 'other' : 'transactional', reasons };
}
