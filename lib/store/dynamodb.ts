/**
 * The DynamoDB client: one per container, built from config. The only place that knows about
 * DynamoDB Local's endpoint override and the timeouts that keep a request inside Okta's 3 s.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { withAwsCallRecording } from '../aws/call-recorder';
import type { Config } from '../config';

/** DynamoDB Local accepts any credentials made only of letters and digits. */
const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };

/** Reads (read API, events CLI, tests' scans) may fetch 1 MB pages: longer than a PutItem. */
export const READ_REQUEST_TIMEOUT_MS = 5000; // under the functions' 6 s timeout

export function createDynamoDbClient(
  config: Pick<Config, 'region' | 'dynamodbEndpoint'>,
  { requestTimeoutMs = 1000 }: { requestTimeoutMs?: number } = {},
): DynamoDBClient {
  const client = new DynamoDBClient({
    region: config.region,
    ...(config.dynamodbEndpoint
      ? { endpoint: config.dynamodbEndpoint, credentials: LOCAL_CREDENTIALS }
      : {}),
    // A PutItem takes milliseconds; these bound a dead or slow endpoint so that retries still
    // end inside the request budget, after which the caller answers 503 anyway.
    maxAttempts: 3,
    // throwOnRequestTimeout: without it this SDK only warns when requestTimeout passes, and a
    // hung request holds the whole budget instead of being retried.
    requestHandler: {
      connectionTimeout: 400,
      requestTimeout: requestTimeoutMs,
      throwOnRequestTimeout: true,
    },
  });
  return withAwsCallRecording(client, 'dynamodb', config.region);
}
