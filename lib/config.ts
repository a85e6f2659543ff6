import type { AwsCredentials } from './aws/sigv4';
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
  /**
   * True only for the local stage inside serverless offline (see `runsUnderServerlessOffline`):
   * the one place the service may run open (no webhook secret, read API without a token).
   */
  mayRunOpen: boolean;
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
  /**
   * Local stage under serverless offline only: the `.env` file whose OKTA_AUTH_SECRET is
   * re-read when it changes (LOCAL_ENV_FILE, set by npm start), so
   * `hook rotate-secret` can change the accepted secrets without a restart.
   */
  localEnvFile: string | undefined;
  /** Largest request body accepted, in bytes. */
  maxBodyBytes: number;
  /** Time after which a delivery that is not yet stored is answered 503, in ms. */
  requestBudgetMs: number;
  /** `json` for CloudWatch, `pretty` for a developer's console. */
  logFormat: 'json' | 'pretty';
  /** Days an event is kept after receipt (DynamoDB TTL); 0 keeps events forever. */
  retentionDays: number;

  // The System Log reconciler (lib/reconcile/, docs/reconcile.md).
  /** `https://acme.okta.com`; undefined: the reconciler is not configured and does nothing. */
  oktaOrgUrl: string | undefined;
  /** SSWS API token (a secret: SSM on deployed stages). */
  oktaApiToken: string | undefined;
  /** Client id of the OAuth 2.0 service app (private_key_jwt); not a secret. */
  oktaClientId: string | undefined;
  /** The service app's RSA private key, PEM or JWK (a secret: SSM on deployed stages). */
  oktaPrivateKey: string | undefined;
  /** `kid` of the app's public key, when the key itself (a PEM) does not carry one. */
  oktaKeyId: string | undefined;
  /** Read the event types of this event hook from Okta's Event Hooks API. */
  oktaEventHookId: string | undefined;
  /** Event types to reconcile when no hook id is set; empty: every type. */
  oktaEventTypes: string[];
  /** Where the first pass starts without a cursor: this many hours back. */
  systemLogLookbackHours: number;
  /** Share (0–1] of each Okta rate-limit bucket the reconciler may use. */
  systemLogRateLimitShare: number;
  /** `npm start` only: seconds between reconcile passes; 0 runs none. */
  reconcileIntervalSeconds: number;

  /** Reactions (lib/reactions/): see docs/reactions.md. Read by the react function only. */
  reactions: ReactionsConfig;

  /** Sign in with Okta (docs/sign-in-with-okta.md): the event browser and the read API. */
  signIn: SignInConfig;
}

