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
  'oktaAuthSecret' | 'hookdeckSigningSecret' | 'eventsApiToken' | 'forwardSecret';

type SecretField =
  'oktaAuthSecrets' | 'hookdeckSigningSecrets' | 'eventsApiTokens' | 'forwardSecrets';

/** Each secret's parameter under `secretsPath`, and the Config field holding its values. */
export const SECRETS: Record<SecretName, { parameter: string; field: SecretField }> = {
  oktaAuthSecret: { parameter: 'okta-auth-secret', field: 'oktaAuthSecrets' },
  hookdeckSigningSecret: { parameter: 'hookdeck-signing-secret', field: 'hookdeckSigningSecrets' },
  eventsApiToken: { parameter: 'events-api-token', field: 'eventsApiTokens' },
  // The react function's `forward` reaction signs with it (Config.reactions.forwardSecrets).
  forwardSecret: { parameter: 'forward-secret', field: 'forwardSecrets' },
};

/** What the webhook endpoints (verify, receive) authenticate with. */
export const WEBHOOK_SECRETS: readonly SecretName[] = ['oktaAuthSecret', 'hookdeckSigningSecret'];

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

type SecretValues = Partial<Record<SecretName, string[]>>;

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
    };
    resolved.reactions = { ...config.reactions, forwardSecrets: [] };
    for (const secret of secrets) {
      const { field } = SECRETS[secret];
      if (field === 'forwardSecrets') resolved.reactions.forwardSecrets = values[secret] ?? [];
      else resolved[field] = values[secret] ?? [];
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
      if (secret) values[secret] = list(parameter.Value);
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
