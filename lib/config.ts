import { ConfigError } from './errors';

/**
 * The one place where configuration is read. Everything else receives a `Config`.
 * Values come from the environment (serverless.yml `environment`, `.env` for `npm start`).
 * Secret values come from here only where no `secretsPath` is set (the local stage, tests);
 * deployed stages read them from SSM at run time (lib/secrets.ts).
 */

export interface Config {
  /** Stage name; `local` is the only stage allowed to run without a secret. */
  stage: string;
  /** DynamoDB table holding events and delivery records. */
  tableName: string;
  /** AWS region for the DynamoDB client. */
  region: string;
  /** Endpoint override for DynamoDB Local; undefined means the real regional endpoint. */
  dynamodbEndpoint: string | undefined;
  /** Lower-cased name of the header Okta sends the shared secret in. */
  oktaAuthHeader: string;
  /** Accepted values of that header (several during rotation). */
  oktaAuthSecrets: string[];
  /** Accepted Hookdeck signing secrets (several during rotation). */
  hookdeckSigningSecrets: string[];
  /** Accepted bearer tokens of the read API (several during rotation). */
  eventsApiTokens: string[];
  /**
   * SSM Parameter Store path holding the secrets (e.g. `/okta-event-hooks/production`); when set,
   * SSM is their only source and the environment values above are ignored.
   */
  secretsPath: string | undefined;
  /** Endpoint override for SSM (tests' fake); undefined means the real regional endpoint. */
  ssmEndpoint: string | undefined;
  /** How long secrets read from SSM are reused before being read again, in ms. */
  secretsCacheMs: number;
  /** Largest request body accepted, in bytes. */
  maxBodyBytes: number;
  /** Time after which a delivery that is not yet stored is answered 503, in ms. */
  requestBudgetMs: number;
  /** `json` for CloudWatch, `pretty` for a developer's console. */
  logFormat: 'json' | 'pretty';
  /** Days an event is kept after receipt (DynamoDB TTL); 0 keeps events forever. */
  retentionDays: number;
  /** Reactions (lib/reactions/): see docs/reactions.md. Read by the react function only. */
  reactions: ReactionsConfig;
}

export interface ReactionsConfig {
  /** Names of reactions that are off unless named here (REACTIONS, e.g. the guide's example). */
  enabled: string[];
  /** `forward`: where each matching event is POSTed; undefined turns it off. */
  forwardUrl: string | undefined;
  /** `forward`: Standard Webhooks signing secrets (`whsec_...`); every one signs (rotation). */
  forwardSecrets: string[];
  /** `forward`: event types sent (exact names, `prefix.*`, or `*`). */
  forwardTypes: string[];
  /** `forward`: one attempt's timeout, in ms. */
  forwardTimeoutMs: number;
  /** `eventbridge`: the stage's bus; undefined turns it off (deployed stages only). */
  eventBusName: string | undefined;
  /** `eventbridge`: the entries' Source (a custom source may not start with `aws.`). */
  eventSource: string;
  /** Tries of one reaction within one invocation before the stream retries it. */
  tries: number;
  /** First pause between tries, doubled each try (capped at 10 s), in ms. */
  retryBaseMs: number;
}

/** Lambda's synchronous invocation payload limit is 6 MB: larger bodies never reach a function. */
export const DEFAULT_MAX_BODY_BYTES = 6 * 1024 * 1024;
/** Okta waits 3 s; answering 503 at 2.5 s leaves room for the network on both sides. */
export const DEFAULT_REQUEST_BUDGET_MS = 2500;
export const DEFAULT_TABLE_NAME = 'okta-events-local';
/** The System Log's own retention. */
export const DEFAULT_RETENTION_DAYS = 90;
/** Standard Webhooks senders wait about this long for an answer. */
export const DEFAULT_FORWARD_TIMEOUT_MS = 10_000;
/** Short enough that a rotated secret is picked up within minutes, long enough to cost nothing. */
export const DEFAULT_SECRETS_CACHE_SECONDS = 300;

