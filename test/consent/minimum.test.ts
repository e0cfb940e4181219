// Minimum necessary (MIN-01), PHI-safe surfaces (MIN-03) and honest classification (INV-3),
// from what a template actually reads (Liquid's static analysis, not a regex).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { minimumNecessaryProblems } from '../../engine/consent/index.ts';
import { templateFields } from '../../engine/delivery/index.ts';
import type { Purpose, Template } from '../../workflows/index.ts';

function problems(template: Template, purpose: Purpose, usesPhi = true): string[] {
  const fields = { subject: templateFields(template, 'subject'), body: templateFields(template) };
  return minimumNecessaryProblems(template, fields, { purpose, usesPhi }).map((p) => p.message);
}

describe('minimum necessary', () => {
  it('reads fields from the compiled template, including bracket lookups and tags', () => {
    const t = { subject: 'Hello', text: '{% if trigger.fill.drug %}{{ trigger.fill.drug | upcase }}{% endif %} {{ patient["familyName"] }}' };
    assert.deepEqual(templateFields(t), ['patient.familyName', 'trigger.fill.drug']);
  });

  it('MIN-01 a refill reminder may use the name and the prescription, not other patient data', () => {
    assert.deepEqual(problems({ subject: 'Refill time', text: 'Hi {{ patient.givenName }}, {{ trigger.fill.drug }} is due.' }, 'REFILL_REMINDER'), []);
    assert.ok(problems({ subject: 'Refill time', text: '{{ patient.problemList }}' }, 'REFILL_REMINDER').some((m) => m.startsWith('MIN-01') && m.includes('patient.problemList')));
  });

  it('FUND-01 a fundraising template that reads a diagnosis is refused', () => {
    assert.ok(problems({ subject: 'Support our clinic', text: 'Dear {{ patient.givenName }} ({{ trigger.diagnosis }})' }, 'FUNDRAISING').some((m) => m.startsWith('FUND-01')));
  });

  it('MIN-03 no patient data and no health condition in the subject', () => {
    assert.ok(problems({ subject: '{{ patient.givenName }}, your results', text: 'x' }, 'TREATMENT').some((m) => m.includes('subject may not contain patient data')));
    assert.ok(problems({ subject: 'Your HIV test results are ready', text: 'x' }, 'TREATMENT').some((m) => m.includes('health condition') && m.includes('HIV')));
    assert.ok(problems({ subject: 'About your diabetes care', text: 'x' }, 'CARE_COORDINATION').some((m) => m.includes('diabetes')));
    assert.deepEqual(problems({ subject: 'A message from your care team', text: 'Hi {{ patient.givenName }}' }, 'TREATMENT'), []);
    assert.ok(problems({ subject: 'Your visit on 03/14/2026 (MRN: A1234567)', text: 'x' }, 'TREATMENT').some((m) => m.includes('identifier') && m.includes('MRN') && m.includes('DATE')));
    assert.ok(problems({ subject: 'Questions? Call 217-555-0134', text: 'x' }, 'TREATMENT').some((m) => m.includes('PHONE')));
  });

  it('MIN-03 links may not carry template data (tokens only), in text or HTML', () => {
    assert.ok(problems({ subject: 'Hi', text: 'See https://portal.example.org/?dx={{ trigger.dx }}' }, 'TREATMENT').some((m) => m.includes('links may not contain')));
    assert.ok(problems({ subject: 'Hi', text: 'x', html: '<a href="https://x.example/{{ patient.givenName }}">go</a>' }, 'TREATMENT').some((m) => m.includes('links may not contain')));
  });

  it('INV-3 a step that says it uses no PHI may not read patient data', () => {
    assert.ok(problems({ subject: 'Flu shots', text: 'Hi {{ patient.givenName }}' }, 'GENERAL_HEALTH_PROMOTION', false).some((m) => m.startsWith('INV-3')));
    assert.deepEqual(problems({ subject: 'Flu shots', text: 'Flu shots are available.' }, 'GENERAL_HEALTH_PROMOTION', false), []);
  });

  it('CS-03 a first message may not pose as a reply or forward', () => {
    assert.ok(problems({ subject: 'RE: your visit', text: 'x' }, 'TREATMENT').some((m) => m.startsWith('CS-03')));
    assert.ok(problems({ subject: 'Fwd: news', text: 'x' }, 'TREATMENT').some((m) => m.startsWith('CS-03')));
    assert.deepEqual(problems({ subject: 'Recall: your annual visit', text: 'x' }, 'TREATMENT'), []);
  });

  it('RCC-04 no third-party pixels, scripts or frames in an email', () => {
    assert.ok(problems({ subject: 'Hi', text: 'x', html: '<img src="https://www.facebook.com/tr?id=1">' }, 'TREATMENT').some((m) => m.startsWith('RCC-04')));
    assert.ok(problems({ subject: 'Hi', text: 'x', html: '<script src="https://ads.example/x.js"></script>' }, 'TREATMENT').some((m) => m.startsWith('RCC-04')));
    assert.deepEqual(problems({ subject: 'Hi', text: 'x', html: '<p>Hello</p><img src="data:image/png;base64,AAAA">' }, 'TREATMENT'), []);
  });
});
