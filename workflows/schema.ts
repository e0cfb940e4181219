// The journey definition format: the one schema shared by the editor, the API and the worker.
// A journey is explicit nodes plus edges with typed ports (so the editor can draw it and the
// validator can reason about it as a graph), journey-wide rules, the typed data it reads, and its
// templates. Expressions (conditions, filters, times) are CEL: typed, side-effect free, no code.
import { z } from 'zod';
import { durationToMs } from './duration.ts';

export const JOURNEY_FORMAT = 'haven.journey/v1';
export const MAX_NODES = 500;

export const ENGAGEMENT_TYPES = ['delivered', 'opened', 'clicked', 'bounced', 'unsubscribed'] as const;
export type EngagementType = (typeof ENGAGEMENT_TYPES)[number];

/** Why a message is sent (compliance INV-3). A closed set: anything else is refused, never coerced. */
export const PURPOSES = [
  'TREATMENT',
  'CARE_COORDINATION',
  'REFILL_REMINDER',
  'OWN_HEALTH_PRODUCT',
  'GOV_PROGRAM_INFO',
  'GENERAL_HEALTH_PROMOTION',
  'FUNDRAISING',
  'MARKETING',
  'TRANSACTIONAL',
] as const;
export type Purpose = (typeof PURPOSES)[number];

/** Types a journey may declare for the data it reads (CEL type names). */
export const DATA_TYPES = ['string', 'int', 'double', 'bool', 'timestamp', 'list<string>'] as const;
export type DataType = (typeof DATA_TYPES)[number];

export const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;

export const Identifier = z
  .string()
  .regex(/^[A-Za-z][A-Za-z0-9_-]{0,63}$/, 'must be 1–64 letters, digits, "_" or "-", starting with a letter');

export const EventName = z
  .string()
  .regex(/^[a-z][a-z0-9_.-]{0,99}$/, 'must be lower-case letters, digits, ".", "_" or "-", starting with a letter');

/** Longest journey timing accepted: about ten years. */
export const MAX_DURATION_MS = 520 * 7 * 86_400_000;

export const Duration = z
  .string()
  .refine((d) => durationToMs(d) !== null, 'must be an ISO 8601 duration in weeks, days, hours, minutes or seconds, e.g. "PT48H"')
  .refine((d) => (durationToMs(d) ?? 0) > 0, 'must be longer than zero')
  .refine((d) => (durationToMs(d) ?? 0) <= MAX_DURATION_MS, 'must be at most 520 weeks (P520W)');

/** A CEL expression; its types are checked against the journey's `data` declarations. */
export const Expression = z.string().min(1).max(2_000);

const FieldName = z.string().regex(/^[a-z][A-Za-z0-9_]{0,63}$/, 'field names are letters, digits or "_", starting lower-case');
/** Declared shape of data: field → type, or a nested object of fields. */
export type DataShape = { [field: string]: DataType | DataShape };
export const DataShape: z.ZodType<DataShape> = z.lazy(() => z.record(FieldName, z.union([z.enum(DATA_TYPES), DataShape])));

const ClockTime = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be a 24-hour time "HH:MM"');
/** When messages may go out, in the patient's own time zone. */
export const SendWindow = z
  .object({
    start: ClockTime,
    end: ClockTime,
    days: z.array(z.enum(WEEKDAYS)).min(1).optional(),
  })
  .strict()
  .refine((w) => w.start !== w.end, 'start and end must differ');
export type SendWindow = z.infer<typeof SendWindow>;

/** Where the editor drew the node; ignored by the engine. */
const Position = z.object({ x: z.number(), y: z.number() }).strict();
const common = { id: Identifier, label: z.string().max(200).optional(), position: Position.optional() };

export const EntryNode = z
  .object({
    ...common,
    type: z.literal('entry'),
    event: EventName,
    /** Only events for which this holds enroll (CEL over `trigger` and `patient`). */
    when: Expression.optional(),
    /** Field of the trigger data that identifies one occurrence (e.g. `appointment.id`): each occurrence gets its own run. */
    key: z.string().regex(/^[a-z][A-Za-z0-9_]*(\.[a-z][A-Za-z0-9_]*)*$/, 'must be a dotted field path such as "appointment.id"').optional(),
  })
  .strict();

export const Schedule = z.union([
  z.object({ at: z.iso.datetime({ offset: true }) }).strict(),
  z.object({ cron: z.string().regex(/^\S+( \S+){4}$/, 'must be a 5-field cron expression'), timezone: z.string().min(1).max(64) }).strict(),
]);
export type Schedule = z.infer<typeof Schedule>;

