/**
 * Cold start: each function bundled as `serverless package` bundles it (the esbuild options of
 * serverless.yml's custom.esbuild), its size, and how long a fresh Node process takes to load it,
 * against the floor of loading the DynamoDB client alone (the ratio `loadVsDynamoDbFloor`).
 * Loads run interleaved, one process each, with the deployed NODE_OPTIONS (--enable-source-maps).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { PROJECT_ROOT } from '../lib/store/table-definition';
import { median, round } from './stats';

/** serverless.yml custom.esbuild: bundle, minify, sourcemap, node24. */
const ESBUILD_OPTIONS = {
  bundle: true,
  minify: true,
  sourcemap: true,
  target: 'node24',
  platform: 'node',
} as const;

/** Text only the DynamoDB client carries: its JSON protocol's target prefix. */
export const DYNAMODB_CLIENT_MARKER = 'DynamoDB_20120810';
/** Text only the SDK's SSM client carries (secrets are read with one signed call instead). */
export const SSM_CLIENT_MARKER = 'com.amazonaws.ssm';

const FUNCTIONS = {
  verify: 'handlers/verify.ts',
  receive: 'handlers/receive.ts',
  store: 'handlers/store.ts',
  readApi: 'handlers/read-api.ts',
};

/** Floors: an SDK client alone, bundled the same way (the commands the receiver uses). */
export const DYNAMODB_FLOOR = 'client-dynamodb alone';
const FLOORS = {
  [DYNAMODB_FLOOR]:
    "export { DynamoDBClient, PutItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';",
};

export interface BundleFigures {
  name: string;
  kind: 'function' | 'floor';
  bytes: number;
  sourceMapBytes: number;
  hasDynamoDbClient: boolean;
  hasSsmClient: boolean;
  loadMsMedian: number;
  loadMsMedianNoSourceMaps: number;
  /** Median load (source maps) over the DynamoDB-client floor's, measured in the same run. */
  loadVsDynamoDbFloor: number;
}

/** Milliseconds to require `file` in a fresh process (module evaluation only, not Node's boot). */
function loadTime(file: string, sourceMaps: boolean): number {
  const script = `const t = performance.now(); require(${JSON.stringify(file)}); process.stdout.write(String(performance.now() - t));`;
  const result = spawnSync(process.execPath, ['-e', script], {
    encoding: 'utf8',
    env: {
      ...process.env,
      NODE_OPTIONS: sourceMaps ? '--enable-source-maps' : '',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      STAGE: 'local',
    },
  });
  if (result.status !== 0) throw new Error(`loading ${file} failed: ${result.stderr}`);
  return Number(result.stdout);
}

export async function measureColdStart(runs = 15): Promise<BundleFigures[]> {
  const out = mkdtempSync(join(tmpdir(), 'okta-hooks-bundles-'));
  try {
    const bundles: { name: string; kind: BundleFigures['kind']; file: string }[] = [];
    for (const [name, entry] of Object.entries(FUNCTIONS)) {
      const file = join(out, `${name}.js`);
      await build({ ...ESBUILD_OPTIONS, entryPoints: [join(PROJECT_ROOT, entry)], outfile: file });
      bundles.push({ name, kind: 'function', file });
    }
    for (const [name, source] of Object.entries(FLOORS)) {
      const entry = join(out, `${name.replace(/\W+/g, '-')}-entry.ts`);
      writeFileSync(entry, source);
      const file = join(out, `${name.replace(/\W+/g, '-')}.js`);
      await build({
        ...ESBUILD_OPTIONS,
        entryPoints: [entry],
        outfile: file,
        nodePaths: [join(PROJECT_ROOT, 'node_modules')],
      });
      bundles.push({ name, kind: 'floor', file });
    }

    // Interleaved: run i loads every bundle once, so machine noise falls on all of them alike.
    const times = new Map(
      bundles.map((b) => [b.name, { maps: [] as number[], plain: [] as number[] }]),
    );
    for (let i = 0; i < runs; i++) {
      for (const bundle of bundles) {
        times.get(bundle.name)!.maps.push(loadTime(bundle.file, true));
        times.get(bundle.name)!.plain.push(loadTime(bundle.file, false));
      }
    }
    const floorMs = median(times.get(DYNAMODB_FLOOR)!.maps);
    return bundles.map(({ name, kind, file }) => ({
      name,
      kind,
      bytes: statSync(file).size,
      sourceMapBytes: statSync(`${file}.map`).size,
      hasDynamoDbClient: readFileSync(file, 'utf8').includes(DYNAMODB_CLIENT_MARKER),
      hasSsmClient: readFileSync(file, 'utf8').includes(SSM_CLIENT_MARKER),
      loadMsMedian: round(median(times.get(name)!.maps), 1),
      loadMsMedianNoSourceMaps: round(median(times.get(name)!.plain), 1),
      loadVsDynamoDbFloor: round(median(times.get(name)!.maps) / floorMs),
    }));
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}
