/**
 * Secret values for a request. Locally (no `secretsPath`) they are the environment's, as
 * loadConfig read them. On a deployed stage they are SecureString parameters in SSM Parameter
 * Store, read at run time and reused for `secretsCacheMs`, so a rotated value is picked up
 * within minutes and the values never appear in the CloudFormation template or the function's
 * environment (which carries only SECRETS_PATH).
 *
 * IAM: each function may call ssm:GetParameters on exactly the parameters it reads. No
 * kms:Decrypt statement is needed for the default key: "The AWS managed key for Parameter Store
 * (aws/ssm) grants Decrypt permission to all IAM principals in the AWS account"
 * (docs.aws.amazon.com/systems-manager/latest/userguide/ps-restrict-decryption.html). A
 * customer managed key would need kms:Decrypt on that key.
 */
import { GetParametersCommand, type Parameter, SSMClient } from '@aws-sdk/client-ssm';
import type { Config } from './config';
import { SecretsUnavailableError } from './errors';

export type SecretName =
  'oktaAuthSecret' | 'hookdeckSigningSecret' | 'eventsApiToken' | 'oktaApiToken' | 'oktaPrivateKey';

/** Secrets accepted in several values during a rotation (comma-separated). */
type ListField = 'oktaAuthSecrets' | 'hookdeckSigningSecrets' | 'eventsApiTokens';
/** Secrets that are one value, kept whole (a JWK private key holds commas). */
type SingleField = 'oktaApiToken' | 'oktaPrivateKey';

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

/** SSM test fakes accept any credentials; fixed ones keep the SDK from looking for real ones. */
const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };

export function createSsmClient(config: Pick<Config, 'region' | 'ssmEndpoint'>): SSMClient {
  return new SSMClient({
    region: config.region,
    ...(config.ssmEndpoint ? { endpoint: config.ssmEndpoint, credentials: LOCAL_CREDENTIALS } : {}),
    // Read on a cold start inside Okta's 3 s: bound a slow SSM like the DynamoDB client does.
    maxAttempts: 2,
    requestHandler: { connectionTimeout: 400, requestTimeout: 1000 },
  });
}

/** Parameter values as read: list secrets split, single ones whole. */
type SecretValues = Partial<Record<SecretName, string[] | string>>;

interface CacheEntry {
  values: SecretValues;
  fetchedAt: number;
}

export class SecretResolver {
  private readonly client: SSMClient | undefined;
  /** One client per region and endpoint (a container has one; tests point at several fakes). */
  private readonly clients = new Map<string, SSMClient>();
  private readonly cache = new Map<string, CacheEntry>();
  private readonly inFlight = new Map<string, Promise<SecretValues>>();
  private readonly now: () => number;

  constructor(deps: { client?: SSMClient; now?: () => number } = {}) {
    this.client = deps.client;
    this.now = deps.now ?? Date.now;
  }

  /**
   * The config with the secret fields filled for `secrets`. With a `secretsPath`, SSM is the
   * only source: fields not asked for, and any value left in the environment, are emptied, so
   * a function never holds a secret it has no business with. A missing or empty parameter gives
   * no values (the caller decides whether that is fatal, e.g. assertSecured).
   */
  async resolve(config: Config, secrets: readonly SecretName[]): Promise<Config> {
    const { secretsPath } = config;
    if (!secretsPath) return config;
    const values = await this.read(config, secretsPath, secrets);
    const resolved: Config = {
      ...config,
      oktaAuthSecrets: [],
      hookdeckSigningSecrets: [],
      eventsApiTokens: [],
      oktaApiToken: undefined,
      oktaPrivateKey: undefined,
    };
    for (const secret of secrets) {
      const spec = SECRETS[secret];
      const value = values[secret];
      if (spec.kind === 'list') resolved[spec.field] = Array.isArray(value) ? value : [];
      else resolved[spec.field] = typeof value === 'string' && value !== '' ? value : undefined;
    }
    return resolved;
  }

  private async read(
    config: Config,
    secretsPath: string,
    secrets: readonly SecretName[],
  ): Promise<SecretValues> {
    const key = [config.region, config.ssmEndpoint, secretsPath, [...secrets].sort()].join('|');
    const cached = this.cache.get(key);
    if (cached && this.now() - cached.fetchedAt < config.secretsCacheMs) return cached.values;

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
      // SSM is briefly unreachable: the values we had are better than refusing deliveries.
      if (cached) return cached.values;
      throw error;
    }
  }

  private async fetch(
    config: Config,
    secretsPath: string,
    secrets: readonly SecretName[],
  ): Promise<SecretValues> {
    const clientKey = `${config.region}|${config.ssmEndpoint ?? ''}`;
    let client = this.client ?? this.clients.get(clientKey);
    if (!client) {
      client = createSsmClient(config);
      this.clients.set(clientKey, client);
    }
    const names = new Map(secrets.map((s) => [secretParameterName(secretsPath, s), s]));
    let parameters: Parameter[];
    try {
      ({ Parameters: parameters = [] } = await client.send(
        new GetParametersCommand({ Names: [...names.keys()], WithDecryption: true }),
      ));
    } catch (error) {
      const name = error instanceof Error ? error.name : 'unknown error';
      throw new SecretsUnavailableError(`SSM Parameter Store answered ${name}`, { cause: error });
    }
    // Names SSM does not know come back in InvalidParameters: they simply get no values.
    const values: SecretValues = {};
    for (const parameter of parameters) {
      const secret = parameter.Name === undefined ? undefined : names.get(parameter.Name);
      if (!secret) continue;
      values[secret] =
        SECRETS[secret].kind === 'list' ? list(parameter.Value) : (parameter.Value ?? '').trim();
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
