/**
 * The scheduled `reconcile` function: one pass per invocation, stopped cleanly (cursor saved)
 * before the function's own timeout. A stage without OKTA_ORG_URL does nothing and says so (its
 * schedule is disabled by serverless.yml anyway). A failed pass is logged, counted, and then
 * thrown, so Lambda records an error and the function's Errors alarm fires; the next scheduled
 * pass is the retry.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { type Config, config as containerConfig } from '../config';
import { logReconcile } from '../logger';
import { emitReconcileMetrics } from '../metrics';
import { OKTA_API_SECRETS, type SecretResolver, secretResolver } from '../secrets';
import { createDynamoDbClient } from '../store/dynamodb';
import { type PassResult, failedPass, passLog } from './reconcile-pass';
import { Reconciler, type ReconcilerDeps } from './reconciler';

/** Kept free at the end of the invocation: the last writes, the log line, Lambda's own work. */
export const TIMEOUT_MARGIN_MS = 15_000;

export interface ReconcileHandlerDeps extends Partial<ReconcilerDeps> {
  config?: Config;
  secrets?: SecretResolver;
}

/** What Lambda passes as the context; only the remaining time is used. */
export interface InvocationContext {
  getRemainingTimeInMillis(): number;
}

export type ReconcileOutcome =
  { status: 'not-configured' } | Omit<PassResult, 'error' | 'eventTypes'>;

export function createReconcileHandler(deps: ReconcileHandlerDeps = {}) {
  let reconciler: Reconciler | undefined; // one per container: the access token is reused
  let dynamodb: DynamoDBClient | undefined = deps.dynamodb;
  const now = deps.now ?? Date.now;

  return async (_event: unknown, context?: InvocationContext): Promise<ReconcileOutcome> => {
    const started = now();
    const base = deps.config ?? containerConfig();
    if (!base.oktaOrgUrl) {
      logReconcile(
        { level: 'info', org: '-', status: 'not-configured', reason: 'OKTA_ORG_URL is not set' },
        base.logFormat,
      );
      return { status: 'not-configured' };
    }
    let result: PassResult;
    try {
      const config = await (deps.secrets ?? secretResolver()).resolve(base, OKTA_API_SECRETS);
      dynamodb ??= createDynamoDbClient(config);
      reconciler ??= new Reconciler({ ...deps, dynamodb });
      const deadline = context
        ? started + context.getRemainingTimeInMillis() - TIMEOUT_MARGIN_MS
        : undefined;
      result = await reconciler.run(config, { deadline });
    } catch (error) {
      // Only SSM can fail here: the pass reports its own failures.
      result = failedPass(base.oktaOrgUrl, error, now() - started);
    }
    logReconcile(passLog(result), base.logFormat);
    if (base.logFormat === 'json') emitReconcileMetrics(base.stage, result);
    if (result.status === 'failed') {
      throw new Error(`reconcile failed: ${result.reason ?? 'unknown error'}`);
    }
    const { error: _error, eventTypes: _types, ...outcome } = result;
    return outcome;
  };
}
