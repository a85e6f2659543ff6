/**
 * `schema`: the packaged template against CloudFormation's resource specification
 * (@aws-cdk/aws-service-spec, offline): resource types, property names, value types, required
 * properties, and every Ref / Fn::GetAtt / Fn::Sub / condition target.
 */
import { loadAwsServiceSpecSync } from '@aws-cdk/aws-service-spec';
import type { Property, PropertyType, SpecDatabase } from '@aws-cdk/service-spec-types';
import type { DeployCheck, Finding, Template } from './types';

const PSEUDO_PARAMETERS = new Set([
  'AWS::AccountId',
  'AWS::NotificationARNs',
  'AWS::NoValue',
  'AWS::Partition',
  'AWS::Region',
  'AWS::StackId',
  'AWS::StackName',
  'AWS::URLSuffix',
]);

/** Where a value is expected, CloudFormation accepts one of these instead (resolved at deploy). */
const INTRINSICS = new Set([
  'Ref',
  'Condition',
  'Fn::Base64',
  'Fn::Cidr',
  'Fn::FindInMap',
  'Fn::GetAtt',
  'Fn::GetAZs',
  'Fn::If',
  'Fn::ImportValue',
  'Fn::Join',
  'Fn::Length',
  'Fn::Select',
  'Fn::Split',
  'Fn::Sub',
  'Fn::ToJsonString',
  'Fn::Transform',
]);

let database: SpecDatabase | undefined;
/** Loading the specification takes about 2 s: once per process. */
function spec(): SpecDatabase {
  return (database ??= loadAwsServiceSpecSync());
}

type Json = unknown;
const isObject = (v: Json): v is Record<string, Json> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
const isIntrinsic = (v: Json): boolean => {
  if (!isObject(v)) return false;
  const keys = Object.keys(v);
  return keys.length === 1 && INTRINSICS.has(keys[0]!);
};

/** One finding per wrong value, naming the property path inside the resource. */
function checkValue(value: Json, type: PropertyType, path: string, out: string[]): void {
  if (isIntrinsic(value)) return;
  const fail = (expected: string): void => {
    out.push(`${path}: expected ${expected}, got ${JSON.stringify(value)?.slice(0, 60)}`);
  };
  switch (type.type) {
    case 'string':
    case 'date-time':
      // CloudFormation turns numbers and booleans into strings where a string is expected.
      if (!['string', 'number', 'boolean'].includes(typeof value)) return fail('a string');
      if (type.type === 'string' && type.allowedValues && !type.allowedValues.includes(`${value}`))
        return fail(`one of ${type.allowedValues.join(', ')}`);
      return;
    case 'number':
    case 'integer':
      if (typeof value === 'number' || (typeof value === 'string' && /^-?\d+(\.\d+)?$/.test(value)))
        return;
      return fail('a number');
    case 'boolean':
      if (typeof value === 'boolean' || value === 'true' || value === 'false') return;
      return fail('a boolean');
    case 'array':
      if (!Array.isArray(value)) return fail('a list');
      value.forEach((element, i) => checkValue(element, type.element, `${path}[${i}]`, out));
      return;
    case 'map':
      if (!isObject(value)) return fail('an object');
      for (const [key, element] of Object.entries(value))
        checkValue(element, type.element, `${path}.${key}`, out);
      return;
    case 'tag':
      if (!isObject(value)) return fail('a tag {Key, Value}');
      return;
    case 'ref': {
      if (!isObject(value)) return fail('an object');
      const definition = spec().get('typeDefinition', type.reference);
      // A type with no properties in the specification is free-form (e.g. policy documents).
      if (Object.keys(definition.properties).length > 0)
        checkProperties(value, definition.properties, path, out);
      return;
    }
    // json, null and unions: any value (a union's members are too loose to tell apart).
    default:
      return;
  }
}