export const AudienceEntryNode = z
  .object({
    ...common,
    type: z.literal('audience_entry'),
    /** Id of a saved audience (POST /api/audiences), evaluated each time the schedule fires. */
    audience: z.string().min(1).max(100),
    schedule: Schedule,
  })
  .strict();

export const REMUNERATION = ['none', 'costBased', 'exceedsCost'] as const;

export const SendEmailNode = z
  .object({
    ...common,
    type: z.literal('send_email'),
    template: Identifier,
    purpose: z.enum(PURPOSES),
    /** Whether the message (content or choice of recipient) uses PHI beyond the address (INV-3). */
    usesPhi: z.boolean(),
    /** Payment from a third party whose product the message describes (MKT-03, MKT-05). */
    thirdPartyRemuneration: z.enum(REMUNERATION),
    /** The third party paying, when there is one (or inherited from the journey's sponsor). */
    sponsor: z.string().min(1).max(200).optional(),
    /** Approved sender identity for this send, overriding the journey's (CS-02). */
    sender: Identifier.optional(),
    /** HIPAA marketing exceptions; never available for electronic messages (MKT-04). */
    exception: z.enum(['FACE_TO_FACE', 'NOMINAL_GIFT']).optional(),
    /** `broadcast` for campaigns and newsletters, `transactional` for messages about the patient's own care. */
    stream: z.enum(['transactional', 'broadcast']).default('transactional'),
    /** Overrides the journey's send window; `null` sends at any hour. */
    sendWindow: SendWindow.nullable().optional(),
  })
  .strict();

export const DelayNode = z.object({ ...common, type: z.literal('delay'), duration: Duration }).strict();

export const WaitUntilNode = z
  .object({
    ...common,
    type: z.literal('wait_until'),
    /** CEL timestamp, e.g. `trigger.appointment.start - duration("48h")` or `timestamp("2027-01-04T09:00:00Z")`. */
    at: Expression,
    /** If the time has already passed: go on at once, end the journey, or take the `late` output. */
    late: z.enum(['proceed', 'exit', 'branch']).default('proceed'),
  })
  .strict();

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

export const WaitForEventNode = z
  .object({
    ...common,
    type: z.literal('wait_for_event'),
    event: EventName,
    /** CEL over `event` (the new event's data), `trigger` and `patient`. */
    when: Expression.optional(),
    /** Only an event about the same occurrence (same entry key) counts. */
    sameKey: z.boolean().default(false),
    timeout: Duration,
  })
  .strict();

export const ConditionNode = z.object({ ...common, type: z.literal('condition'), when: Expression }).strict();

export const EngagementBranchNode = z
  .object({ ...common, type: z.literal('engagement_branch'), message: Identifier, event: z.enum(ENGAGEMENT_TYPES) })
  .strict();

export const SplitNode = z
  .object({
    ...common,
    type: z.literal('split'),
    /** Each arm is an output port; a patient always lands in the same arm. */
    arms: z
      .array(z.object({ name: Identifier, weight: z.number().positive('weights must be positive').finite() }).strict())
      .min(2, 'a split needs at least two arms')
      .max(10),
  })
  .strict();

export const UpdatePatientNode = z
  .object({
    ...common,
    type: z.literal('update_patient'),
    /** Attribute → CEL expression for its new value. */
    set: z.record(FieldName, Expression).optional(),
    addTags: z.array(Identifier).max(20).optional(),
    removeTags: z.array(Identifier).max(20).optional(),
  })
  .strict()
  .refine((n) => n.set || n.addTags?.length || n.removeTags?.length, 'an update_patient node must change something');

export const WebhookNode = z
  .object({
    ...common,
    type: z.literal('webhook'),
    url: z.url({ protocol: /^https$/, error: 'must be an https:// URL' }).max(2_000),
    /** Constant JSON sent along with ids of the journey, node and run. Never patient data. */
    payload: z.record(z.string(), z.union([z.string().max(500), z.number(), z.boolean(), z.null()])).optional(),
  })
  .strict();

export const ExitNode = z.object({ ...common, type: z.literal('exit') }).strict();

export const NODE_SCHEMAS = {
  entry: EntryNode,
  audience_entry: AudienceEntryNode,
  send_email: SendEmailNode,
  delay: DelayNode,
  wait_until: WaitUntilNode,
  wait_for_engagement: WaitForEngagementNode,
  wait_for_event: WaitForEventNode,
  condition: ConditionNode,
  engagement_branch: EngagementBranchNode,
  split: SplitNode,
  update_patient: UpdatePatientNode,
  webhook: WebhookNode,
  exit: ExitNode,
} as const;
export type NodeType = keyof typeof NODE_SCHEMAS;

