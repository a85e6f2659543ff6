/**
 * The reconciler put together from configuration: credentials, the Okta client (one per org and
 * credentials, so an access token is reused across passes), the event store, the pass. Used by
 * the scheduled function, `npm run reconcile` and `npm start`.
 */
import { createHash } from 'node:crypto';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Config } from '../config';
import { ConfigError } from '../errors';
import { OktaAuth, type OktaCredentials, parsePrivateKey } from '../okta/okta-auth';
import {
  EVENT_HOOKS_SCOPE,
  LOGS_SCOPE,
  SystemLogClient,
  type SystemLogClientDeps,
} from '../okta/system-log';
import { EventStore } from '../store/event-store';
import { type PassOptions, type PassResult, failedPass, reconcilePass } from './reconcile-pass';

export interface ReconcilerDeps extends SystemLogClientDeps {
  dynamodb: DynamoDBClient;
}

/** The configured credentials; OAuth (Okta's recommendation) when both kinds are set. */
export function oktaCredentials(config: Config): OktaCredentials {
  if (config.oktaClientId && config.oktaPrivateKey) {
    const { key, keyId } = parsePrivateKey(config.oktaPrivateKey);
    return {
      kind: 'privateKeyJwt',
      clientId: config.oktaClientId,
      privateKey: key,
      keyId: config.oktaKeyId ?? keyId,
    };
  }
  if (config.oktaPrivateKey && !config.oktaClientId) {
    throw new ConfigError('OKTA_PRIVATE_KEY is set without OKTA_CLIENT_ID (the service app)');
  }
  if (config.oktaApiToken) return { kind: 'ssws', token: config.oktaApiToken };
  const where = config.secretsPath ? ` in SSM under ${config.secretsPath}` : '';
  throw new ConfigError(
    `no Okta credentials${where}: set OKTA_CLIENT_ID and OKTA_PRIVATE_KEY (a service app with okta.logs.read) or OKTA_API_TOKEN`,
  );
}

/** What a pass needs from config, in a key that changes when any of it does (rotation). */
function clientKey(config: Config): string {
  return createHash('sha256')
    .update(
      JSON.stringify([
        config.oktaOrgUrl,
        config.oktaClientId,
        config.oktaKeyId,
        config.oktaPrivateKey,
        config.oktaApiToken,
        config.oktaEventHookId !== undefined,
        config.systemLogRateLimitShare,
      ]),
    )
    .digest('hex');
}

export function createSystemLogClient(
  config: Config,
  deps: SystemLogClientDeps = {},
): SystemLogClient {
  if (!config.oktaOrgUrl) throw new ConfigError('OKTA_ORG_URL is not set');
  const scopes = config.oktaEventHookId ? [LOGS_SCOPE, EVENT_HOOKS_SCOPE] : [LOGS_SCOPE];
  const auth = new OktaAuth(config.oktaOrgUrl, oktaCredentials(config), scopes, deps);
  return new SystemLogClient(config.oktaOrgUrl, auth, config.systemLogRateLimitShare, deps);
}

export type RunOptions = Pick<
  PassOptions,
  'since' | 'until' | 'deadline' | 'onPage' | 'pageReserveMs' | 'signal'
>;

/** Runs passes for one container or process, reusing the Okta client while config is unchanged. */
export class Reconciler {
  private cached: { key: string; client: SystemLogClient } | undefined;

  constructor(private readonly deps: ReconcilerDeps) {}

  client(config: Config): SystemLogClient {
    const key = clientKey(config);
    if (this.cached?.key !== key) {
      this.cached = { key, client: createSystemLogClient(config, this.deps) };
    }
    return this.cached.client;
  }

  /** One pass; configuration problems come back as a failed pass, like any other failure. */
  async run(config: Config, options: RunOptions = {}): Promise<PassResult> {
    let client: SystemLogClient;
    try {
      client = this.client(config);
    } catch (error) {
      return failedPass(config.oktaOrgUrl, error);
    }
    return reconcilePass(
      {
        client,
        store: new EventStore(this.deps.dynamodb, config.tableName),
        dynamodb: this.deps.dynamodb,
        tableName: config.tableName,
        now: this.deps.now,
      },
      {
        eventTypes: config.oktaEventTypes,
        eventHookId: config.oktaEventHookId,
        lookbackHours: config.systemLogLookbackHours,
        retentionDays: config.retentionDays,
        ...options,
      },
    );
  }
}