function list(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

function wholeNumber(env: NodeJS.ProcessEnv, name: string, fallback: number, min = 1): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min) {
    const what = min === 0 ? 'a whole number, 0 or more' : 'a positive whole number';
    throw new ConfigError(`${name} must be ${what}, got "${raw}"`);
  }
  return value;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const logFormat = env.LOG_FORMAT === 'pretty' ? 'pretty' : 'json';
  return {
    stage: env.STAGE?.trim() || 'local',
    tableName: env.EVENTS_TABLE?.trim() || DEFAULT_TABLE_NAME,
    region: env.AWS_REGION?.trim() || env.AWS_DEFAULT_REGION?.trim() || 'us-east-1',
    dynamodbEndpoint: env.DYNAMODB_ENDPOINT?.trim() || undefined,
    oktaAuthHeader: (env.OKTA_AUTH_HEADER?.trim() || 'authorization').toLowerCase(),
    oktaAuthSecrets: list(env.OKTA_AUTH_SECRET),
    hookdeckSigningSecrets: list(env.HOOKDECK_SIGNING_SECRET),
    eventsApiTokens: list(env.EVENTS_API_TOKEN),
    secretsPath: env.SECRETS_PATH?.trim().replace(/\/+$/, '') || undefined,
    ssmEndpoint: env.SSM_ENDPOINT?.trim() || undefined,
    secretsCacheMs: 1000 * wholeNumber(env, 'SECRETS_CACHE_SECONDS', DEFAULT_SECRETS_CACHE_SECONDS),
    maxBodyBytes: wholeNumber(env, 'MAX_BODY_BYTES', DEFAULT_MAX_BODY_BYTES),
    requestBudgetMs: wholeNumber(env, 'REQUEST_BUDGET_MS', DEFAULT_REQUEST_BUDGET_MS),
    logFormat,
    retentionDays: wholeNumber(env, 'RETENTION_DAYS', DEFAULT_RETENTION_DAYS, 0),
    reactions: {
      enabled: list(env.REACTIONS),
      forwardUrl: env.FORWARD_URL?.trim() || undefined,
      forwardSecrets: list(env.FORWARD_SECRET),
      forwardTypes: env.FORWARD_TYPES?.trim() ? list(env.FORWARD_TYPES) : ['*'],
      forwardTimeoutMs: wholeNumber(env, 'FORWARD_TIMEOUT_MS', DEFAULT_FORWARD_TIMEOUT_MS),
      eventBusName: env.EVENT_BUS_NAME?.trim() || undefined,
      eventSource: env.EVENT_SOURCE?.trim() || `okta-event-hooks.${env.STAGE?.trim() || 'local'}`,
      tries: wholeNumber(env, 'REACTION_TRIES', 3),
      retryBaseMs: wholeNumber(env, 'REACTION_RETRY_BASE_MS', 250, 0),
    },
  };
}

export function hasAnySecret(config: Config): boolean {
  return config.oktaAuthSecrets.length > 0 || config.hookdeckSigningSecrets.length > 0;
}

/**
 * A deployed stage with no secret would store whatever anyone posts: refuse to serve instead.
 * The local stage may run open, with a loud warning (see `scripts/start.ts`).
 */
export function assertSecured(config: Config): void {
  if (!hasAnySecret(config) && config.stage !== 'local') {
    const where = config.secretsPath ? ` in SSM under ${config.secretsPath}` : '';
    throw new ConfigError(
      `Stage "${config.stage}" has no OKTA_AUTH_SECRET or HOOKDECK_SIGNING_SECRET${where}: refusing every request`,
    );
  }
}

let cached: Config | undefined;

/** Configuration of this container, read once. */
export function config(): Config {
  cached ??= loadConfig();
  return cached;
}
