/** `.env` for the local commands (npm start, npm run reconcile): it fills in what the environment does not set. */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseEnv } from 'node:util';
import { PROJECT_ROOT } from '../store/table-definition';

export function loadDotEnv(env: NodeJS.ProcessEnv = process.env): void {
  const file = join(PROJECT_ROOT, '.env');
  if (!existsSync(file)) return;
  for (const [name, value] of Object.entries(parseEnv(readFileSync(file, 'utf8')))) {
    env[name] ??= value;
  }
}
