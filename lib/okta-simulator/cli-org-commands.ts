/** The okta CLI's runners for the fake org: serve runs one, emit makes events happen in it. */
import { EVENT_HOOK_ID } from './events';
import { FAKE_ORG_DEFAULT_PORT } from './fake-org';
import { serveFakeOrg } from './serve';
import { emitEvents } from './emit';
import {
  type CliOutput,
  type Values,
  UsageError,
  optionalString,
  parseTypes,
  requiredString,
  urlOf,
  wholeNumber,
} from './cli-arguments';

export async function serveCommand(values: Values, io: CliOutput): Promise<number> {
  const linkStyle = optionalString(values, 'link-style') ?? 'lines';
  if (linkStyle !== 'lines' && linkStyle !== 'joined') {
    throw new UsageError(`--link-style must be "lines" or "joined", got "${linkStyle}"`);
  }
  const clientId = optionalString(values, 'client-id');
  const publicKeyFile = optionalString(values, 'public-key');
  if (publicKeyFile !== undefined && clientId === undefined && !process.env.OKTA_CLIENT_ID) {
    throw new UsageError('--public-key needs --client-id (or OKTA_CLIENT_ID): whose key is it?');
  }
  return serveFakeOrg(
    {
      port: wholeNumber(values, 'port', FAKE_ORG_DEFAULT_PORT, 65535),
      token: optionalString(values, 'token'),
      clientId,
      publicKeyFile,
      keyId: optionalString(values, 'key-id'),
      hookId: optionalString(values, 'hook-id') ?? EVENT_HOOK_ID,
      hookTypes: parseTypes(optionalString(values, 'hook-types') ?? 'all', '--hook-types'),
      rateLimit: wholeNumber(values, 'rate-limit', 60, 1_000_000),
      linkStyle,
      autoLogin: optionalString(values, 'auto-login'),
      usersFile: optionalString(values, 'users'),
      redirectUris: ((values['redirect-uri'] ?? []) as string[]).map((uri) =>
        urlOf({ 'redirect-uri': uri }, 'redirect-uri'),
      ),
    },
    io,
  );
}

export async function emitCommand(values: Values, io: CliOutput): Promise<number> {
  const org = urlOf(values, 'org');
  const types = parseTypes(requiredString(values, 'type'));
  const rate = values.rate === undefined ? undefined : Number(values.rate);
  if (rate !== undefined && !(rate > 0 && rate <= 1000)) {
    throw new UsageError(
      `--rate must be events a second, above 0 and at most 1000, got "${values.rate}"`,
    );
  }
  return emitEvents(
    org,
    {
      types,
      count: wholeNumber(values, 'count', 1, 1_000_000),
      perRequest: wholeNumber(values, 'per-request', 1, 10_000),
      ratePerSecond: rate,
    },
    io,
  );
}
