/**
 * `diff`: the resources a deploy of this stage would add, change and remove, against the stage's
 * template kept in deploy/templates/<stage>.json (updated with `npm run deploy:check -- --stage S
 * --accept` after a deploy). It informs; it fails only when a resource holding data or wiring
 * would be removed, until that removal is accepted.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { PROJECT_ROOT } from './package-stage';
import type { DeployCheck, Finding, Template, TemplateResource } from './types';

export const templatePath = (stage: string) => `deploy/templates/${stage}.json`;

/** Removing one of these loses stored data or cuts a path events or alarms travel on. */
const HOLDS_DATA_OR_WIRING = new Set([
  'AWS::DynamoDB::Table',
  'AWS::SQS::Queue',
  'AWS::Events::EventBus',
  'AWS::Events::Rule',
  'AWS::SNS::Topic',
  'AWS::SNS::Subscription',
  'AWS::Lambda::EventSourceMapping',
  'AWS::Logs::LogGroup',
]);

/** Each package has its own upload folder (a timestamp): not a change of the stack. */
export function normalise(template: Template): Template {
  return JSON.parse(
    JSON.stringify(template).replace(/\/\d{13}-\d{4}-\d\d-\d\dT[\d:.]+Z\//g, '/<package>/'),
  ) as Template;
}

export interface StageDiff {
  added: [string, TemplateResource][];
  removed: [string, TemplateResource][];
  /** Logical id, type and the top-level keys (Properties.X, DeletionPolicy, ...) that differ. */
  changed: [string, TemplateResource, string[]][];
}

export function diffTemplates(before: Template, after: Template): StageDiff {
  const [old, next] = [normalise(before).Resources, normalise(after).Resources];
  const diff: StageDiff = { added: [], removed: [], changed: [] };
  for (const [id, resource] of Object.entries(next)) {
    const previous = old[id];
    if (!previous) {
      diff.added.push([id, resource]);
      continue;
    }
    const flat = (r: TemplateResource) => {
      const { Properties = {}, ...rest } = r;
      const keys: Record<string, string> = {};
      for (const [k, v] of Object.entries(rest)) keys[k] = JSON.stringify(v);
      for (const [k, v] of Object.entries(Properties)) keys[`Properties.${k}`] = JSON.stringify(v);
      return keys;
    };
    const [a, b] = [flat(previous), flat(resource)];
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].filter((k) => a[k] !== b[k]);
    if (keys.length > 0) diff.changed.push([id, resource, keys]);
  }
  for (const [id, resource] of Object.entries(old))
    if (!(id in next)) diff.removed.push([id, resource]);
  return diff;
}

/** The diff as lines: informational ones (`note`), and a failure per removed data resource. */
export function diffFindings(stage: string, diff: StageDiff): Finding[] {
  const accept = `npm run deploy:check -- --stage ${stage} --accept`;
  const findings: Finding[] = [
    ...diff.added.map(([id, r]) => ({ where: id, message: `+ added (${r.Type})`, note: true })),
    ...diff.changed.map(([id, r, keys]) => ({
      where: id,
      message: `~ changed (${r.Type}): ${keys.join(', ')}`,
      note: true,
    })),
  ];
  for (const [id, r] of diff.removed)
    findings.push(
      HOLDS_DATA_OR_WIRING.has(r.Type)
        ? {
            where: id,
            message: `- REMOVED (${r.Type}): holds data or wiring, the deploy would delete it; if that is what you want, ${accept}`,
          }
        : { where: id, message: `- removed (${r.Type})`, note: true },
    );
  return findings;
}

export function readStageTemplate(stage: string): Template | undefined {
  const path = join(PROJECT_ROOT, templatePath(stage));
  return existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as Template) : undefined;
}

/** Keeps `template` as the stage's last accepted (deployed) template. */
export function acceptStageTemplate(stage: string, template: Template): void {
  const path = join(PROJECT_ROOT, templatePath(stage));
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `${JSON.stringify(normalise(template), null, 2)}\n`);
}

export const stageDiffCheck: DeployCheck = {
  name: 'diff',
  run({ stage, template }) {
    const before = readStageTemplate(stage);
    if (!before)
      return [
        {
          where: templatePath(stage),
          message: `none kept yet, every resource is new; after your first deploy, npm run deploy:check -- --stage ${stage} --accept`,
          note: true,
        },
      ];
    return diffFindings(stage, diffTemplates(before, template));
  },
};
