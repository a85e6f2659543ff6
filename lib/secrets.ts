/**
 * Secret values for a request. Locally (no `secretsPath`) they are the environment's, as
 * loadConfig read them. On a deployed stage they are SecureString parameters in SSM Parameter
 * Store, read at run time and reused for `secretsCacheMs`, so a rotated value is picked up
 * within minutes and the values never appear in the CloudFormation template or the function's
 * environment (which carries only SECRETS_PATH).
 *
 * SSM is called without the SDK's SSM client: one signed GetParameters POST (lib/aws/sigv4.ts)
 * over node:https, with the credentials Lambda puts in the environment. The client was 631 KB of
 * the 640 KB verify bundle and most of its cold load (docs/performance.md, "Cold start").
 *
 * IAM: each function may call ssm:GetParameters on exactly the parameters it reads. No
 * kms:Decrypt statement is needed for the default key: "The AWS managed key for Parameter Store
 * (aws/ssm) grants Decrypt permission to all IAM principals in the AWS account"
 * (docs.aws.amazon.com/systems-manager/latest/userguide/ps-restrict-decryption.html). A
 * customer managed key would need kms:Decrypt on that key.
 */
import { readFileSync, statSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { parseEnv } from 'node:util';
import { awsCallRecordingOn, recordAwsCall, resourcesOf } from './aws/call-recorder';
import { type AwsCredentials, signedJsonPostHeaders } from './aws/sigv4';
import { type Config, awsCredentialsFromEnv } from './config';
import { ConfigError, SecretsUnavailableError } from './errors';

export type SecretName =
  | 'oktaAuthSecret'
  | 'hookdeckSigningSecret'
  | 'eventsApiToken'
  | 'oktaApiToken'
  | 'oktaPrivateKey'
  | 'forwardSecret'
  | 'oktaUiClientSecret';

/** Secrets accepted in several values during a rotation (comma-separated). */
type ListField =
  'oktaAuthSecrets' | 'hookdeckSigningSecrets' | 'eventsApiTokens' | 'forwardSecrets';
/** Secrets that are one value, kept whole (a JWK private key holds commas). */
type SingleField = 'oktaApiToken' | 'oktaPrivateKey' | 'uiClientSecret';

type SecretSpec =
  | { parameter: string; kind: 'list'; field: ListField }
  | { parameter: string; kind: 'single'; field: SingleField };

/** Each secret's parameter under `secretsPath`, and the Config field holding its value(s). */
export const SECRETS: Record<SecretName, SecretSpec> = {
  oktaAuthSecret: { parameter: 'okta-auth-secret', kind: 'list', field: 'oktaAuthSecrets' },
  hookdeckSigningSecret: {
    parameter: 'hookdeck-signing-secret',
    kind: 'list',
    field: 'hookdeckSigningSecrets',
  },
  eventsApiToken: { parameter: 'events-api-token', kind: 'list', field: 'eventsApiTokens' },
  oktaApiToken: { parameter: 'okta-api-token', kind: 'single', field: 'oktaApiToken' },
  oktaPrivateKey: { parameter: 'okta-private-key', kind: 'single', field: 'oktaPrivateKey' },
  // The react function's `forward` reaction signs with it (Config.reactions.forwardSecrets).
  forwardSecret: { parameter: 'forward-secret', kind: 'list', field: 'forwardSecrets' },
  // The event browser's OIDC web app (Config.signIn.uiClientSecret).
  oktaUiClientSecret: {
    parameter: 'okta-ui-client-secret',
    kind: 'single',
    field: 'uiClientSecret', // in Config.signIn
  },
};

/** What the webhook endpoints (verify, receive) authenticate with. */
export const WEBHOOK_SECRETS: readonly SecretName[] = ['oktaAuthSecret', 'hookdeckSigningSecret'];
/** What the reconciler authenticates to Okta with: either is enough. */
export const OKTA_API_SECRETS: readonly SecretName[] = ['oktaApiToken', 'oktaPrivateKey'];

export function secretParameterName(secretsPath: string, secret: SecretName): string {
  return `${secretsPath}/${SECRETS[secret].parameter}`;
}

/** Comma-separated values, as in the environment: two values are accepted during a rotation. */
function list(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

/**
 * One read of the secrets, retries included, takes at most this long. Okta waits 3 s and the
 * delivery handler answers 503 at 2.5 s: an SSM that hangs must leave time for the answer (and,
 * with values in hand, for storing). SSM answers in tens of milliseconds when it is well.
 */
export const SSM_TIMEOUT_MS = 1000;
/**
 * When SSM cannot be read, the values last read keep serving this long past their expiry. An
 * SSM outage or throttling episode (the account's GetParameters rate is shared by every
 * container) lasts minutes, rarely an hour: refusing deliveries then would lose them (Okta
 * retries once). Bounded because a secret removed from SSM during such an outage, a leaked one
 * among them, must stop working: at the latest secretsCacheMs + 1 h after it was last read.
 */
export const MAX_STALE_MS = 60 * 60 * 1000;
/** After a failed refresh, SSM is asked again only after this long: the values in hand serve. */
export const RETRY_AFTER_MS = 30 * 1000;

/** SSM test fakes check signatures made with these. */
const LOCAL_CREDENTIALS: AwsCredentials = { accessKeyId: 'local', secretAccessKey: 'local' };

/** An error answer from SSM: its `__type` (e.g. ThrottlingException) and message. */
export class SsmError extends Error {
  override name = 'SsmError';
  constructor(
    readonly type: string,
    readonly status: number,
    message: string,
  ) {
    super(`${type} (HTTP ${status}): ${message}`);
  }
}

export function ssmUrl(config: Pick<Config, 'region' | 'ssmEndpoint'>): URL {
  if (config.ssmEndpoint) return new URL('/', config.ssmEndpoint);
  const domain = config.region.startsWith('cn-') ? 'amazonaws.com.cn' : 'amazonaws.com';
  return new URL(`https://ssm.${config.region}.${domain}/`);
}

function post(url: URL, headers: Record<string, string>, body: string, signal: AbortSignal) {
  const send = url.protocol === 'http:' ? httpRequest : httpsRequest;
  return new Promise<{ status: number; body: string }>((resolve, reject) => {
    const request = send(url, { method: 'POST', headers, signal }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('error', reject);
      response.on('close', () => {
        if (!response.complete) reject(new Error('SSM closed the connection mid-answer'));
        else resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString() });
      });
    });
    request.on('error', reject);
    request.end(body);
  });
}

