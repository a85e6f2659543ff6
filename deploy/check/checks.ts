/** Every check `npm run deploy:check` runs on each packaged stage, in this order. */
import { iamCheck } from './iam';
import type { DeployCheck } from './types';

export const CHECKS: DeployCheck[] = [
  iamCheck, // each function's role against deploy/permissions.json
];
