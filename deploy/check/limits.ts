/**
 * `limits`: values AWS refuses at deploy time that the specification does not carry (ranges), and
 * the limit of two concurrent readers per DynamoDB stream shard.
 */
import type { DeployCheck, Finding, Template } from './types';

type Rule = { min: number; max: number; also?: number[] } | { allowed: number[] };

/** Per resource type, property path (dot-separated) → the values AWS accepts. */
const RANGES: Record<string, Record<string, Rule>> = {
  'AWS::Lambda::Function': {
    Timeout: { min: 1, max: 900 },
    MemorySize: { min: 128, max: 10240 },
    'EphemeralStorage.Size': { min: 512, max: 10240 },
  },
  'AWS::Lambda::EventSourceMapping': {
    BatchSize: { min: 1, max: 10000 },
    MaximumRetryAttempts: { min: -1, max: 10000 },
    MaximumRecordAgeInSeconds: { min: 60, max: 604800, also: [-1] },
    MaximumBatchingWindowInSeconds: { min: 0, max: 300 },
    ParallelizationFactor: { min: 1, max: 10 },
  },
  'AWS::Lambda::EventInvokeConfig': {
    MaximumRetryAttempts: { min: 0, max: 2 },
    MaximumEventAgeInSeconds: { min: 60, max: 21600 },
  },
  'AWS::Logs::LogGroup': {
    RetentionInDays: {
      allowed: [
        1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
        3288, 3653,
      ],
    },
  },
  'AWS::SQS::Queue': {
    MessageRetentionPeriod: { min: 60, max: 1209600 },
    VisibilityTimeout: { min: 0, max: 43200 },
  },
  'AWS::CloudWatch::Alarm': {
    // 10 and 30 are high-resolution periods; otherwise a multiple of 60 (checked below).
    Period: { min: 10, max: 86400 * 7 },
    EvaluationPeriods: { min: 1, max: 100 },
  },
};

/** A DynamoDB stream shard serves at most two concurrent readers; a third is throttled. */
export const MAX_STREAM_READERS = 2;

function valueAt(properties: Record<string, unknown>, path: string): unknown {
  return path
    .split('.')
    .reduce<unknown>(
      (v, key) =>
        typeof v === 'object' && v !== null ? (v as Record<string, unknown>)[key] : undefined,
      properties,
    );
}

function allows(rule: Rule, n: number): string | undefined {
  if ('allowed' in rule)
    return rule.allowed.includes(n) ? undefined : `one of ${rule.allowed.join(', ')}`;
  if ((n >= rule.min && n <= rule.max) || rule.also?.includes(n)) return undefined;
  return `${rule.also ? `${rule.also.join(', ')} or ` : ''}${rule.min}..${rule.max}`;
}

export function checkLimits(template: Template): Finding[] {
  const findings: Finding[] = [];
  const readers = new Map<string, string[]>();
  for (const [id, resource] of Object.entries(template.Resources)) {
    const properties = resource.Properties ?? {};
    for (const [path, rule] of Object.entries(RANGES[resource.Type] ?? {})) {
      const raw = valueAt(properties, path);
      // Intrinsics are resolved at deploy time; only literal values can be checked here.
      if (raw === undefined || (typeof raw !== 'number' && typeof raw !== 'string')) continue;
      const n = Number(raw);
      const expected = Number.isNaN(n) ? 'a number' : allows(rule, n);
      if (expected)
        findings.push({ where: id, message: `${path} is ${raw}: AWS accepts ${expected}` });
    }
    if (resource.Type === 'AWS::CloudWatch::Alarm') {
      const period = Number(properties.Period);
      if (period > 30 && period % 60 !== 0)
        findings.push({ where: id, message: `Period is ${period}: 10, 30 or a multiple of 60` });
    }
    if (resource.Type === 'AWS::Lambda::EventSourceMapping') {
      const source = properties.EventSourceArn as { 'Fn::GetAtt'?: [string, string] } | undefined;
      const [table, attribute] = source?.['Fn::GetAtt'] ?? [];
      if (table && attribute === 'StreamArn')
        readers.set(table, [...(readers.get(table) ?? []), id]);
    }
  }
  for (const [table, mappings] of readers)
    if (mappings.length > MAX_STREAM_READERS)
      findings.push({
        where: table,
        message: `${mappings.length} functions read its stream (${mappings.join(', ')}): a DynamoDB stream serves ${MAX_STREAM_READERS} readers per shard; fold one into an existing function (docs/deploying.md)`,
      });
  return findings;
}

export const limitsCheck: DeployCheck = {
  name: 'limits',
  run: ({ template }) => checkLimits(template),
};