interface GetParametersOutput {
  Parameters?: { Name?: string; Value?: string }[];
}

/** One signed SSM call (JSON 1.1 protocol, as the SDK sends it); SSM's error answers thrown as SsmError. */
async function ssmCall<Output>(
  config: Pick<Config, 'region' | 'ssmEndpoint'>,
  credentials: AwsCredentials,
  action: 'GetParameters' | 'PutParameter',
  input: Record<string, unknown>,
  signal: AbortSignal,
): Promise<Output> {
  const url = ssmUrl(config);
  if (awsCallRecordingOn()) recordAwsCall('ssm', action, resourcesOf('ssm', config.region, input));
  const body = JSON.stringify(input);
  const headers = signedJsonPostHeaders(
    url,
    {
      'content-type': 'application/x-amz-json-1.1',
      'x-amz-target': `AmazonSSM.${action}`,
      'content-length': String(Buffer.byteLength(body)),
    },
    body,
    { region: config.region, service: 'ssm', credentials },
  );
  const response = await post(url, headers, body, signal);
  let parsed: { __type?: string; message?: string; Message?: string } & Output;
  try {
    parsed = JSON.parse(response.body || '{}');
  } catch {
    throw new SsmError('UnreadableAnswer', response.status, 'the body is not JSON');
  }
  if (response.status !== 200) {
    // "__type": "com.amazonaws...#ThrottlingException" or just the name.
    const type = (parsed.__type ?? 'UnknownError').split('#').pop()!;
    throw new SsmError(type, response.status, String(parsed.message ?? parsed.Message ?? ''));
  }
  return parsed;
}

/** One signed GetParameters call. */
function getParametersOnce(
  config: Pick<Config, 'region' | 'ssmEndpoint'>,
  credentials: AwsCredentials,
  names: string[],
  signal: AbortSignal,
): Promise<GetParametersOutput> {
  return ssmCall(
    config,
    credentials,
    'GetParameters',
    { Names: names, WithDecryption: true },
    signal,
  );
}

