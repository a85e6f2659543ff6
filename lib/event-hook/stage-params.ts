/**
 * A stage's `params` from serverless.yml (`params.default` overlaid with `params.<stage>`), the
 * committed settings the deployed functions get: `hook apply` reads the event types from here so
 * that the hook and the reconciler always agree. The variables these params use are resolved as
 * the Serverless Framework does: `${env:NAME, 'fallback'}`, `${self:service}`, `${sls:stage}`.
 * Tooling only (the `yaml` package is a dev dependency): never imported by a handler.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { ConfigError } from '../errors';
import { PROJECT_ROOT } from '../store/table-definition';

const VARIABLE = /\$\{([^{}]+)\}/g;

function resolve(value: string, stage: string, service: string, env: NodeJS.ProcessEnv): string {
  return value.replace(VARIABLE, (whole, body: string) => {
    const [source, ...rest] = body.split(',');
    const fallback = rest
      .join(',')
      .trim()
      .replace(/^'(.*)'$/, '$1')
      .replace(/^"(.*)"$/, '$1');
    const [kind, name = ''] = source!.trim().split(':', 2) as [string, string?];
    if (kind === 'env') return env[name.trim()] ?? fallback;
    if (kind === 'self' && name.trim() === 'service') return service;
    if (kind === 'sls' && name.trim() === 'stage') return stage;
    throw new ConfigError(`serverless.yml: cannot resolve ${whole} in params.${stage}`);
  });
}

export function stageParams(
  stage: string,
  env: NodeJS.ProcessEnv = process.env,
  file = join(PROJECT_ROOT, 'serverless.yml'),
): Record<string, string> {
  const config = parse(readFileSync(file, 'utf8')) as {
    service?: string;
    params?: Record<string, Record<string, unknown> | null>;
  };
  const merged = { ...(config.params?.default ?? {}), ...(config.params?.[stage] ?? {}) };
  const service = config.service ?? 'okta-event-hooks';
  return Object.fromEntries(
    Object.entries(merged).map(([name, value]) => [
      name,
      resolve(String(value ?? ''), stage, service, env),
    ]),
  );
}

/** Stages serverless.yml names in `params` (besides `default`), plus `local`. */
export function knownStages(file = join(PROJECT_ROOT, 'serverless.yml')): string[] {
  const config = parse(readFileSync(file, 'utf8')) as { params?: Record<string, unknown> };
  return ['local', ...Object.keys(config.params ?? {}).filter((s) => s !== 'default')];
}