export const JourneyNode = z.union([
  EntryNode,
  AudienceEntryNode,
  SendEmailNode,
  DelayNode,
  WaitUntilNode,
  WaitForEngagementNode,
  WaitForEventNode,
  ConditionNode,
  EngagementBranchNode,
  SplitNode,
  UpdatePatientNode,
  WebhookNode,
  ExitNode,
]);
export type JourneyNode = z.infer<typeof JourneyNode>;
export type NodeOf<T extends NodeType> = Extract<JourneyNode, { type: T }>;

export { nodePorts } from './ports.ts';

export const Edge = z.object({ from: Identifier, to: Identifier, port: z.string().default('next') }).strict();

/** CAN-SPAM primary purpose a template declares (CS-01); see can-spam.ts for how it is decided. */
export const CAN_SPAM_CLASSES = ['commercial', 'transactional', 'other'] as const;

export const Template = z
  .object({
    /** One header line: a line break would start a new header (CS-02 header injection). */
    subject: z
      .string()
      .min(1)
      .max(200)
      .refine((s) => !/[\u0000-\u001f\u007f\u0085\u2028\u2029]/.test(s), 'CS-02: the subject may not contain line breaks or control characters'),
    text: z.string().min(1).max(100_000),
    html: z.string().min(1).max(500_000).optional(),
    canSpamClass: z.enum(CAN_SPAM_CLASSES).optional(),
    /**
     * A promotional block (an offer, a newsletter teaser) placed above or below the message. Kept
     * apart from the body so the primary-purpose test can see where it sits; static (no data).
     */
    promotion: z
      .object({
        position: z.enum(['above', 'below']),
        text: z.string().min(1).max(10_000),
        html: z.string().min(1).max(50_000).optional(),
      })
      .strict()
      .optional(),
  })
  .strict();

const EventCriterion = z
  .object({
    event: EventName,
    /** CEL over `event`, `trigger` and `patient`. */
    when: Expression.optional(),
    /** Only an event about the same occurrence (same entry key) counts. */
    sameKey: z.boolean().default(false),
  })
  .strict();

export const Rules = z
  .object({
    /** Whether a patient may go through the journey again after finishing it. */
    reentry: z
      .discriminatedUnion('mode', [
        z.object({ mode: z.literal('never') }).strict(),
        z.object({ mode: z.literal('always') }).strict(),
        z.object({ mode: z.literal('after'), period: Duration }).strict(),
      ])
      .default({ mode: 'never' }),
    /** At most `max` emails to a patient per `per`, counting sends of every journey. */
    frequencyCap: z
      .object({ max: z.number().int().positive(), per: Duration, onCapped: z.enum(['defer', 'skip']).default('defer') })
      .strict()
      .optional(),
    /** Default send window (quiet hours outside it), in the patient's time zone; sends outside wait for it. */
    sendWindow: SendWindow.optional(),
    /** Events that end the journey at once. */
    exitOn: z.array(EventCriterion).max(20).default([]),
    /** The conversion event; counted with the path of nodes that led to it. */
    goal: EventCriterion.extend({ exit: z.boolean().default(true) }).strict().optional(),
  })
  .strict();
export type Rules = z.infer<typeof Rules>;

export const JourneyData = z
  .object({
    /** Fields of the entry event's data the journey uses. */
    trigger: DataShape.default({}),
    /** Patient attributes the journey uses, besides the built-in fields. */
    patient: DataShape.default({}),
    /** Data of events named in `wait_for_event`, `exitOn` and `goal`, by event name. */
    events: z.record(EventName, DataShape).default({}),
  })
  .strict();
export type JourneyData = z.infer<typeof JourneyData>;

export const JourneyDefinition = z
  .object({
    format: z.literal(JOURNEY_FORMAT),
    name: z.string().min(1).max(200),
    description: z.string().max(2_000).optional(),
    /** A third party paying for the whole campaign: every send inherits it (MKT-03). */
    sponsor: z.string().min(1).max(200).optional(),
    /** Approved sender identity (POST /api/senders) for every send; the deployment's default otherwise (CS-02). */
    sender: Identifier.optional(),
    data: JourneyData.default({ trigger: {}, patient: {}, events: {} }),
    rules: Rules.default({ reentry: { mode: 'never' }, exitOn: [] }),
    nodes: z.array(JourneyNode).min(1),
    edges: z.array(Edge),
    templates: z.record(Identifier, Template),
  })
  .strict();

export type JourneyDefinition = z.infer<typeof JourneyDefinition>;
export type Edge = z.infer<typeof Edge>;
export type Template = z.infer<typeof Template>;