/** Throttling, SSM's own failures and network errors are worth a second try; the rest are not. */
function retryable(error: unknown): boolean {
  if (!(error instanceof SsmError)) return true;
  return error.status >= 500 || /Throttl|TooManyUpdates/.test(error.type);
}

function ssmCredentials(config: Pick<Config, 'ssmEndpoint'>): AwsCredentials {
  const credentials = config.ssmEndpoint ? LOCAL_CREDENTIALS : awsCredentialsFromEnv();
  if (!credentials) {
    throw new ConfigError(
      'SECRETS_PATH is set but the environment holds no AWS credentials (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY) to read SSM with',
    );
  }
  return credentials;
}

/** Runs `call` with at most two attempts, all within `timeoutMs`; failures as SecretsUnavailableError. */
async function withRetry<T>(
  timeoutMs: number,
  call: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const signal = AbortSignal.timeout(timeoutMs);
  for (let attempt = 1; ; attempt++) {
    try {
      return await call(signal);
    } catch (error) {
      if (signal.aborted) {
        throw new SecretsUnavailableError(
          `SSM Parameter Store did not answer within ${timeoutMs} ms`,
          {
            cause: error,
          },
        );
      }
      if (attempt >= 2 || !retryable(error)) {
        const what = error instanceof SsmError ? `answered ${error.type}` : 'could not be reached';
        throw new SecretsUnavailableError(`SSM Parameter Store ${what}`, { cause: error });
      }
    }
  }
}

/** GetParameters with at most two attempts, all within SSM_TIMEOUT_MS. */
export async function getParameters(
  config: Pick<Config, 'region' | 'ssmEndpoint'>,
  names: string[],
  timeoutMs = SSM_TIMEOUT_MS,
): Promise<Map<string, string | undefined>> {
  const credentials = ssmCredentials(config);
  const { Parameters = [] } = await withRetry(timeoutMs, (signal) =>
    getParametersOnce(config, credentials, names, signal),
  );
  return new Map(Parameters.map((p) => [p.Name ?? '', p.Value]));
}

/**
 * Overwrites (or creates) a SecureString parameter, encrypted with SSM's default key: the
 * operator's `hook rotate-secret --stage` writes the receiver's accepted secrets with it. Never
 * called by a function (their roles may only read).
 */
export async function putSecureParameter(
  config: Pick<Config, 'region' | 'ssmEndpoint'>,
  name: string,
  value: string,
  timeoutMs = SSM_TIMEOUT_MS,
): Promise<void> {
  const credentials = ssmCredentials(config);
  const input = { Name: name, Value: value, Type: 'SecureString', Overwrite: true };
  await withRetry(timeoutMs, (signal) =>
    ssmCall(config, credentials, 'PutParameter', input, signal),
  );
}

/** Parameter values as read: list secrets split, single ones whole. */
type SecretValues = Partial<Record<SecretName, string[] | string>>;

interface CacheEntry {
  values: SecretValues;
  fetchedAt: number;
  /** When the last refresh failed, while these values kept serving. */
  failedAt?: number;
}

export class SecretResolver {
  private readonly cache = new Map<string, CacheEntry>();
  private readonly inFlight = new Map<string, Promise<SecretValues>>();
  private readonly now: () => number;

  constructor(deps: { now?: () => number } = {}) {
    this.now = deps.now ?? Date.now;
  }

  /**
   * The config with the secret fields filled for `secrets`. With a `secretsPath`, SSM is the
   * only source: fields not asked for, and any value left in the environment, are emptied, so
   * a function never holds a secret it has no business with. A missing or empty parameter gives
   * no values (the caller decides whether that is fatal, e.g. assertSecured). `warn` hears when
   * SSM failed and older values serve.
   */
  async resolve(
    config: Config,
    secrets: readonly SecretName[],
    warn: (message: string) => void = () => undefined,
  ): Promise<Config> {
    const { secretsPath } = config;
    if (!secretsPath) return config.localEnvFile ? this.fromLocalEnvFile(config) : config;
    const values = await this.read(config, secretsPath, secrets, warn);
    const resolved: Config = {
      ...config,
      oktaAuthSecrets: [],
      hookdeckSigningSecrets: [],
      eventsApiTokens: [],
      oktaApiToken: undefined,
      oktaPrivateKey: undefined,
    };
    resolved.reactions = { ...config.reactions, forwardSecrets: [] };
    resolved.signIn = { ...config.signIn, uiClientSecret: undefined };
    for (const secret of secrets) {
      const spec = SECRETS[secret];
      const value = values[secret];
      if (spec.field === 'forwardSecrets') {
        resolved.reactions.forwardSecrets = Array.isArray(value) ? value : [];
      } else if (spec.field === 'uiClientSecret') {
        resolved.signIn.uiClientSecret =
          typeof value === 'string' && value !== '' ? value : undefined;
      } else if (spec.kind === 'list') resolved[spec.field] = Array.isArray(value) ? value : [];
      else resolved[spec.field] = typeof value === 'string' && value !== '' ? value : undefined;
    }
    return resolved;
  }

