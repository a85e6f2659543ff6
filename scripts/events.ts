/** `npm run events -- <command>`: see lib/cli/events-cli.ts and docs/finding-events.md. */
import { describeCliError } from '../lib/cli/cli-errors';
import { USAGE, UsageError, runEventsCli } from '../lib/cli/events-cli';
import { runCli } from '../lib/cli/run-cli';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

runCli(
  (io) => runEventsCli(process.argv.slice(2), process.env, io),
  (error) =>
    error instanceof UsageError
      ? { message: `events: ${error.message}\n\n${USAGE}`, exitCode: 2 }
      : { message: `events: ${describeCliError(error, process.env)}`, exitCode: 1 },
);
