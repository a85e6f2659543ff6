/**
 * Records every AWS call the code makes, when AWS_CALL_LOG names a file: one JSON line per
 * resource with {function, service, action, resource, test}. The tests turn it on
 * (test/helpers/aws-calls-setup.ts) and compare the log with deploy/permissions.json, the
 * committed list of what each function's IAM role must allow (docs/deploying.md, "Permission
 * manifest"). Off by default: the clients then get no middleware at all, so a deployed function
 * pays one environment look-up per client built.
 */
import { appendFileSync } from 'node:fs';

export const AWS_CALL_LOG = 'AWS_CALL_LOG';
/** The test (file, and test name when known) that made the call; set by the tests' setup. */
export const AWS_CALL_LOG_TEST = 'AWS_CALL_LOG_TEST';
/** DynamoDB Local and the SSM fakes have no account: the manifest check matches any. */
const LOCAL_ACCOUNT = '000000000000';

export interface AwsCallRecord {
  /** The serverless function (`receive`, ...) whose code made the call; null for CLIs, scripts and test set-up. */
  function: string | null;
  service: string;
  /** IAM action name, e.g. `dynamodb:PutItem`. */
  action: string;
  resource: string;
  test: string | null;
  /** What deploy/permissions.json's `${...}` variables stand for where the call was made. */
  vars: { stage: string; table: string; secretsPath: string; eventBus: string };
}

export function awsCallRecordingOn(env: NodeJS.ProcessEnv = process.env): boolean {
  return Boolean(env[AWS_CALL_LOG]);
}

/**
 * serverless offline (and Lambda) name a function `<service>-<stage>-<function>`; the manifest
 * uses the function's key in serverless.yml.
 */
function functionKey(env: NodeJS.ProcessEnv): string | null {
  const name = env.AWS_LAMBDA_FUNCTION_NAME;
  if (!name) return null;
  const marker = `-${env.STAGE ?? 'local'}-`;
  const at = name.indexOf(marker);
  return at >= 0 ? name.slice(at + marker.length) : name;
}

/** Appends one record per resource of the call; does nothing unless recording is on. */
export function recordAwsCall(service: string, action: string, resources: string[]): void {
  const env = process.env;
  const file = env[AWS_CALL_LOG];
  if (!file) return;
  const base = {
    function: functionKey(env),
    service,
    action: `${service}:${action}`,
    test: env[AWS_CALL_LOG_TEST] ?? null,
    vars: {
      stage: env.STAGE ?? 'local',
      table: env.EVENTS_TABLE ?? '',
      secretsPath: env.SECRETS_PATH ?? '',
      eventBus: env.EVENT_BUS_NAME ?? '',
    },
  };
  const lines = resources.map((resource) => JSON.stringify({ ...base, resource }) + '\n');
  // Synchronous and one write: lines of concurrent processes appending to one file stay whole.
  appendFileSync(file, lines.join(''));
}

const arnOr = (name: string, arn: (name: string) => string) =>
  name.startsWith('arn:') ? name : arn(name);

/** The resources a call names, as IAM sees them (table and index ARNs, bus ARNs, ...). */
export function resourcesOf(service: string, region: string, input: unknown): string[] {
  const i = (input ?? {}) as Record<string, unknown>;
  if (service === 'dynamodb') {
    const table = (name: string) =>
      arnOr(name, (n) => `arn:aws:dynamodb:${region}:${LOCAL_ACCOUNT}:table/${n}`);
    if (typeof i.TableName === 'string')
      return [
        table(i.TableName) + (typeof i.IndexName === 'string' ? `/index/${i.IndexName}` : ''),
      ];
    if (i.RequestItems && typeof i.RequestItems === 'object')
      return Object.keys(i.RequestItems).map(table);
    if (typeof i.StreamArn === 'string') return [i.StreamArn];
  }
  if (service === 'events' && Array.isArray(i.Entries)) {
    const buses = new Set(
      (i.Entries as { EventBusName?: string }[]).map((e) => e.EventBusName || 'default'),
    );
    return [...buses].map((bus) =>
      arnOr(bus, (n) => `arn:aws:events:${region}:${LOCAL_ACCOUNT}:event-bus/${n}`),
    );
  }
  if (service === 'ssm' && (Array.isArray(i.Names) || typeof i.Name === 'string')) {
    const names = Array.isArray(i.Names) ? (i.Names as string[]) : [i.Name as string];
    return names.map(
      (name) =>
        `arn:aws:ssm:${region}:${LOCAL_ACCOUNT}:parameter${name.startsWith('/') ? '' : '/'}${name}`,
    );
  }
  return ['*'];
}

type Handler = (args: { input: unknown }) => Promise<unknown>;
/** The part of an SDK v3 client this needs (its middleware stack), without its generic types. */
interface RecordableClient {
  middlewareStack: {
    add(
      middleware: (next: Handler, context: { commandName?: string }) => Handler,
      options: { step: 'initialize'; name: string },
    ): void;
  };
}

/**
 * Every client factory passes its client through here. `service` is the IAM prefix
 * (`dynamodb`, `events`, ...). With recording off the client is returned untouched.
 */
export function withAwsCallRecording<C>(client: C, service: string, region: string): C {
  if (!awsCallRecordingOn()) return client;
  (client as unknown as RecordableClient).middlewareStack.add(
    (next, context) => async (args) => {
      const action = (context.commandName ?? 'Unknown').replace(/Command$/, '');
      recordAwsCall(service, action, resourcesOf(service, region, args.input));
      return next(args);
    },
    { step: 'initialize', name: 'awsCallRecorder' },
  );
  return client;
}