  private localFile: { path: string; mtimeMs: number; values: NodeJS.Dict<string> } | undefined;

  /**
   * The local stage's OKTA_AUTH_SECRET as `.env` says now (re-read when it changes), so that a
   * local rotation needs no restart; without it in `.env`, the environment's value stays.
   */
  private fromLocalEnvFile(config: Config): Config {
    const path = config.localEnvFile!;
    let mtimeMs: number;
    try {
      mtimeMs = statSync(path).mtimeMs;
    } catch {
      return config; // no .env (yet): the environment's values
    }
    let file = this.localFile;
    if (file?.path !== path || file.mtimeMs !== mtimeMs) {
      file = { path, mtimeMs, values: parseEnv(readFileSync(path, 'utf8')) };
      this.localFile = file;
    }
    const okta = file.values.OKTA_AUTH_SECRET;
    return okta === undefined ? config : { ...config, oktaAuthSecrets: list(okta) };
  }

  private async read(
    config: Config,
    secretsPath: string,
    secrets: readonly SecretName[],
    warn: (message: string) => void,
  ): Promise<SecretValues> {
    const key = [config.region, config.ssmEndpoint, secretsPath, [...secrets].sort()].join('|');
    const cached = this.cache.get(key);
    const usable = (entry: CacheEntry) =>
      this.now() - entry.fetchedAt < config.secretsCacheMs + MAX_STALE_MS;
    if (cached) {
      if (this.now() - cached.fetchedAt < config.secretsCacheMs) return cached.values;
      // SSM failed a moment ago: do not make every request wait for it again.
      if (cached.failedAt !== undefined && this.now() - cached.failedAt < RETRY_AFTER_MS) {
        if (usable(cached)) return this.stale(cached, warn);
      }
    }

    let pending = this.inFlight.get(key);
    if (!pending) {
      pending = this.fetch(config, secretsPath, secrets).finally(() => this.inFlight.delete(key));
      this.inFlight.set(key, pending);
    }
    try {
      const values = await pending;
      this.cache.set(key, { values, fetchedAt: this.now() });
      return values;
    } catch (error) {
      if (cached && usable(cached)) {
        cached.failedAt = this.now();
        const reason = error instanceof Error ? error.message : String(error);
        return this.stale(cached, warn, reason);
      }
      throw error;
    }
  }

  private stale(entry: CacheEntry, warn: (message: string) => void, reason?: string) {
    const age = Math.round((this.now() - entry.fetchedAt) / 1000);
    warn(`${reason ?? 'SSM failed moments ago'}: using the secrets read ${age} s ago`);
    return entry.values;
  }

  private async fetch(
    config: Config,
    secretsPath: string,
    secrets: readonly SecretName[],
  ): Promise<SecretValues> {
    const names = new Map(secrets.map((s) => [secretParameterName(secretsPath, s), s]));
    const found = await getParameters(config, [...names.keys()]);
    // Names SSM does not know come back in InvalidParameters: they simply get no values.
    const values: SecretValues = {};
    for (const [name, value] of found) {
      const secret = names.get(name);
      if (!secret) continue;
      values[secret] = SECRETS[secret].kind === 'list' ? list(value) : (value ?? '').trim();
    }
    return values;
  }
}

let containerResolver: SecretResolver | undefined;

/** The resolver of this container: its cache lives as long as the container. */
export function secretResolver(): SecretResolver {
  containerResolver ??= new SecretResolver();
  return containerResolver;
}
