/**
 * `npm run okta -- <command>`: play Okta (and Hookdeck) against an endpoint without an Okta org.
 * Parses arguments, runs a command, prints; returns the exit code (2 for usage errors).
 * Secrets are printed only by --dry-run, which exists to show the exact request.
 */
import { DEFAULT_AUTH_HEADER } from './deliver';
import { EVENT_TYPES } from './events';
import { HOOK_USAGE, runHookCli } from '../event-hook/hook-cli';
import { type CliOutput, type Values, UsageError, parseCommandArgs } from './cli-arguments';
import {
  previewCommand,
  receiveCommand,
  replayCommand,
  sendCommand,
  verifyCommand,
} from './cli-delivery-commands';
import { emitCommand, serveCommand } from './cli-org-commands';

export { type CliOutput, UsageError, parseTypes } from './cli-arguments';
export { receiveCommand } from './cli-delivery-commands';

export const USAGE = `Usage: npm run okta -- <command> [options]

Commands:
  verify   --url U [--secret S] [--auth-header H]
           Okta's one-time verification GET (3 s timeout, one retry). Prints VERIFIED, or why
           Okta would refuse the endpoint; exit code 0 only when verified.
  send     --url U --type T [--count N] [--per-request K] [--duplicates R] [--user LOGIN]
           [--concurrency C] [--secret S] [--auth-header H] [--via-hookdeck --signing-secret S2]
           [--org URL [--drop D]]
           N realistic events (default 1) of type T (a comma list, or "all"), K per delivery
           (default 1); a fraction R (0-1, default 0) of deliveries sent again as Okta redelivers
           them. Delivered like Okta: 3 s timeout, one retry after a timeout or 5xx, none after a
           4xx. With --org, every event is also recorded in that fake org's System Log and
           delivered to its ACTIVE, VERIFIED event hooks as emit does (except a hook whose
           endpoint is U: send delivers there itself), and a fraction D (0-1) of deliveries is
           dropped: Okta gave up on them, so they are in the System Log (with an
           event_hook.delivery failure) but never delivered. Exit code 1 if any event of a
           delivery that was not dropped was never accepted, or a hook delivery failed.
  preview  --url U --type T [--secret S] [--auth-header H]
           The Admin Console's Preview: sample data, actor and target null, outcome "Success".
  replay   --to U [--type T] [--user U] [--since S] [--until S] [--per-request K]
           [--from-url U --token T] [--secret S] [--auth-header H] [--via-hookdeck --signing-secret S2]
           Re-delivers stored events (from the local table, or a deployed stage's read API with
           --from-url) to endpoint U in Okta envelopes of K events (default 50), exactly as
           stored, with Okta's retry rules. Progress on stderr; exit code 1 if any was not accepted.
  serve    [--port P] [--token T] [--client-id C --public-key FILE] [--key-id K] [--hook-id H]
           [--hook-types T] [--rate-limit N] [--link-style lines|joined]
           [--auto-login LOGIN] [--users FILE] [--redirect-uri URI ...]
           A fake Okta org for the reconciler (npm run reconcile): the System Log API with
           Okta's paging and rate limits, the OAuth token endpoint (private_key_jwt) and the
           Event Hooks API, and a custom authorization server at /oauth2/default that signs the
           fake users in (OpenID Connect). Defaults come from OKTA_API_TOKEN, OKTA_CLIENT_ID and
           the public half of OKTA_PRIVATE_KEY; runs until Ctrl-C, one line per request.
  emit     --org URL --type T [--count N] [--per-request K] [--rate R]
           N events (default 1) of type T (a comma list, or "all") happen in the fake org: in its
           System Log, and delivered to each of its ACTIVE, VERIFIED event hooks subscribed to
           them, K per delivery (default 1), at R events a second (default: as fast as answered),
           with Okta's rules; each delivery Okta gives up on is logged as event_hook.delivery.
           Exit code 1 if any delivery failed.
  hook     apply|status|rotate-secret|deactivate|delete: Okta's event hook as code (below)
  receive  --port P --secret S [--fail F] [--host H]
           A Standard Webhooks receiver for the forward reaction (FORWARD_URL=http://127.0.0.1:P/,
           FORWARD_SECRET=S, a whsec_ secret): verifies every request with the standardwebhooks
           package and prints each event once; --fail F answers 503 to a fraction F (0-1) of
           first attempts. Runs until Ctrl-C, then prints a summary; exit code 1 if any request
           was not verified.

Options:
  --url U              the event hook endpoint, e.g. http://localhost:1337/okta-webhooks-endpoint
  --secret S           the hook's Authentication secret (sent in the auth header)
  --auth-header H      the hook's Authentication field (default ${DEFAULT_AUTH_HEADER})
  --user LOGIN         the user the events are about, e.g. jane.doe@hookdeckexample.com
  --concurrency C      deliveries in flight at once (default 1)
  --via-hookdeck       deliver as Hookdeck forwards Okta's request (x-hookdeck-* headers, signed)
  --signing-secret S2  Hookdeck signing secret for x-hookdeck-signature (with --via-hookdeck)
  --from-url U         replay: read events through this read API (or EVENTS_API_URL) instead of
                       the local table (DYNAMODB_ENDPOINT, default http://127.0.0.1:8000)
  --token T            replay: the read API's bearer token (or EVENTS_API_TOKEN)
  --since S, --until S replay: time range, ISO 8601 (since inclusive, until exclusive)
  --org URL            send: also record the events in this fake org's System Log (npm run okta -- serve)
  --drop D             send: fraction 0-1 of deliveries Okta gives up on (needs --org)
  --port P             serve: port (default 7070)
  --token T            serve: the SSWS API token it accepts (default OKTA_API_TOKEN, else made up)
  --client-id C        serve: a service app's client id (default OKTA_CLIENT_ID)
  --public-key FILE    serve: that app's public key, PEM or JWK (default: from OKTA_PRIVATE_KEY)
  --hook-id H          serve: id of its event hook (default who7hphp39JoHLni81d7, the one send uses)
  --hook-types T       serve: the hook's event types, a comma list or "all" (default all)
  --rate-limit N       serve: System Log requests a minute before 429 (default 60)
  --link-style S       serve: Link headers as separate "lines" (default) or one "joined" line
  --auto-login LOGIN   serve: the authorization server signs in as this user without a login form
  --users FILE         serve: the users who can sign in, JSON [{"login", "name", "groups": [...]}]
  --redirect-uri URI   serve: another redirect URI of the event browser app (repeatable); its
                       origin + /ui becomes a post-logout redirect URI
  --dry-run            print the exact requests (method, URL, headers, body) instead of sending
  -h, --help           this text

Event types: ${EVENT_TYPES.join(', ')}

${HOOK_USAGE}`;

const consoleOutput: CliOutput = {
  out: (line) => console.log(line),
  err: (line) => console.error(line),
};
const RUNNERS: Record<string, (values: Values, io: CliOutput) => Promise<number>> = {
  emit: emitCommand,
  receive: (values, io) => receiveCommand(values, io),
  verify: verifyCommand,
  send: sendCommand,
  preview: previewCommand,
  replay: replayCommand,
  serve: serveCommand,
};

/** Runs one command line; never throws for a usage error (prints it, returns 2). */
export async function runOktaCli(argv: string[], io: CliOutput = consoleOutput): Promise<number> {
  const [command, ...args] = argv;
  try {
    if (command === undefined) throw new UsageError('a command is required');
    if (command === '--help' || command === '-h' || command === 'help') {
      io.out(USAGE);
      return 0;
    }
    if (command === 'hook') return await runHookCli(args, io);
    const runner = RUNNERS[command];
    if (runner === undefined) throw new UsageError(`unknown command "${command}"`);
    const values = parseCommandArgs(command, args);
    if (values.help) {
      io.out(USAGE);
      return 0;
    }
    return await runner(values, io);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    io.err(`okta: ${error.message}\n\n${USAGE}`);
    return 2;
  }
}