function checkProperties(
  value: Record<string, Json>,
  properties: Record<string, Property>,
  path: string,
  out: string[],
): void {
  for (const [name, property] of Object.entries(properties))
    if (property.required && !(name in value)) out.push(`${path}.${name}: required, missing`);
  for (const [name, inner] of Object.entries(value)) {
    const property = properties[name];
    if (!property) out.push(`${path}.${name}: no such property`);
    else checkValue(inner, property.type, `${path}.${name}`, out);
  }
}

/** Every Ref, Fn::GetAtt, Fn::Sub variable and condition name points at something that exists. */
function checkReferences(template: Template, where: string, node: Json, out: Finding[]): void {
  const resources = template.Resources;
  const parameters = (template as { Parameters?: Record<string, unknown> }).Parameters ?? {};
  const conditions = template.Conditions ?? {};
  const target = (name: string, how: string) => {
    if (!(name in resources) && !(name in parameters) && !PSEUDO_PARAMETERS.has(name))
      out.push({ where, message: `${how} ${name}: no such resource or parameter` });
  };
  const attribute = (name: string, attr: string) => {
    const resource = resources[name];
    if (!resource)
      return out.push({ where, message: `Fn::GetAtt ${name}.${attr}: no such resource` });
    const types = spec().lookup('resource', 'cloudFormationType', 'equals', resource.Type);
    if (types[0] && !(attr in types[0].attributes))
      out.push({
        where,
        message: `Fn::GetAtt ${name}.${attr}: ${resource.Type} has no such attribute`,
      });
  };
  const visit = (value: Json): void => {
    if (Array.isArray(value)) return value.forEach(visit);
    if (!isObject(value)) return;
    for (const [key, inner] of Object.entries(value)) {
      if (key === 'Ref' && typeof inner === 'string') target(inner, 'Ref');
      else if (key === 'Fn::GetAtt') {
        const [name, attr] = Array.isArray(inner) ? inner : `${inner as string}`.split(/\.(.*)/);
        if (typeof name === 'string' && typeof attr === 'string') attribute(name, attr);
      } else if (key === 'Fn::Sub') {
        const [text, variables] = Array.isArray(inner) ? inner : [inner, {}];
        const own = isObject(variables) ? variables : {};
        for (const [, name] of `${text as string}`.matchAll(/\$\{([^!}][^}]*)\}/g)) {
          const [resource, attr] = name!.split(/\.(.*)/);
          if (resource! in own) continue;
          if (attr && !PSEUDO_PARAMETERS.has(name!)) attribute(resource!, attr);
          else target(name!, 'Fn::Sub ${…}');
        }
      } else if (
        (key === 'Condition' || key === 'Fn::If') &&
        !(key === 'Condition' && isObject(inner))
      ) {
        const name = Array.isArray(inner) ? inner[0] : inner;
        if (typeof name === 'string' && !(name in conditions))
          out.push({ where, message: `condition ${name}: not in Conditions` });
      }
      visit(inner);
    }
  };
  visit(node);
}

export function checkSchema(template: Template): Finding[] {
  const findings: Finding[] = [];
  for (const [id, resource] of Object.entries(template.Resources)) {
    const types = spec().lookup('resource', 'cloudFormationType', 'equals', resource.Type);
    const definition = types[0];
    if (!definition) {
      if (!resource.Type.startsWith('Custom::'))
        findings.push({ where: id, message: `${resource.Type}: no such resource type` });
    } else {
      const problems: string[] = [];
      checkProperties(resource.Properties ?? {}, definition.properties, 'Properties', problems);
      for (const problem of problems)
        findings.push({ where: id, message: `${resource.Type} ${problem}` });
    }
    for (const dependency of [resource.DependsOn ?? []].flat())
      if (!(dependency in template.Resources))
        findings.push({ where: id, message: `DependsOn ${dependency}: no such resource` });
    checkReferences(template, id, resource, findings);
  }
  for (const [id, output] of Object.entries(template.Outputs ?? {}))
    checkReferences(template, `Outputs.${id}`, output, findings);
  checkReferences(template, 'Conditions', template.Conditions ?? {}, findings);
  return findings;
}

export const schemaCheck: DeployCheck = {
  name: 'schema',
  run: ({ template }) => checkSchema(template),
};
