/**
 * What every function on the table's stream shares: stream images back into SDK items, and a
 * batch run that reports partial failures (ReportBatchItemFailures) so Lambda retries from the
 * first failed record instead of the whole batch, and stops before the function's own timeout.
 */
import { setMaxListeners } from 'node:events';
import type { AttributeValue as SdkAttributeValue } from '@aws-sdk/client-dynamodb';
import type {
  AttributeValue,
  Context,
  DynamoDBBatchResponse,
  DynamoDBRecord,
  DynamoDBStreamEvent,
} from 'aws-lambda';
import type { Item } from '../store/event-items';

/** A stream image as the SDK's item: binary values arrive base64 in Lambda's JSON event. */
export function itemFromImage(image: Record<string, AttributeValue>): Item {
  return Object.fromEntries(Object.entries(image).map(([k, v]) => [k, attributeFromImage(v)]));
}

function attributeFromImage(value: AttributeValue): SdkAttributeValue {
  if (value.B !== undefined) return { B: Buffer.from(value.B, 'base64') };
  if (value.BS !== undefined) return { BS: value.BS.map((b) => Buffer.from(b, 'base64')) };
  if (value.L !== undefined) return { L: value.L.map(attributeFromImage) };
  if (value.M !== undefined) return { M: itemFromImage(value.M) };
  return value as SdkAttributeValue;
}

/** The inverse, for the local stream runner: an SDK item as Lambda would put it in JSON. */
export function imageFromItem(item: Item): Record<string, AttributeValue> {
  return Object.fromEntries(Object.entries(item).map(([k, v]) => [k, imageAttribute(v)]));
}

function imageAttribute(value: SdkAttributeValue): AttributeValue {
  if (value.B !== undefined) return { B: Buffer.from(value.B).toString('base64') };
  if (value.BS !== undefined) return { BS: value.BS.map((b) => Buffer.from(b).toString('base64')) };
  if (value.L !== undefined) return { L: value.L.map(imageAttribute) };
  if (value.M !== undefined) return { M: imageFromItem(value.M) };
  return value as AttributeValue;
}

/** Time kept back from the function's timeout to report what is unfinished. */
const SAFETY_MS = 3000;
/** Records worked on at once; each may write many items in parallel itself. */
const RECORD_CONCURRENCY = 4;

/**
 * Runs `work` on each record, RECORD_CONCURRENCY at a time, with a signal that aborts shortly
 * before the invocation would time out. Failed or unfinished records are reported by sequence
 * number; Lambda retries from the lowest of them (what came before it is done).
 */
export async function processStreamBatch(
  event: DynamoDBStreamEvent,
  context: Pick<Context, 'getRemainingTimeInMillis'> | undefined,
  work: (record: DynamoDBRecord, signal: AbortSignal) => Promise<void>,
  onError: (record: DynamoDBRecord, error: unknown) => void,
): Promise<DynamoDBBatchResponse> {
  const controller = new AbortController();
  setMaxListeners(0, controller.signal);
  const remaining = context?.getRemainingTimeInMillis?.() ?? 60_000;
  const timer = setTimeout(
    () => controller.abort(new Error('the invocation is about to time out')),
    Math.max(remaining - SAFETY_MS, remaining / 2),
  );
  const failed: string[] = [];
  const records = event.Records.values();
  const worker = async () => {
    for (const record of records) {
      const sequence = record.dynamodb?.SequenceNumber ?? '';
      if (controller.signal.aborted) {
        failed.push(sequence);
        continue;
      }
      try {
        await work(record, controller.signal);
      } catch (error) {
        failed.push(sequence);
        onError(record, error);
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: RECORD_CONCURRENCY }, worker));
  } finally {
    clearTimeout(timer);
  }
  return { batchItemFailures: failed.map((itemIdentifier) => ({ itemIdentifier })) };
}
