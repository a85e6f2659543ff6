/**
 * `eventbridge`: puts each event on the stage's EventBridge bus in the shape of Okta's own Log
 * Streaming to EventBridge (DESIGN.md §11): `detail-type` "SystemLog", `detail` = the LogEvent as
 * stored, so rules written for Okta's stream work once their `source` match names ours (a custom
 * source may not start with `aws.`). PutEvents takes 10 entries and 256 KB a request; entries
 * it reports failed are retried (run-reactions.ts). Deployed stages only: on when serverless.yml
 * creates the bus (stage param eventBridge) and sets EVENT_BUS_NAME.
 */
import {
  EventBridgeClient,
  PutEventsCommand,
  type PutEventsCommandOutput,
  type PutEventsRequestEntry,
} from '@aws-sdk/client-eventbridge';
import { withAwsCallRecording } from '../aws/call-recorder';
import type { Config } from '../config';
import { ConfigError } from '../errors';
import type { BatchResult, Reaction, ReactionEvent } from './reaction';

export const DETAIL_TYPE = 'SystemLog';
/** PutEvents' limits: entries per request, and bytes per request as EventBridge counts them. */
export const MAX_ENTRIES = 10;
export const MAX_REQUEST_BYTES = 256 * 1024;

/** The part of the SDK client used here: tests give a recording one. */
export interface PutEventsClient {
  send(
    command: PutEventsCommand,
    options?: { abortSignal?: AbortSignal },
  ): Promise<Pick<PutEventsCommandOutput, 'FailedEntryCount' | 'Entries'>>;
}

export class EventBridgeError extends Error {
  override name = 'EventBridgeError';
}

export function eventBridgeEntry(
  config: Config,
  event: ReactionEvent,
  json: string,
): PutEventsRequestEntry {
  const source = config.reactions.eventSource;
  if (source.startsWith('aws.')) {
    throw new ConfigError(`EVENT_SOURCE must not start with "aws." (got ${source.slice(0, 60)})`);
  }
  const published = Date.parse(event.published);
  return {
    EventBusName: config.reactions.eventBusName,
    Source: source,
    DetailType: DETAIL_TYPE,
    Detail: json,
    // The event's own time, as Okta's stream sets it; EventBridge uses receipt time otherwise.
    ...(Number.isFinite(published) ? { Time: new Date(published) } : {}),
  };
}

/** An entry's size as EventBridge counts it against the 256 KB of a request. */
export function entrySize(entry: PutEventsRequestEntry): number {
  const bytes = (s: string | undefined) => (s === undefined ? 0 : Buffer.byteLength(s));
  return (
    (entry.Time ? 14 : 0) +
    bytes(entry.Source) +
    bytes(entry.DetailType) +
    bytes(entry.Detail) +
    (entry.Resources ?? []).reduce((n, r) => n + bytes(r), 0)
  );
}

/** Entries (by index) grouped into requests within PutEvents' limits; oversized ones alone. */
export function requestGroups(entries: PutEventsRequestEntry[]): number[][] {
  const groups: number[][] = [];
  let current: number[] = [];
  let bytes = 0;
  entries.forEach((entry, index) => {
    const size = entrySize(entry);
    if (
      current.length > 0 &&
      (current.length === MAX_ENTRIES || bytes + size > MAX_REQUEST_BYTES)
    ) {
      groups.push(current);
      current = [];
      bytes = 0;
    }
    current.push(index);
    bytes += size;
  });
  if (current.length > 0) groups.push(current);
  return groups;
}

let containerClient: EventBridgeClient | undefined;

function defaultClient(config: Config): PutEventsClient {
  containerClient ??= withAwsCallRecording(
    new EventBridgeClient({ region: config.region, maxAttempts: 3 }),
    'events',
    config.region,
  );
  return containerClient;
}

export function createEventBridgeReaction(deps: { client?: PutEventsClient } = {}): Reaction {
  const reaction: Reaction = {
    name: 'eventbridge',
    eventTypes: ['*'],
    enabled: (config) => config.reactions.eventBusName !== undefined,
    batchSize: MAX_ENTRIES,
    async handle(event, context) {
      const [error] = await reaction.handleBatch!([{ event, context }], context);
      if (error) throw error;
    },
    async handleBatch(items, { signal, config }): Promise<BatchResult> {
      const client = deps.client ?? defaultClient(config);
      const entries = items.map(({ event, context }) =>
        eventBridgeEntry(config, event, context.json),
      );
      const results: BatchResult = new Array(items.length).fill(undefined);
      for (const group of requestGroups(entries)) {
        const tooLarge = group.length === 1 && entrySize(entries[group[0]!]!) > MAX_REQUEST_BYTES;
        if (tooLarge) {
          const kb = Math.ceil(entrySize(entries[group[0]!]!) / 1024);
          results[group[0]!] = new EventBridgeError(
            `the event takes ${kb} KB, over EventBridge's 256 KB per entry`,
          );
          continue;
        }
        try {
          const output = await client.send(
            new PutEventsCommand({ Entries: group.map((i) => entries[i]!) }),
            { abortSignal: signal },
          );
          // Entries answer in request order; a failed one has an ErrorCode instead of an EventId.
          group.forEach((index, position) => {
            const answer = output.Entries?.[position];
            if (!answer) {
              results[index] = new EventBridgeError('PutEvents answered without this entry');
            } else if (answer.ErrorCode || !answer.EventId) {
              results[index] = new EventBridgeError(
                `PutEvents refused the entry: ${answer.ErrorCode ?? 'no EventId'} ${answer.ErrorMessage ?? ''}`.trim(),
              );
            }
          });
        } catch (error) {
          if (signal.aborted) throw signal.reason;
          const name = error instanceof Error ? error.name : 'unknown error';
          for (const index of group) {
            results[index] = new EventBridgeError(`PutEvents failed: ${name}`, { cause: error });
          }
        }
      }
      return results;
    },
  };
  return reaction;
}

export const eventBridge = createEventBridgeReaction();
