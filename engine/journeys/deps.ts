import type { Client } from '@temporalio/client';
import type { ConsentSettings } from '../consent/index.ts';
import type { PrismaClient } from '../db/index.ts';
import type { TemporalSettings } from '../temporal/index.ts';

export interface JourneyDeps {
  db: PrismaClient;
  temporal: Client;
  temporalSettings: TemporalSettings & { deliveryTaskQueue: string; uiUrl: string };
  /** Time zone for patients with none on record (send windows in simulations). */
  defaultTimeZone: string;
  consent: ConsentSettings;
  /** MKT-06: identified audience exports are allowed at all (off by default). */
  identifiedExports?: boolean;
}