export interface SignInConfig {
  /**
   * The custom authorization server (OKTA_ISSUER, e.g. `https://acme.okta.com/oauth2/default`),
   * exactly as its tokens' `iss`; undefined: no Okta sign-in, no Okta access tokens.
   */
  issuer: string | undefined;
  /** The OIDC web app's client id (OKTA_UI_CLIENT_ID); undefined: no browser sign-in. */
  uiClientId: string | undefined;
  /** Its client secret (a secret: SSM `okta-ui-client-secret` on deployed stages). */
  uiClientSecret: string | undefined;
  /** Members of any of these groups may sign in (OKTA_UI_GROUPS); empty: any assigned user. */
  uiGroups: string[];
  /** The pasted-token sign-in of the event browser (UI_TOKEN_SIGN_IN, default true). */
  uiTokenSignIn: boolean;
  /** `aud` the read API requires of access tokens (OKTA_API_AUDIENCE, default api://default). */
  apiAudience: string;
  /** A token with any of these scopes in `scp` may read (OKTA_API_SCOPES, default events:read). */
  apiScopes: string[];
  /** ...or with any of these in its `groups` claim (OKTA_API_GROUPS); empty: the scope only. */
  apiGroups: string[];
  /** Access tokens of these OAuth clients (`cid`) only (OKTA_API_CLIENT_IDS); empty: any client. */
  apiClientIds: string[];
  /**
   * A token naming a key id not in the cached keys refetches them at most this often
   * (OKTA_JWKS_REFETCH_COOLDOWN_SECONDS, default 30): made-up kids cannot flood the issuer.
   */
  jwksRefetchCooldownMs: number;
  /** Static EVENTS_API_TOKEN bearer tokens (READ_API_STATIC_TOKENS, default true). */
  readApiStaticTokens: boolean;
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
/** The first pass reads the last day: what a hook can have lost since it was set up. */
export const DEFAULT_LOOKBACK_HOURS = 24;
/** The System Log's own retention: nothing older can be read. */
export const MAX_LOOKBACK_HOURS = 90 * 24;
/** Okta's default share for one token or app, which Splunk's add-on keeps too. */
export const DEFAULT_RATE_LIMIT_SHARE = 0.5;
export const DEFAULT_RECONCILE_INTERVAL_SECONDS = 300;
/** Standard Webhooks senders wait about this long for an answer. */
export const DEFAULT_FORWARD_TIMEOUT_MS = 10_000;
/** Short enough that a rotated secret is picked up within minutes, long enough to cost nothing. */
export const DEFAULT_SECRETS_CACHE_SECONDS = 300;
/** The `aud` of Okta's default custom authorization server. */
export const DEFAULT_API_AUDIENCE = 'api://default';
/** An unknown `kid` refetches the issuer's keys at most this often (Okta rotates ~4 times a year). */
export const DEFAULT_JWKS_REFETCH_COOLDOWN_SECONDS = 30;
/** The scope a custom authorization server grants for reading events (docs/sign-in-with-okta.md). */
export const DEFAULT_API_SCOPE = 'events:read';

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

/**
 * serverless offline sets IS_OFFLINE=true in every handler's environment (after the caller's own
 * variables, so it cannot be cleared). It also sets AWS_LAMBDA_FUNCTION_NAME, so that name cannot
 * tell the two apart; AWS_EXECUTION_ENV and AWS_LAMBDA_RUNTIME_API can: the Lambda runtime always
 * sets them, they are reserved (a function's configuration can neither set nor clear them), and
 * serverless offline sets neither. In-process tests opt in by passing IS_OFFLINE=true to
 * loadConfig, as serverless offline does; process.env on Lambda never has it unless someone
 * writes it into serverless.yml, and even then the runtime's variables refuse the open mode.
 */
export function runsUnderServerlessOffline(env: NodeJS.ProcessEnv): boolean {
  const onLambda = Boolean(env.AWS_EXECUTION_ENV || env.AWS_LAMBDA_RUNTIME_API);
  return env.IS_OFFLINE?.trim().toLowerCase() === 'true' && !onLambda;
}

function fractionOf(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw);
  if (!(value > 0 && value <= 1)) {
    throw new ConfigError(`${name} must be a fraction above 0 and at most 1, got "${raw}"`);
  }
  return value;
}

const LOCAL_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/** Plain http to this machine: the simulator's fake org, tests. */
export function isLocalHttp(url: URL): boolean {
  return url.protocol === 'http:' && LOCAL_HOSTS.has(url.hostname);
}

/**
 * Refuses a URL that credentials would travel to in clear text: https, or http:// to this
 * machine only. `name` and `raw` are for the one-line error.
 */
export function assertCredentialSafe(url: URL, name: string, raw = url.href): void {
  if (url.protocol !== 'https:' && !isLocalHttp(url)) {
    throw new ConfigError(
      `${name} must be an https:// URL (http:// only for localhost), got "${raw}"`,
    );
  }
}

/**
 * An Okta org URL as `https://host[:port]`, nothing after it. `http://` only for localhost (the
 * simulator's fake org, tests): credentials never travel in clear text to anything else.
 */
export function parseOrgUrl(raw: string, name = 'OKTA_ORG_URL'): string {
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    throw new ConfigError(
      `${name} must be the org's URL, such as https://acme.okta.com, got "${raw}"`,
    );
  }
  assertCredentialSafe(url, name, raw);
  if (
    url.username ||
    url.password ||
    url.search ||
    url.hash ||
    (url.pathname !== '/' && url.pathname !== '')
  ) {
    throw new ConfigError(
      `${name} must be the org's URL alone, such as https://acme.okta.com (no path, query or credentials), got "${url.origin}${url.pathname}"`,
    );
  }
  if (/-admin\./.test(url.hostname)) {
    throw new ConfigError(
      `${name} is the Admin Console's address (${url.hostname}): use the org's, without "-admin"`,
    );
  }
  return url.origin;
}

/** Okta's event types: dotted words. Anything else is a typo that would silently match nothing. */
function eventTypes(value: string | undefined): string[] {
  const types = list(value);
  for (const type of types) {
    if (!/^[A-Za-z0-9_.-]{1,200}$/.test(type)) {
      throw new ConfigError(
        `OKTA_EVENT_TYPES must be a comma list of Okta event types such as user.session.start, got "${type}"`,
      );
    }
  }
  return types;
}

