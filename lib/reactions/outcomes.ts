/**
 * What happened to each (reaction, event): one item beside the event, so each reaction runs to
 * success at most once per event, however often the stream or a redrive brings the event back.
 *
 *   pk            sk                    indexed by (byTime)                          what
 *   EVENT#<uuid>  REACTION#<name>       itemType reaction:<status>,                  the outcome
 *                                       timeKey <updatedAt>#<name>#<uuid>
 *   EVENT#<uuid>  REDRIVE#<name>#<time> (none; its stream INSERT wakes the react     a redrive
 *                                       function, TTL removes it after a day)        request
 *
 * A run claims the outcome with a conditional UpdateItem: only when there is none, it failed, or
 * it is `running` under a lease that has run out (a run that died). The lease is the claiming
 * invocation's remaining time, so overlapping invocations never run it side by side, and a retry
 * after a crash or timeout finds it expired. The result is written under the claim's token.
 * Both writes move the item between the byTime partitions `reaction:running`, `reaction:failed`
 * and `reaction:succeeded`, so each status is listed with one Query, never a Scan.
 */
import { randomBytes } from 'node:crypto';
import {
  type AttributeValue,
  ConditionalCheckFailedException,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { EVENT_PREFIX, type Item } from '../store/event-items';
import { OUTCOME_STATUSES, type OutcomeStatus, type ReactionOutcome } from './outcome-record';

export { OUTCOME_STATUSES, type OutcomeStatus, type ReactionOutcome };

export const REACTION_PREFIX = 'REACTION#';
export const REDRIVE_PREFIX = 'REDRIVE#';
/** Enough to say what went wrong; never a stack. */
export const MAX_ERROR_LENGTH = 300;
/** Redrive requests only need to live until the stream has handed them over. */
const REDRIVE_REQUEST_TTL_SECONDS = 86400;

export const itemTypeOf = (status: OutcomeStatus) => `reaction:${status}`;

export function outcomeKey(uuid: string, reaction: string): Item {
  return { pk: { S: EVENT_PREFIX + uuid }, sk: { S: REACTION_PREFIX + reaction } };
}

export function outcomeTimeKey(updatedAt: string, reaction: string, uuid: string): string {
  return `${updatedAt}#${reaction}#${uuid}`;
}

/**
 * An error as one short line: its message (a ConfigError or a reaction's own words), URLs cut to
 * their origin (a URL may carry a token), no stack.
 */
export function shortError(error: unknown): string {
  const text =
    error instanceof Error ? `${error.name}: ${error.message}` : `thrown: ${String(error)}`;
  const withoutUrls = text.replace(/\bhttps?:\/\/[^\s"'<>]+/g, (match) => {
    const [, url, trailing] = /^(.*?)([:.,;)]*)$/.exec(match)!;
    try {
      return new URL(url!).origin + trailing;
    } catch {
      return `<url>${trailing}`;
    }
  });
  const oneLine = withoutUrls.replace(/\s+/g, ' ').trim();
  return oneLine.length > MAX_ERROR_LENGTH ? `${oneLine.slice(0, MAX_ERROR_LENGTH - 1)}…` : oneLine;
}

export function toOutcome(item: Item): ReactionOutcome {
  const s = (name: string) => item[name]?.S;
  const outcome: ReactionOutcome = {
    reaction: s('reaction') ?? (s('sk') ?? '').slice(REACTION_PREFIX.length),
    uuid: s('uuid') ?? (s('pk') ?? '').slice(EVENT_PREFIX.length),
    eventType: s('eventType') ?? '',
    status: (s('status') as OutcomeStatus | undefined) ?? 'running',
    attempts: Number(item.attempts?.N ?? 0),
    firstAttemptAt: s('firstAttemptAt') ?? '',
    updatedAt: s('updatedAt') ?? '',
  };
  if (s('succeededAt') !== undefined) outcome.succeededAt = s('succeededAt');
  if (s('lastError') !== undefined) outcome.lastError = s('lastError');
  if (outcome.status === 'running' && item.leaseUntil?.N !== undefined) {
    outcome.leaseUntil = new Date(Number(item.leaseUntil.N)).toISOString();
  }
  return outcome;
}

/** A claim: the run may go ahead (holding `token`), or the outcome says why not. */
export type Claim =
  | { claimed: true; token: string; previousAttempts: number }
  | { claimed: false; status: OutcomeStatus; attempts: number };

export interface ClaimRequest {
  reaction: string;
  uuid: string;
  eventType: string;
  /** The event's TTL: its outcomes go with it. */
  expiresAt: number | undefined;
  leaseMs: number;
}

const NAMES = {
  '#status': 'status',
  '#itemType': 'itemType',
  '#timeKey': 'timeKey',
  '#updatedAt': 'updatedAt',
  '#attempts': 'attempts',
  '#leaseUntil': 'leaseUntil',
  '#leaseToken': 'leaseToken',
};

export class OutcomeStore {
  constructor(
    readonly client: DynamoDBClient,
    readonly tableName: string,
    private readonly now: () => number = Date.now,
  ) {}

