// Search attributes Haven sets on journey runs (plaintext in Temporal: opaque ids and enums only).
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

export const JourneyIdKey = defineSearchAttributeKey('JourneyId', SearchAttributeType.KEYWORD);
export const JourneyVersionKey = defineSearchAttributeKey('JourneyVersion', SearchAttributeType.INT);
export const JourneyNodeKey = defineSearchAttributeKey('JourneyNode', SearchAttributeType.KEYWORD);
export const EnrollmentStateKey = defineSearchAttributeKey('EnrollmentState', SearchAttributeType.KEYWORD);

/** Name → type, as `temporal server start-dev --search-attribute` and `operator search-attribute create` want them. */
export const SEARCH_ATTRIBUTES = {
  JourneyId: 'Keyword',
  JourneyVersion: 'Int',
  JourneyNode: 'Keyword',
  EnrollmentState: 'Keyword',
} as const;

export const SEARCH_ATTRIBUTE_KEYS = [JourneyIdKey, JourneyVersionKey, JourneyNodeKey, EnrollmentStateKey];
