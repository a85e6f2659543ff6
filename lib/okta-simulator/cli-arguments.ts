/**
 * The okta CLI's arguments: each command's options, strict parsing with one clear message per
 * mistake, and the value checks its runners share (cli.ts wires them to the commands).
 */
import { parseArgs } from 'node:util';
import { DEFAULT_AUTH_HEADER } from './deliver';
import { EVENT_TYPES, type EventType, isEventType } from './events';

export class UsageError extends Error {}

export interface CliOutput {
  out(line: string): void;
  err(line: string): void;
}

type OptionSpec = { type: 'string' | 'boolean'; short?: string; multiple?: boolean };
const COMMON: Record<string, OptionSpec> = {
  url: { type: 'string' },
  secret: { type: 'string' },
  'auth-header': { type: 'string' },
  'dry-run': { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
};
const COMMANDS: Record<string, Record<string, OptionSpec>> = {
  receive: {
    port: { type: 'string' },
    secret: { type: 'string' },
    fail: { type: 'string' },
    host: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
  verify: COMMON,
  preview: { ...COMMON, type: { type: 'string' } },
  send: {
    ...COMMON,
    type: { type: 'string' },
    count: { type: 'string' },
    'per-request': { type: 'string' },
    duplicates: { type: 'string' },
    concurrency: { type: 'string' },
    user: { type: 'string' },
    'via-hookdeck': { type: 'boolean' },
    'signing-secret': { type: 'string' },
    org: { type: 'string' },
    drop: { type: 'string' },
  },
  serve: {
    port: { type: 'string' },
    token: { type: 'string' },
    'client-id': { type: 'string' },
    'public-key': { type: 'string' },
    'key-id': { type: 'string' },
    'hook-id': { type: 'string' },
    'hook-types': { type: 'string' },
    'rate-limit': { type: 'string' },
    'link-style': { type: 'string' },
    'auto-login': { type: 'string' },
    users: { type: 'string' },
    'redirect-uri': { type: 'string', multiple: true },
    help: { type: 'boolean', short: 'h' },
  },
  emit: {
    org: { type: 'string' },
    type: { type: 'string' },
    count: { type: 'string' },
    'per-request': { type: 'string' },
    rate: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
  replay: {
    to: { type: 'string' },
    secret: { type: 'string' },
    'auth-header': { type: 'string' },
    'dry-run': { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
    type: { type: 'string' },
    user: { type: 'string' },
    since: { type: 'string' },
    until: { type: 'string' },
    'per-request': { type: 'string' },
    'from-url': { type: 'string' },
    token: { type: 'string' },
    'via-hookdeck': { type: 'boolean' },
    'signing-secret': { type: 'string' },
  },
};

export type Values = Record<string, string | boolean | string[] | undefined>;

/** Strict parsing with one clear message per mistake (parseArgs' own messages are long). */
export function parseCommandArgs(command: string, args: string[]): Values {
  const options = COMMANDS[command]!;
  const { values, tokens } = parseArgs({
    args,
    options,
    strict: false,
    allowPositionals: true,
    tokens: true,
  });
  for (const token of tokens) {
    if (token.kind === 'positional') {
      throw new UsageError(`unexpected argument "${token.value}" for ${command}`);
    }
    if (token.kind !== 'option') continue;
    const spec = options[token.name];
    if (spec === undefined) throw new UsageError(`unknown option ${token.rawName} for ${command}`);
    if (
      spec.type === 'string' &&
      (token.value === undefined || (!token.inlineValue && token.value.startsWith('--')))
    ) {
      throw new UsageError(`${token.rawName} needs a value`);
    }
    if (spec.type === 'boolean' && token.value !== undefined) {
      throw new UsageError(`${token.rawName} takes no value`);
    }
  }
  return values;
}

export function requiredString(values: Values, name: string): string {
  const value = values[name];
  if (typeof value !== 'string' || value === '') throw new UsageError(`--${name} is required`);
  return value;
}

export function optionalString(values: Values, name: string): string | undefined {
  const value = values[name];
  if (value === '') throw new UsageError(`--${name} must not be empty`);
  return typeof value === 'string' ? value : undefined;
}

export function urlOf(values: Values, name = 'url'): string {
  const raw = requiredString(values, name);
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new UsageError(`--${name} must be an absolute http(s) URL, got "${raw}"`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UsageError(`--${name} must be an http or https URL, got "${raw}"`);
  }
  return raw;
}

export function wholeNumber(values: Values, name: string, fallback: number, max: number): number {
  const raw = values[name];
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1 || value > max) {
    throw new UsageError(`--${name} must be a whole number from 1 to ${max}, got "${raw}"`);
  }
  return value;
}

export function fraction(values: Values, name: string): number {
  const raw = values[name];
  if (raw === undefined) return 0;
  const value = Number(raw);
  if (typeof raw !== 'string' || raw.trim() === '' || !(value >= 0 && value <= 1)) {
    throw new UsageError(`--${name} must be a fraction from 0 to 1, got "${raw}"`);
  }
  return value;
}

export function parseTypes(raw: string, option = '--type'): EventType[] {
  if (raw === 'all') return [...EVENT_TYPES];
  const types = raw.split(',').map((t) => t.trim());
  for (const type of types) {
    if (!isEventType(type)) {
      throw new UsageError(
        `unknown event type "${type}" in ${option}; use "all" or a comma list of: ${EVENT_TYPES.join(', ')}`,
      );
    }
  }
  return types as EventType[];
}

export function senderOptions(values: Values) {
  return {
    secret: optionalString(values, 'secret'),
    authHeader: optionalString(values, 'auth-header') ?? DEFAULT_AUTH_HEADER,
  };
}
