/** `npm run okta -- <command>`: the Okta and Hookdeck simulator (lib/okta-simulator/cli.ts). */
import { runOktaCli } from '../lib/okta-simulator/cli';

runOktaCli(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`okta: ${(error as Error).message}`);
    process.exit(1);
  },
);
