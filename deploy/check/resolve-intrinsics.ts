/**
 * Turns a packaged template's `Ref`, `Fn::GetAtt`, `Fn::Sub` and `Fn::Join` into the concrete
 * values they would have in a fixed fake account, so that IAM statements can be simulated
 * offline. Only what role statements use is known; anything else is an error naming it.
 */
import type { Template } from './types';

export const FAKE_ACCOUNT = '123456789012';
export const FAKE_REGION = 'us-east-1';
export const FAKE_PARTITION = 'aws';
/** A stream ARN ends in its creation time, known only after deploy. */
export const FAKE_STREAM_LABEL = '2026-01-01T00:00:00.000';

const arn = (service: string, rest: string) =>
  `arn:${FAKE_PARTITION}:${service}:${FAKE_REGION}:${FAKE_ACCOUNT}:${rest}`;

const PSEUDO: Record<string, string> = {
  'AWS::Partition': FAKE_PARTITION,
  'AWS::Region': FAKE_REGION,
  'AWS::AccountId': FAKE_ACCOUNT,
  'AWS::URLSuffix': 'amazonaws.com',
};

export class IntrinsicResolver {
  constructor(private readonly template: Template) {}

  private nameOf(logicalId: string, property: string): string {
    const resource = this.template.Resources[logicalId];
    if (!resource) throw new Error(`no resource ${logicalId} in the template`);
    const name = resource.Properties?.[property];
    // Unnamed resources get a generated name on AWS: any stable one serves the simulation.
    return name === undefined ? `${logicalId}-generated` : String(this.resolve(name));
  }

  ref(logicalId: string): string {
    if (PSEUDO[logicalId]) return PSEUDO[logicalId];
    const resource = this.template.Resources[logicalId];
    if (!resource) throw new Error(`Ref to ${logicalId}, which the template does not define`);
    switch (resource.Type) {
      case 'AWS::DynamoDB::Table':
        return this.nameOf(logicalId, 'TableName');
      case 'AWS::SNS::Topic':
        return arn('sns', this.nameOf(logicalId, 'TopicName'));
      case 'AWS::Events::EventBus':
        return this.nameOf(logicalId, 'Name');
      case 'AWS::SQS::Queue':
        return `https://sqs.${FAKE_REGION}.amazonaws.com/${FAKE_ACCOUNT}/${this.nameOf(logicalId, 'QueueName')}`;
      default:
        return logicalId;
    }
  }

  getAtt(logicalId: string, attribute: string): string {
    const resource = this.template.Resources[logicalId];
    if (!resource)
      throw new Error(`Fn::GetAtt of ${logicalId}, which the template does not define`);
    const key = `${resource.Type}.${attribute}`;
    switch (key) {
      case 'AWS::DynamoDB::Table.Arn':
        return arn('dynamodb', `table/${this.ref(logicalId)}`);
      case 'AWS::DynamoDB::Table.StreamArn':
        return `${this.getAtt(logicalId, 'Arn')}/stream/${FAKE_STREAM_LABEL}`;
      case 'AWS::SQS::Queue.Arn':
        return arn('sqs', this.nameOf(logicalId, 'QueueName'));
      case 'AWS::SQS::Queue.QueueName':
        return this.nameOf(logicalId, 'QueueName');
      case 'AWS::Events::EventBus.Arn':
        return arn('events', `event-bus/${this.ref(logicalId)}`);
      case 'AWS::Lambda::Function.Arn':
        return arn('lambda', `function:${this.nameOf(logicalId, 'FunctionName')}`);
      case 'AWS::IAM::Role.Arn':
        return `arn:${FAKE_PARTITION}:iam::${FAKE_ACCOUNT}:role/${this.nameOf(logicalId, 'RoleName')}`;
      default:
        throw new Error(
          `Fn::GetAtt ${logicalId}.${attribute} (${resource.Type}) is not known here`,
        );
    }
  }

  private sub(text: string, variables: Record<string, unknown> = {}): string {
    return text.replace(/\$\{([^}!]+)\}/g, (_, name: string) => {
      if (name in variables) return String(this.resolve(variables[name]));
      if (PSEUDO[name]) return PSEUDO[name];
      const dot = name.indexOf('.');
      return dot > 0 ? this.getAtt(name.slice(0, dot), name.slice(dot + 1)) : this.ref(name);
    });
  }

  /** The value with every intrinsic function it holds replaced by a concrete string. */
  resolve(value: unknown): unknown {
    if (Array.isArray(value)) return value.map((v) => this.resolve(v));
    if (value === null || typeof value !== 'object') return value;
    const object = value as Record<string, unknown>;
    const keys = Object.keys(object);
    if (keys.length === 1) {
      const [key] = keys as [string];
      const arg = object[key];
      if (key === 'Ref') return this.ref(String(arg));
      if (key === 'Fn::GetAtt') {
        const [id, attribute] = Array.isArray(arg) ? arg : String(arg).split('.');
        return this.getAtt(String(id), String(attribute));
      }
      if (key === 'Fn::Sub') {
        if (typeof arg === 'string') return this.sub(arg);
        const [text, variables] = arg as [string, Record<string, unknown>];
        return this.sub(text, variables);
      }
      if (key === 'Fn::Join') {
        const [separator, parts] = arg as [string, unknown[]];
        return (this.resolve(parts) as unknown[]).map(String).join(separator);
      }
      if (key.startsWith('Fn::')) throw new Error(`${key} is not resolved by this check`);
    }
    return Object.fromEntries(keys.map((k) => [k, this.resolve(object[k])]));
  }
}