  /** Claims the run of `reaction` on the event, unless it succeeded or another run holds it. */
  async claim(request: ClaimRequest, signal?: AbortSignal): Promise<Claim> {
    const now = this.now();
    const nowIso = new Date(now).toISOString();
    const token = randomBytes(12).toString('base64url');
    const values: Record<string, AttributeValue> = {
      ':running': { S: 'running' },
      ':failed': { S: 'failed' },
      ':itemType': { S: itemTypeOf('running') },
      ':timeKey': { S: outcomeTimeKey(nowIso, request.reaction, request.uuid) },
      ':now': { S: nowIso },
      ':nowMs': { N: String(now) },
      ':lease': { N: String(now + request.leaseMs) },
      ':token': { S: token },
      ':reaction': { S: request.reaction },
      ':uuid': { S: request.uuid },
      ':eventType': { S: request.eventType },
      ':zero': { N: '0' },
      ':one': { N: '1' },
    };
    let set =
      '#status = :running, #itemType = :itemType, #timeKey = :timeKey, #updatedAt = :now, ' +
      '#leaseUntil = :lease, #leaseToken = :token, reaction = :reaction, #uuid = :uuid, ' +
      'eventType = :eventType, firstAttemptAt = if_not_exists(firstAttemptAt, :now), ' +
      // Counted at the claim, so a try that dies with its invocation still counts.
      '#attempts = if_not_exists(#attempts, :zero) + :one';
    if (request.expiresAt !== undefined) {
      set += ', expiresAt = :expiresAt';
      values[':expiresAt'] = { N: String(request.expiresAt) };
    }
    try {
      const { Attributes } = await this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: outcomeKey(request.uuid, request.reaction),
          UpdateExpression: `SET ${set}`,
          ConditionExpression:
            'attribute_not_exists(pk) OR #status = :failed OR ' +
            '(#status = :running AND #leaseUntil < :nowMs)',
          ExpressionAttributeNames: { ...NAMES, '#uuid': 'uuid' },
          ExpressionAttributeValues: values,
          ReturnValues: 'UPDATED_OLD',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
        { abortSignal: signal },
      );
      return { claimed: true, token, previousAttempts: Number(Attributes?.attempts?.N ?? 0) };
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      const old = error.Item ? toOutcome(error.Item) : undefined;
      return { claimed: false, status: old?.status ?? 'running', attempts: old?.attempts ?? 0 };
    }
  }

  /**
   * Records how the claimed run ended: `attempts` tries in all. False when the claim was lost
   * (its lease ran out and another run took it over): that run records its own outcome.
   */
  async finish(
    request: Pick<ClaimRequest, 'reaction' | 'uuid'>,
    token: string,
    result: { status: 'succeeded' | 'failed'; attempts: number; error?: unknown },
  ): Promise<boolean> {
    const nowIso = new Date(this.now()).toISOString();
    const values: Record<string, AttributeValue> = {
      ':status': { S: result.status },
      ':itemType': { S: itemTypeOf(result.status) },
      ':timeKey': { S: outcomeTimeKey(nowIso, request.reaction, request.uuid) },
      ':now': { S: nowIso },
      ':attempts': { N: String(result.attempts) },
      ':token': { S: token },
    };
    let set =
      '#status = :status, #itemType = :itemType, #timeKey = :timeKey, #updatedAt = :now, ' +
      '#attempts = :attempts';
    let remove = 'REMOVE #leaseUntil, #leaseToken';
    if (result.status === 'succeeded') {
      set += ', succeededAt = :now';
      remove += ', lastError';
    } else {
      set += ', lastError = :error';
      values[':error'] = { S: shortError(result.error) };
    }
    try {
      // Not bound to the run's signal: an outcome is worth recording even as time runs out.
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: outcomeKey(request.uuid, request.reaction),
          UpdateExpression: `SET ${set} ${remove}`,
          ConditionExpression: '#leaseToken = :token',
          ExpressionAttributeNames: NAMES,
          ExpressionAttributeValues: values,
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  /** One outcome, read consistently. */
  async get(uuid: string, reaction: string): Promise<ReactionOutcome | undefined> {
    const { Item } = await this.client.send(
      new GetItemCommand({
        TableName: this.tableName,
        Key: outcomeKey(uuid, reaction),
        ConsistentRead: true,
      }),
    );
    return Item && toOutcome(Item);
  }

  /** Every outcome of one event, by reaction name. */
  async forEvent(uuid: string): Promise<ReactionOutcome[]> {
    const outcomes: ReactionOutcome[] = [];
    let startKey: Item | undefined;
    do {
      const page = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
          ExpressionAttributeValues: {
            ':pk': { S: EVENT_PREFIX + uuid },
            ':prefix': { S: REACTION_PREFIX },
          },
          ExclusiveStartKey: startKey,
        }),
      );
      outcomes.push(...(page.Items ?? []).map(toOutcome));
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return outcomes;
  }

  /**
   * Asks the react function to run `reaction` on the event again: a new item whose stream INSERT
   * the function picks up (locally and deployed alike, with the function's own configuration).
   * Harmless when repeated: a run that finds the outcome succeeded does nothing.
   */
  async requestRedrive(uuid: string, reaction: string): Promise<string> {
    const now = this.now();
    const requestedAt = new Date(now).toISOString();
    await this.client.send(
      new PutItemCommand({
        TableName: this.tableName,
        Item: {
          pk: { S: EVENT_PREFIX + uuid },
          sk: {
            S: `${REDRIVE_PREFIX}${reaction}#${requestedAt}#${randomBytes(4).toString('hex')}`,
          },
          reaction: { S: reaction },
          requestedAt: { S: requestedAt },
          expiresAt: { N: String(Math.floor(now / 1000) + REDRIVE_REQUEST_TTL_SECONDS) },
        },
      }),
    );
    return requestedAt;
  }
}

/** The event a redrive request names, and its reaction, from the request's stream image. */
export function redriveRequestOf(item: Item): { uuid: string; reaction: string } | undefined {
  const pk = item.pk?.S ?? '';
  const sk = item.sk?.S ?? '';
  if (!pk.startsWith(EVENT_PREFIX) || !sk.startsWith(REDRIVE_PREFIX)) return undefined;
  const reaction = item.reaction?.S ?? sk.slice(REDRIVE_PREFIX.length).split('#')[0]!;
  return { uuid: pk.slice(EVENT_PREFIX.length), reaction };
}
