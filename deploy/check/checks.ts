/** Every check `npm run deploy:check` runs on each packaged stage, in this order. */
import { runtimeCheck } from './runtime';
import type { DeployCheck } from './types';

export const CHECKS: DeployCheck[] = [runtimeCheck];
