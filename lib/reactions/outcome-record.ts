/**
 * A reaction's outcome on one event, as the read API and the CLI show it. Plain shapes that
 * import nothing: the event browser's page (lib/ui/client/api.ts) imports their types.
 */

export const OUTCOME_STATUSES = ['running', 'failed', 'succeeded'] as const;
export type OutcomeStatus = (typeof OUTCOME_STATUSES)[number];

/** An outcome as the read API and the CLI show it. */
export interface ReactionOutcome {
  reaction: string;
  uuid: string;
  eventType: string;
  status: OutcomeStatus;
  /** Tries so far, across invocations and redrives. */
  attempts: number;
  firstAttemptAt: string;
  updatedAt: string;
  succeededAt?: string;
  /** The last failure, short (MAX_ERROR_LENGTH), URLs cut to their origin. */
  lastError?: string;
  /** `running` only: when the claim runs out (a run that died leaves it behind). */
  leaseUntil?: string;
}
