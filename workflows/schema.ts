// The journey definition format (v0): the one schema shared by the editor, the API and the worker.
// A journey is explicit nodes plus edges with typed ports, so the editor can draw it and the
// validator can reason about it as a graph.
import { z } from 'zod';
import { durationToMs } from './duration.ts';

export const JOURNEY_FORMAT = 'haven.journey/v0';
export const MAX_NODES = 500;

export const ENGAGEMENT_TYPES = ['delivered', 'opened', 'clicked', 'bounced', 'unsubscribed'] as const;
export type EngagementType = (typeof ENGAGEMENT_TYPES)[number];

export const Identifier = z
  .string()
  .regex(/^[A-Za-z][A-Za-z0-9_-]{0,63}$/, 'must be 1–64 letters, digits, "_" or "-", starting with a letter');

const EventName = z
  .string()
  .regex(/^[a-z][a-z0-9_.-]{0,99}$/, 'must be lower-case letters, digits, ".", "_" or "-", starting with a letter');

const Duration = z
  .string()
  .refine((d) => durationToMs(d) !== null, 'must be an ISO 8601 duration in weeks, days, hours, minutes or seconds, e.g. "PT48H"')
  .refine((d) => (durationToMs(d) ?? 0) > 0, 'must be longer than zero');

/** Where the editor drew the node; ignored by the engine. */
const Position = z.object({ x: z.number(), y: z.number() }).strict();

const common = { id: Identifier, label: z.string().max(200).optional(), position: Position.optional() };

export const EntryNode = z.object({ ...common, type: z.literal('entry'), event: EventName }).strict();
export const SendEmailNode = z.object({ ...common, type: z.literal('send_email'), template: Identifier }).strict();
export const WaitForEngagementNode = z
  .object({
    ...common,
    type: z.literal('wait_for_engagement'),
    /** The send node whose message is watched: engagement with any other message does not count. */
    message: Identifier,
    event: z.enum(ENGAGEMENT_TYPES),
    timeout: Duration,
  })
  .strict();
export const ExitNode = z.object({ ...common, type: z.literal('exit') }).strict();

export const NODE_SCHEMAS = {
  entry: EntryNode,
  send_email: SendEmailNode,
  wait_for_engagement: WaitForEngagementNode,
  exit: ExitNode,
} as const;
export type NodeType = keyof typeof NODE_SCHEMAS;

/** The output ports of each node type; every port must be connected to exactly one node. */
export const NODE_PORTS: Record<NodeType, readonly string[]> = {
  entry: ['next'],
  send_email: ['next'],
  wait_for_engagement: ['matched', 'timeout'],
  exit: [],
};

export const JourneyNode = z.discriminatedUnion('type', [EntryNode, SendEmailNode, WaitForEngagementNode, ExitNode]);

export const Edge = z.object({ from: Identifier, to: Identifier, port: z.string().default('next') }).strict();

export const Template = z
  .object({
    subject: z.string().min(1).max(200),
    text: z.string().min(1).max(100_000),
    html: z.string().min(1).max(500_000).optional(),
  })
  .strict();

export const JourneyDefinition = z
  .object({
    format: z.literal(JOURNEY_FORMAT),
    name: z.string().min(1).max(200),
    description: z.string().max(2_000).optional(),
    nodes: z.array(JourneyNode).min(1).max(MAX_NODES),
    edges: z.array(Edge),
    templates: z.record(Identifier, Template),
  })
  .strict();

export type JourneyDefinition = z.infer<typeof JourneyDefinition>;
export type JourneyNode = z.infer<typeof JourneyNode>;
export type Edge = z.infer<typeof Edge>;
export type Template = z.infer<typeof Template>;
