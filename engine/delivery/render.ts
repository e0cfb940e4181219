// Renders a template for one patient with LiquidJS (sandboxed: no code, own properties only,
// HTML output escaped) and rewrites its links into tracked redirects plus an open pixel.
import { Liquid } from 'liquidjs';
import type { Template } from '../../workflows/index.ts';

const common = { ownPropertyOnly: true, strictFilters: true, jsTruthy: false } as const;
const textEngine = new Liquid(common);
const htmlEngine = new Liquid({ ...common, outputEscape: 'escape' });

export interface RenderContext {
  /** Built-in fields and the attributes the journey declares. */
  patient: Record<string, unknown>;
  /** The declared fields of the entry event. */
  trigger?: Record<string, unknown>;
}

export interface RenderedEmail {
  subject: string;
  text: string;
  html: string;
}

type Part = 'subject' | 'text' | 'html' | 'promotion';

/** Liquid syntax problems in a template, by part; empty when it would render. */
export function templateProblems(template: Template): { part: Part; message: string }[] {
  const problems: { part: Part; message: string }[] = [];
  const sources: [Part, string | undefined, Liquid][] = [
    ['subject', template.subject, textEngine],
    ['text', template.text, textEngine],
    ['html', template.html, htmlEngine],
    ['promotion', template.promotion?.text, textEngine],
    ['promotion', template.promotion?.html, htmlEngine],
  ];
  for (const [part, source, engine] of sources) {
    if (source === undefined) continue;
    try {
      const parsed = engine.parse(source);
      // The promotion is the same for everyone: an ad must not carry patient data (MIN-01).
      if (part === 'promotion' && engine.globalVariableSegmentsSync(parsed).length) {
        problems.push({ part, message: 'the promotional block is static: it may not read patient or trigger data' });
      }
    } catch (e) {
      // Liquid's message quotes only the template source (designer-written), never patient data.
      problems.push({ part, message: (e as Error).message.split('\n')[0] ?? 'invalid template' });
    }
  }
  return problems;
}

/**
 * The data paths a template reads (`patient.givenName`, `trigger.appointment.start`), from Liquid's
 * own static analysis of the parsed template, not a regex. A dynamic lookup (`patient[x]`) counts
 * as reading the whole object.
 */
export function templateFields(template: Template, part?: 'subject' | 'text' | 'html'): string[] {
  const fields = new Set<string>();
  for (const p of part ? [part] : (['subject', 'text', 'html'] as const)) {
    const source = template[p];
    if (source === undefined) continue;
    const engine = p === 'html' ? htmlEngine : textEngine;
    for (const segments of engine.globalVariableSegmentsSync(engine.parse(source))) {
      const literal: string[] = [];
      for (const s of segments) {
        if (typeof s !== 'string' && typeof s !== 'number') break;
        literal.push(String(s));
      }
      fields.add(literal.join('.'));
    }
  }
  return [...fields].sort();
}

export async function renderTemplate(template: Template, context: RenderContext): Promise<RenderedEmail> {
  // Line breaks are not flattened here: the sender refuses them (CS-02) rather than guess.
  const subject = (await textEngine.parseAndRender(template.subject, context)).trim();
  let text = await textEngine.parseAndRender(template.text, context);
  let html = template.html ? await htmlEngine.parseAndRender(template.html, context) : htmlFromText(text);
  const promotion = template.promotion;
  if (promotion) {
    const promoText = (await textEngine.parseAndRender(promotion.text, {})).trim();
    const promoHtml = promotion.html ? await htmlEngine.parseAndRender(promotion.html, {}) : paragraphFromText(promoText);
    if (promotion.position === 'above') {
      text = `${promoText}\n\n${text}`;
      html = /<body[^>]*>/i.test(html) ? html.replace(/<body[^>]*>/i, (tag: string) => `${tag}${promoHtml}`) : `${promoHtml}${html}`;
    } else {
      text = `${text.trimEnd()}\n\n${promoText}\n`;
      html = /<\/body>/i.test(html) ? html.replace(/<\/body>/i, `${promoHtml}</body>`) : `${html}${promoHtml}`;
    }
  }
  return { subject, text, html };
}

export interface TrackedEmail extends RenderedEmail {
  /** Original destinations; index i is what click token i redirects to. */
  links: string[];
}

/** Replaces http(s) links in both parts with tracked URLs and appends the open pixel to the HTML. */
export function addTracking(
  email: RenderedEmail,
  urls: { click: (index: number) => string; open: string },
): TrackedEmail {
  const links: string[] = [];
  const indexOf = (url: string) => {
    const i = links.indexOf(url);
    return i >= 0 ? i : links.push(url) - 1;
  };
  const html = email.html.replace(/(href\s*=\s*)(["'])(https?:\/\/[^"']+)\2/gi, (_m, attr: string, q: string, url: string) => {
    return `${attr}${q}${escapeHtml(urls.click(indexOf(unescapeHtml(url))))}${q}`;
  });
  const text = email.text.replace(/https?:\/\/[^\s<>"')\]]+/g, (url) => urls.click(indexOf(url)));
  const pixel = `<img src="${escapeHtml(urls.open)}" width="1" height="1" alt="" style="display:block;border:0">`;
  const withPixel = /<\/body>/i.test(html) ? html.replace(/<\/body>/i, `${pixel}</body>`) : `${html}${pixel}`;
  return { subject: email.subject, text, html: withPixel, links };
}

/** HTML for a text-only template, its URLs as links (so they are tracked like any other link). */
function htmlFromText(text: string): string {
  return `<!doctype html><html><body>${paragraphFromText(text)}</body></html>`;
}

function paragraphFromText(text: string): string {
  const body = escapeHtml(text)
    .replace(/https?:\/\/[^\s<>"')\]]+/g, (url) => `<a href="${url}">${url}</a>`)
    .replace(/\r?\n/g, '<br>');
  return `<p>${body}</p>`;
}

function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}
function unescapeHtml(s: string): string {
  return s.replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}
