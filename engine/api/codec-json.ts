// The codec server's wire format (what the Temporal Web UI and CLI send): payloads as JSON with
// base64 metadata values and data.
import type { Payload } from '@temporalio/common';
import { z } from 'zod';

const Body = z.object({
  payloads: z
    .array(z.object({ metadata: z.record(z.string(), z.string()).optional(), data: z.string().optional() }))
    .max(1_000),
});

export function payloadsFromJson(body: unknown): Payload[] {
  return Body.parse(body).payloads.map((p) => ({
    metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64')])),
    data: Buffer.from(p.data ?? '', 'base64'),
  }));
}

export function payloadsToJson(payloads: Payload[]): { payloads: { metadata: Record<string, string>; data: string }[] } {
  return {
    payloads: payloads.map((p) => ({
      metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v ?? []).toString('base64')])),
      data: Buffer.from(p.data ?? []).toString('base64'),
    })),
  };
}
