/** `npm run reconcile`: one reconcile pass into the local table (lib/reconcile/reconcile-cli.ts). */
import { ConfigError } from '../lib/errors';
import { loadDotEnv } from '../lib/local/dot-env';
import { USAGE, UsageError, runReconcileCli } from '../lib/reconcile/reconcile-cli';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
loadDotEnv();

runReconcileCli(process.argv.slice(2), process.env, {
  out: (line) => process.stdout.write(line + '\n'),
  err: (line) => process.stderr.write(line + '\n'),
}).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    if (error instanceof UsageError) {
      process.stderr.write(`reconcile: ${error.message}\n\n${USAGE}\n`);
      process.exitCode = 2;
      return;
    }
    const message = error instanceof ConfigError ? error.message : String(error);
    process.stderr.write(`reconcile: ${message}\n`);
    process.exitCode = 1;
  },
);
