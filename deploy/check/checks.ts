/** Every check `npm run deploy:check` runs on each packaged stage, in this order. */
import { guardCheck } from './guard';
import { iamCheck } from './iam';
import { limitsCheck } from './limits';
import { runtimeCheck } from './runtime';
import { schemaCheck } from './schema';
import { stageDiffCheck } from './stage-diff';
import type { DeployCheck } from './types';

export const CHECKS: DeployCheck[] = [
  runtimeCheck,
  iamCheck, // each function's role against deploy/permissions.json
  schemaCheck,
  limitsCheck,
  guardCheck,
  stageDiffCheck,
];
