/**
 * The reliability suite's profile and its figures. Figures go to a file that
 * figures-reporter.js prints as one table when the run ends (test files run in their own module
 * registries, so memory cannot carry them).
 */
import { appendFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { PROJECT_ROOT } from '../../lib/store/table-definition';

const FIGURES_FILE = join(PROJECT_ROOT, '.reliability', 'figures.jsonl');

export type ProfileName = 'ci' | 'full';

export interface Profile {
  name: ProfileName;
  /** Load: deliveries in all, redeliveries included, and the share of redeliveries. */
  loadDeliveries: number;
  redeliveryShare: number;
  loadConcurrency: number;
  /** Faults: deliveries sent across a DynamoDB Local kill, through the slow proxy, and in-process with SDK faults. */
  killDeliveries: number;
  slowDeliveries: number;
  sdkFaultDeliveries: number;
  /** Chance that any one DynamoDB call fails with an injected throttle or internal error. */
  sdkFaultRate: number;
  /** Hostile input: fast-check runs per property in-process, and the sample sent through offline. */
  propertyRuns: number;
  offlineSample: number;
}

const PROFILES: Record<ProfileName, Profile> = {
  ci: {
    name: 'ci',
    loadDeliveries: 250,
    redeliveryShare: 0.2,
    loadConcurrency: 20,
    killDeliveries: 40,
    slowDeliveries: 10,
    sdkFaultDeliveries: 100,
    sdkFaultRate: 0.02,
    propertyRuns: 40,
    offlineSample: 15,
  },
  full: {
    name: 'full',
    loadDeliveries: 2000,
    redeliveryShare: 0.2,
    loadConcurrency: 20,
    killDeliveries: 200,
    slowDeliveries: 30,
    sdkFaultDeliveries: 500,
    sdkFaultRate: 0.02,
    propertyRuns: 200,
    offlineSample: 60,
  },
};

export function profile(): Profile {
  const name = process.env.RELIABILITY_PROFILE?.trim() || 'ci';
  if (name !== 'ci' && name !== 'full') {
    throw new Error(`RELIABILITY_PROFILE must be "ci" or "full", got "${name}"`);
  }
  return PROFILES[name];
}

export function recordFigure(area: string, figure: string, value: number | string): void {
  mkdirSync(dirname(FIGURES_FILE), { recursive: true });
  appendFileSync(FIGURES_FILE, JSON.stringify({ area, figure, value }) + '\n');
}
