/** `npm run events -- <command>`: see lib/cli/events-cli.ts and docs/finding-events.md. */
import { USAGE, UsageError, describeCliError, runEventsCli } from '../lib/cli/events-cli';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

runEventsCli(process.argv.slice(2), process.env, {
  out: (line) => process.stdout.write(line + '\n'),
  err: (line) => process.stderr.write(line + '\n'),
}).then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (error instanceof UsageError) {
      process.stderr.write(`events: ${error.message}\n\n${USAGE}\n`);
      process.exit(2);
    }
    process.stderr.write(`events: ${describeCliError(error, process.env)}\n`);
    process.exit(1);
  },
);
