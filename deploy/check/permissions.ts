/**
 * deploy/permissions.json: what each function's IAM role must allow, function -> action ->
 * resource patterns. The tests check every recorded AWS call against it (unlistedCalls); the
 * deploy:check `iam` check simulates it against the packaged roles (deploy/check/iam.ts).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AwsCallRecord } from '../../lib/aws/call-recorder';

export interface PermissionEntry {
  /**
   * ARN patterns with `*` and the variables `${region}`, `${account}`, `${stage}`, `${table}`,
   * `${secretsPath}`, `${eventBus}`, `${streamLabel}` (the end of the table's stream ARN).
   */
  resources: string[];
  /** Why it is granted though no recorded call uses it (stream mappings, reactions with no local service). */
  reason?: string;
}

export interface PermissionManifest {
  functions: Record<string, Record<string, PermissionEntry>>;
}

export type ManifestVars = Record<
  'region' | 'account' | 'stage' | 'table' | 'secretsPath' | 'eventBus' | 'streamLabel',
  string
>;

export const MANIFEST_PATH = join(__dirname, '..', 'permissions.json');

export function loadManifest(path = MANIFEST_PATH): PermissionManifest {
  return JSON.parse(readFileSync(path, 'utf8')) as PermissionManifest;
}

/** A pattern with its variables filled in; `*` stays a wildcard. */
export function resolvePattern(pattern: string, vars: ManifestVars): string {
  return pattern.replace(/\$\{(\w+)\}/g, (whole, name: string) => {
    const value = (vars as Record<string, string>)[name];
    if (value === undefined) throw new Error(`unknown variable ${whole} in ${pattern}`);
    return value;
  });
}

/** IAM-style match: `*` is any run of characters, `?` one character, case-sensitive. */
export function arnMatches(pattern: string, arn: string): boolean {
  const source = pattern
    .split('')
    .map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.+^${}()|[\]\\]/g, '\\$&')))
    .join('');
  return new RegExp(`^${source}$`).test(arn);
}

/**
 * One line per recorded call of a function that the manifest does not allow, naming the
 * function, the action, the resource and the test that made it. Calls of no function (CLIs,
 * scripts, test set-up, the local stream runner) are not checked: no deployed role makes them.
 */
export function unlistedCalls(records: AwsCallRecord[], manifest: PermissionManifest): string[] {
  const lines = new Set<string>();
  for (const record of records) {
    if (record.function === null) continue;
    const entry = manifest.functions[record.function]?.[record.action];
    // Locally the region and account are DynamoDB Local's: any will do.
    const vars: ManifestVars = { ...record.vars, region: '*', account: '*', streamLabel: '*' };
    const allowed = entry?.resources.some((pattern) =>
      arnMatches(resolvePattern(pattern, vars), record.resource),
    );
    if (allowed) continue;
    const what = entry
      ? `${record.action} on ${record.resource} (not among its resources)`
      : `${record.action} on ${record.resource}`;
    lines.add(
      `${record.function}: ${what} is not in deploy/permissions.json; made by ${record.test ?? 'an unknown test'}`,
    );
  }
  return [...lines];
}
