/** One line for an error a CLI of this project shows its user (events, reconcile). */
import { RequestError } from '../errors';
import { ReadApiError } from '../read-api/read-api-client';

/** One line for what went wrong, never a stack trace. */
export function describeCliError(error: unknown, env: NodeJS.ProcessEnv): string {
  if (error instanceof RequestError) return error.message;
  const err = error as Error & { name?: string };
  if (err.name === 'ResourceNotFoundException') {
    return 'the local table does not exist yet: start the service once with `npm start`.';
  }
  if (error instanceof ReadApiError) return err.message;
  if (/ECONNREFUSED|TimeoutError|socket hang up/i.test(`${err.name} ${err.message}`)) {
    const endpoint = env.DYNAMODB_ENDPOINT || `http://127.0.0.1:${env.DYNAMODB_LOCAL_PORT || 8000}`;
    return `cannot reach DynamoDB Local at ${endpoint}: is \`npm start\` running?`;
  }
  return err.message;
}