function lookbackHours(env: NodeJS.ProcessEnv): number {
  const hours = wholeNumber(env, 'SYSTEM_LOG_LOOKBACK_HOURS', DEFAULT_LOOKBACK_HOURS);
  if (hours > MAX_LOOKBACK_HOURS) {
    throw new ConfigError(
      `SYSTEM_LOG_LOOKBACK_HOURS must be at most ${MAX_LOOKBACK_HOURS} (the System Log keeps 90 days), got "${hours}"`,
    );
  }
  return hours;
}

function onOff(env: NodeJS.ProcessEnv, name: string, fallback: boolean): boolean {
  const raw = env[name]?.trim().toLowerCase();
  if (raw === undefined || raw === '') return fallback;
  if (raw === 'true') return true;
  if (raw === 'false') return false;
  throw new ConfigError(`${name} must be true or false, got "${env[name]}"`);
}

/**
 * An authorization server's issuer as its tokens carry it (no trailing slash): https, or http
 * to this machine only (the fake org, tests). An org URL alone is the org authorization server,
 * whose access tokens only Okta can validate: refused with the reason.
 */
export function parseIssuer(raw: string, name = 'OKTA_ISSUER'): string {
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    throw new ConfigError(
      `${name} must be a custom authorization server's issuer, such as https://acme.okta.com/oauth2/default, got "${raw}"`,
    );
  }
  assertCredentialSafe(url, name, raw);
  if (url.username || url.password || url.search || url.hash) {
    throw new ConfigError(
      `${name} must be the issuer alone (no query or credentials), got "${raw}"`,
    );
  }
  const issuer = `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
  if (issuer === url.origin && /\.(okta|oktapreview|okta-emea)\.com$/.test(url.hostname)) {
    throw new ConfigError(
      `${name} is the org authorization server (${issuer}), whose access tokens only Okta can validate: use a custom authorization server, such as ${issuer}/oauth2/default`,
    );
  }
  return issuer;
}

function secretValue(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed ? trimmed : undefined;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const logFormat = env.LOG_FORMAT === 'pretty' ? 'pretty' : 'json';
  const stage = env.STAGE?.trim() || 'local';
  return {
    stage,
    mayRunOpen: stage === 'local' && runsUnderServerlessOffline(env),
    tableName: env.EVENTS_TABLE?.trim() || DEFAULT_TABLE_NAME,
    region: env.AWS_REGION?.trim() || env.AWS_DEFAULT_REGION?.trim() || 'us-east-1',
    dynamodbEndpoint: env.DYNAMODB_ENDPOINT?.trim() || undefined,
    oktaAuthHeader: (env.OKTA_AUTH_HEADER?.trim() || 'authorization').toLowerCase(),
    oktaAuthSecrets: list(env.OKTA_AUTH_SECRET),
    hookdeckSigningSecrets: list(env.HOOKDECK_SIGNING_SECRET),
    eventsApiTokens: list(env.EVENTS_API_TOKEN),
    secretsPath: env.SECRETS_PATH?.trim().replace(/\/+$/, '') || undefined,
    ssmEndpoint: env.SSM_ENDPOINT?.trim() || undefined,
    localEnvFile:
      stage === 'local' && runsUnderServerlessOffline(env)
        ? env.LOCAL_ENV_FILE?.trim() || undefined
        : undefined,
    secretsCacheMs: 1000 * wholeNumber(env, 'SECRETS_CACHE_SECONDS', DEFAULT_SECRETS_CACHE_SECONDS),
    maxBodyBytes: wholeNumber(env, 'MAX_BODY_BYTES', DEFAULT_MAX_BODY_BYTES),
    requestBudgetMs: wholeNumber(env, 'REQUEST_BUDGET_MS', DEFAULT_REQUEST_BUDGET_MS),
    logFormat,
    retentionDays: wholeNumber(env, 'RETENTION_DAYS', DEFAULT_RETENTION_DAYS, 0),
    oktaOrgUrl: env.OKTA_ORG_URL?.trim() ? parseOrgUrl(env.OKTA_ORG_URL) : undefined,
    oktaApiToken: secretValue(env.OKTA_API_TOKEN),
    oktaClientId: env.OKTA_CLIENT_ID?.trim() || undefined,
    oktaPrivateKey: secretValue(env.OKTA_PRIVATE_KEY),
    oktaKeyId: env.OKTA_KEY_ID?.trim() || undefined,
    oktaEventHookId: env.OKTA_EVENT_HOOK_ID?.trim() || undefined,
    oktaEventTypes: eventTypes(env.OKTA_EVENT_TYPES),
    systemLogLookbackHours: lookbackHours(env),
    systemLogRateLimitShare: fractionOf(
      env,
      'SYSTEM_LOG_RATE_LIMIT_SHARE',
      DEFAULT_RATE_LIMIT_SHARE,
    ),
    reconcileIntervalSeconds: wholeNumber(
      env,
      'RECONCILE_INTERVAL_SECONDS',
      DEFAULT_RECONCILE_INTERVAL_SECONDS,
      0,
    ),
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
    signIn: {
      issuer: env.OKTA_ISSUER?.trim() ? parseIssuer(env.OKTA_ISSUER) : undefined,
      uiClientId: env.OKTA_UI_CLIENT_ID?.trim() || undefined,
      uiClientSecret: secretValue(env.OKTA_UI_CLIENT_SECRET),
      uiGroups: list(env.OKTA_UI_GROUPS),
      uiTokenSignIn: onOff(env, 'UI_TOKEN_SIGN_IN', true),
      apiAudience: env.OKTA_API_AUDIENCE?.trim() || DEFAULT_API_AUDIENCE,
      apiScopes: env.OKTA_API_SCOPES?.trim() ? list(env.OKTA_API_SCOPES) : [DEFAULT_API_SCOPE],
      apiGroups: list(env.OKTA_API_GROUPS),
      apiClientIds: list(env.OKTA_API_CLIENT_IDS),
      jwksRefetchCooldownMs:
        1000 *
        wholeNumber(
          env,
          'OKTA_JWKS_REFETCH_COOLDOWN_SECONDS',
          DEFAULT_JWKS_REFETCH_COOLDOWN_SECONDS,
          // 0 (refetch on every unknown kid) only for tests: deployed, made-up kids would each
          // cost a fetch from the issuer.
          stage === 'local' ? 0 : 1,
        ),
      readApiStaticTokens: onOff(env, 'READ_API_STATIC_TOKENS', true),
    },
  };
}

export function hasAnySecret(config: Config): boolean {
  return config.oktaAuthSecrets.length > 0 || config.hookdeckSigningSecrets.length > 0;
}

/**
 * A deployed stage with no secret would store whatever anyone posts: refuse to serve instead.
 * Only the local stage under serverless offline may run open, with a loud warning (see
 * `scripts/start.ts`); the local stage deployed by mistake refuses like any other.
 */
export function assertSecured(config: Config): void {
  if (!hasAnySecret(config) && !config.mayRunOpen) {
    const where = config.secretsPath ? ` in SSM under ${config.secretsPath}` : '';
    const why =
      config.stage === 'local' ? ' (the local stage runs open only under serverless offline)' : '';
    throw new ConfigError(
      `Stage "${config.stage}" has no OKTA_AUTH_SECRET or HOOKDECK_SIGNING_SECRET${where}${why}: refusing every request`,
    );
  }
}

/** Read API tokens (EVENTS_API_TOKEN) shorter than this are refused on deployed stages. */
export const MIN_READ_TOKEN_LENGTH = 32;

/** One line naming a too-short EVENTS_API_TOKEN value (by its length only); else undefined. */
export function shortReadTokenProblem(config: Pick<Config, 'eventsApiTokens'>): string | undefined {
  const short = config.eventsApiTokens.find((token) => token.length < MIN_READ_TOKEN_LENGTH);
  if (short === undefined) return undefined;
  return `EVENTS_API_TOKEN holds a value of ${short.length} characters: use ${MIN_READ_TOKEN_LENGTH} or more random ones (openssl rand -hex 32)`;
}

/** Deployed stages refuse every read while a read token is short enough to guess (500). */
export function assertStrongReadTokens(config: Config): void {
  const problem = shortReadTokenProblem(config);
  if (problem !== undefined && config.stage !== 'local') {
    throw new ConfigError(`${problem}: refusing every read on stage "${config.stage}"`);
  }
}

/**
 * The credentials of the function's role, which Lambda puts in the environment (temporary, with
 * a session token); read only to call SSM (lib/secrets.ts). The DynamoDB client reads the same
 * variables through the SDK's own provider chain.
 */
export function awsCredentialsFromEnv(
  env: NodeJS.ProcessEnv = process.env,
): AwsCredentials | undefined {
  const accessKeyId = env.AWS_ACCESS_KEY_ID?.trim();
  const secretAccessKey = env.AWS_SECRET_ACCESS_KEY?.trim();
  if (!accessKeyId || !secretAccessKey) return undefined;
  return { accessKeyId, secretAccessKey, sessionToken: env.AWS_SESSION_TOKEN?.trim() || undefined };
}

let cached: Config | undefined;

/** Configuration of this container, read once. */
export function config(): Config {
  cached ??= loadConfig();
  return cached;
}
