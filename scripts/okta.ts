/** `npm run okta -- <command>`: the Okta and Hookdeck simulator (lib/okta-simulator/cli.ts). */
import { runCli } from '../lib/cli/run-cli';
import { runOktaCli } from '../lib/okta-simulator/cli';

runCli(
  (io) => runOktaCli(process.argv.slice(2), io),
  (error) => ({ message: `okta: ${(error as Error).message}`, exitCode: 1 }),
);
