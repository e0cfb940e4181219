import type { Problem } from '../../workflows/index.ts';

export class JourneyInvalidError extends Error {
  constructor(readonly problems: Problem[]) {
    super(`journey definition is invalid (${problems.length} problem${problems.length === 1 ? '' : 's'})`);
  }
}

export class NotFoundError extends Error {
  constructor(what: string) {
    super(`${what} not found`);
  }
}
