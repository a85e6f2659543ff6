/**
 * `guard`: AWS CloudFormation Guard with the AWS Control Tower rule packs, both shipped in
 * @cdklabs/cdk-validator-cfnguard, on the packaged template. Rules the project chooses not to meet
 * are listed, each with its reason, in deploy/guard-suppressions.json.
 */
import { spawn } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { arch, platform } from 'node:os';
import { dirname, join } from 'node:path';
import { PROJECT_ROOT } from './package-stage';
import type { DeployCheck, Finding } from './types';

export const SUPPRESSIONS_FILE = 'deploy/guard-suppressions.json';
const PACKAGE_DIR = dirname(require.resolve('@cdklabs/cdk-validator-cfnguard/package.json'));
const RULES_DIR = join(PACKAGE_DIR, 'rules/control-tower/cfn-guard');
const TEMPLATE = 'cloudformation-template-update-stack.json';

/** The binaries the package ships, by Node's platform and architecture names. */
function guardBinary(): string | undefined {
  const os = { linux: 'ubuntu', darwin: 'macos' }[platform() as string];
  const cpu = { x64: 'x86_64', arm64: 'aarch64' }[arch() as string];
  return os && cpu ? join(PACKAGE_DIR, 'bin', os, cpu, 'cfn-guard') : undefined;
}

/** Every rule name in the rule packs (`rule <name> when …`). */
function knownRules(dir = RULES_DIR): Set<string> {
  const names = new Set<string>();
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true }))
    if (entry.isFile() && entry.name.endsWith('.guard'))
      for (const [, name] of readFileSync(join(entry.parentPath, entry.name), 'utf8').matchAll(
        /^rule\s+(\w+)/gm,
      ))
        names.add(name!);
  return names;
}

/** The committed suppressions: rule name → one-line reason; a bad entry is a finding itself. */
export function readSuppressions(
  raw: unknown,
  rules: Set<string> = knownRules(),
): { suppressed: Map<string, string>; findings: Finding[] } {
  const suppressed = new Map<string, string>();
  const findings: Finding[] = [];
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    return {
      suppressed,
      findings: [
        { where: SUPPRESSIONS_FILE, message: 'must be an object: {"<rule>": "<reason>"}' },
      ],
    };
  for (const [rule, reason] of Object.entries(raw)) {
    if (typeof reason !== 'string' || reason.trim() === '' || reason.includes('\n'))
      findings.push({ where: SUPPRESSIONS_FILE, message: `${rule}: give a one-line reason` });
    else if (!rules.has(rule))
      findings.push({ where: SUPPRESSIONS_FILE, message: `${rule}: no such cfn-guard rule` });
    else suppressed.set(rule, reason);
  }
  return { suppressed, findings };
}

interface GuardReport {
  not_compliant?: { Rule?: { name?: string } }[];
}

/** Failing rules → the logical ids they name and Control Tower's own one-line message. */
export function parseGuardReport(
  output: string,
): Map<string, { resources: Set<string>; message: string }> {
  const parsed = JSON.parse(output) as GuardReport | GuardReport[];
  const failing = new Map<string, { resources: Set<string>; message: string }>();
  for (const report of [parsed].flat())
    for (const item of report.not_compliant ?? []) {
      const name = item.Rule?.name ?? 'unnamed rule';
      const text = JSON.stringify(item);
      const entry = failing.get(name) ?? { resources: new Set<string>(), message: '' };
      for (const [, id] of text.matchAll(/\/Resources\/([A-Za-z0-9]+)/g)) entry.resources.add(id!);
      entry.message ||= /\[(CT\.[^\]]+)\]: ([^\\]+)/.exec(text)?.slice(1).join(': ') ?? '';
      failing.set(name, entry);
    }
  return failing;
}

function runGuard(binary: string, templateFile: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      binary,
      ['validate', '--data', templateFile, '--rules', RULES_DIR]
        // One JSON report on stdout, nothing else.
        .concat(['--show-summary', 'none', '--structured', '--output-format', 'json']),
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    // cfn-guard exits 19 when a rule fails, 5 on a parse failure of the data.
    child.on('close', (code) =>
      code === 0 || code === 19
        ? resolve(stdout)
        : reject(new Error(`cfn-guard exited ${code}: ${stderr.trim().split('\n')[0] ?? ''}`)),
    );
  });
}

export const guardCheck: DeployCheck = {
  name: 'guard',
  async run({ packageDir }) {
    const binary = guardBinary();
    if (!binary)
      return [
        {
          where: 'guard',
          message: `@cdklabs/cdk-validator-cfnguard ships cfn-guard for linux and macOS on x64 and arm64, not ${platform()}/${arch()}: run deploy:check there (CI does)`,
        },
      ];
    const { suppressed, findings } = readSuppressions(
      JSON.parse(readFileSync(join(PROJECT_ROOT, SUPPRESSIONS_FILE), 'utf8')),
    );
    const output = await runGuard(binary, join(packageDir, TEMPLATE));
    for (const [rule, { resources, message }] of parseGuardReport(output)) {
      if (suppressed.has(rule)) continue;
      findings.push({
        where: [...resources].join(', ') || TEMPLATE,
        message: `cfn-guard ${rule}: ${message} (fix it, or add the rule with a reason to ${SUPPRESSIONS_FILE})`,
      });
    }
    return findings;
  },
};
