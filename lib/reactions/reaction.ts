/**
 * What a reaction is: code that runs when a stored event of certain types arrives. One file per
 * reaction in this folder, one line in registry.ts; the react function (run-reactions.ts) runs
 * each matching reaction once to success per event, records the outcome beside the event, and
 * retries failures (docs/reactions.md).
 */
import type { Config } from '../config';

/** A System Log event as Okta documents it; every field may be missing or null, and more come. */
export interface ReactionEvent {
  uuid: string;
  eventType: string;
  published: string;
  displayMessage?: string | null;
  severity?: string | null;
  actor?: LogEventEntity | null;
  target?: LogEventEntity[] | null;
  outcome?: { result?: string; reason?: string | null } | null;
  [field: string]: unknown;
}

/** An actor or target: a user, an app, a group... */
export interface LogEventEntity {
  id?: string;
  type?: string;
  alternateId?: string;
  displayName?: string;
  detailEntry?: Record<string, unknown> | null;
  [field: string]: unknown;
}

export interface ReactionLogger {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

export interface ReactionContext {
  /** The event's JSON text exactly as stored (as Okta sent it, whitespace between tokens removed). */
  json: string;
  uuid: string;
  /** 1 for the first try of this reaction on this event, counted across retries and redrives. */
  attempt: number;
  /** Aborts when the invocation is about to time out: pass it to fetch and SDK calls. */
  signal: AbortSignal;
  config: Config;
  /** Lines tagged with the reaction and the event (CloudWatch, or npm start's console). */
  log: ReactionLogger;
}

/** What handleBatch answers for each item, in order: undefined for success, else the error. */
export type BatchResult = Array<Error | undefined>;

export interface Reaction {
  /** Lower-case letters, digits and dashes: it names the outcome items and the CLI's --name. */
  name: string;
  /**
   * Event types it wants: exact names (`user.lifecycle.create`), prefixes (`user.lifecycle.*`),
   * or `*` for all; a function when configuration decides (forward's FORWARD_TYPES).
   */
  eventTypes: readonly string[] | ((config: Config) => readonly string[]);
  /** Further narrows the events; a throw counts as a failure of the reaction. */
  when?(event: ReactionEvent, config: Config): boolean;
  /** Off when this answers false (built-ins are off unless configured). Default: on. */
  enabled?(config: Config): boolean;
  /** Does the work; a throw (or a rejected promise) is a failure, retried. */
  handle(event: ReactionEvent, context: ReactionContext): Promise<void>;
  /**
   * Optional: several events in one call (at most batchSize), e.g. EventBridge's PutEvents of
   * up to 10 entries. Answers each item's result; only the failed ones are retried.
   */
  handleBatch?(
    items: ReadonlyArray<{ event: ReactionEvent; context: ReactionContext }>,
    shared: { signal: AbortSignal; config: Config },
  ): Promise<BatchResult>;
  /** Largest batch handleBatch takes (default 10). */
  batchSize?: number;
}

export const REACTION_NAME = /^[a-z0-9][a-z0-9-]{0,62}$/;

/** Does `eventType` match one of the patterns (exact, `prefix.*`, or `*`)? */
export function matchesEventType(patterns: readonly string[], eventType: string): boolean {
  return patterns.some((pattern) => {
    if (pattern === '*') return true;
    if (pattern.endsWith('.*')) return eventType.startsWith(pattern.slice(0, -1));
    return pattern === eventType;
  });
}

export function eventTypesOf(reaction: Reaction, config: Config): readonly string[] {
  return typeof reaction.eventTypes === 'function'
    ? reaction.eventTypes(config)
    : reaction.eventTypes;
}

export function isEnabled(reaction: Reaction, config: Config): boolean {
  return reaction.enabled ? reaction.enabled(config) : true;
}
