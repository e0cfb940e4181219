// Webhook nodes: an HTTPS POST of PHI-free data — ids of the journey, node and run plus the
// node's constant payload — signed with HMAC-SHA256 so the receiver can trust it, and carrying
// an Idempotency-Key so retries can be recognised.
import { createHmac } from 'node:crypto';
import https from 'node:https';
import tls from 'node:tls';
import type { NodeRequest } from '../../workflows/index.ts';
import type { PrismaClient } from '../db/index.ts';
import { loadRunFacts } from './facts.ts';

export interface WebhookSettings {
  secret: string;
  /** Extra CA certificates (PEM) to trust, for receivers with a private CA. */
  ca?: string;
  timeoutMs?: number;
}

export async function callWebhook(
  db: PrismaClient,
  settings: WebhookSettings,
  request: NodeRequest & { idempotencyKey: string },
): Promise<void> {
  const facts = await loadRunFacts(db, request.enrollmentId);
  const node = facts.definition.nodes.find((n) => n.id === request.nodeId);
  if (node?.type !== 'webhook') throw new Error(`node ${request.nodeId} is not a webhook node`);
  const body = JSON.stringify({
    journeyId: request.journeyId,
    version: request.version,
    nodeId: request.nodeId,
    run: facts.enrollment.ref,
    at: new Date().toISOString(),
    payload: node.payload ?? {},
  });
  const signature = createHmac('sha256', settings.secret).update(body).digest('hex');
  const url = new URL(node.url);
  if (url.protocol !== 'https:') throw new Error('webhooks must use https');
  const status = await new Promise<number>((resolve, reject) => {
    const req = https.request(
      url,
      {
        method: 'POST',
        // Extra CAs are added to the public ones, not instead of them.
        ...(settings.ca ? { ca: [...tls.rootCertificates, settings.ca] } : {}),
        timeout: settings.timeoutMs ?? 10_000,
        headers: {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
          'idempotency-key': request.idempotencyKey,
          'x-haven-signature': `sha256=${signature}`,
        },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('timeout', () => req.destroy(new Error('webhook timed out')));
    req.on('error', (e) => reject(new Error(`webhook request failed (${(e as NodeJS.ErrnoException).code ?? e.message})`)));
    req.end(body);
  });
  if (status < 200 || status >= 300) throw new Error(`webhook answered ${status}`);
}
