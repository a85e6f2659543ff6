/**
 * The deploy checks on the production template kept in deploy/templates/ (what `serverless
 * package` wrote), changed in memory: each change AWS would refuse is named by one finding.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { guardCheck, parseGuardReport, readSuppressions } from '../../deploy/check/guard';
import { checkLimits } from '../../deploy/check/limits';
import { checkSchema } from '../../deploy/check/schema';
import { diffFindings, diffTemplates, readStageTemplate } from '../../deploy/check/stage-diff';
import type { Template } from '../../deploy/check/types';

const production = readStageTemplate('production')!;
/** A fresh copy to change. */
const template = (): Template => structuredClone(production);
const lines = (findings: { where: string; message: string }[]) =>
  findings.map((f) => `${f.where}: ${f.message}`);

describe('schema', () => {
  it('passes the packaged production template', () => {
    expect(checkSchema(template())).toEqual([]);
  });

  it('names an unknown property on the table', () => {
    const t = template();
    t.Resources.EventsTable!.Properties!.StreamEnabled = true;
    expect(lines(checkSchema(t))).toEqual([
      'EventsTable: AWS::DynamoDB::Table Properties.StreamEnabled: no such property',
    ]);
  });

  it('names a nested unknown property and a missing required one', () => {
    const t = template();
    const properties = t.Resources.EventsTable!.Properties!;
    properties.TimeToLiveSpecification = { AttributeName: 'expiresAt', Enable: true };
    expect(lines(checkSchema(t))).toEqual([
      'EventsTable: AWS::DynamoDB::Table Properties.TimeToLiveSpecification.Enabled: required, missing',
      'EventsTable: AWS::DynamoDB::Table Properties.TimeToLiveSpecification.Enable: no such property',
    ]);
  });

  it('names a value of the wrong type', () => {
    const t = template();
    t.Resources.EventsTable!.Properties!.PointInTimeRecoverySpecification = 'enabled';
    t.Resources.StoreFailuresQueue!.Properties!.MessageRetentionPeriod = 'two weeks';
    t.Resources.EventsTable!.Properties!.DeletionProtectionEnabled = 'yes';
    expect(lines(checkSchema(t))).toEqual([
      'EventsTable: AWS::DynamoDB::Table Properties.DeletionProtectionEnabled: expected a boolean, got "yes"',
      'EventsTable: AWS::DynamoDB::Table Properties.PointInTimeRecoverySpecification: expected an object, got "enabled"',
      'StoreFailuresQueue: AWS::SQS::Queue Properties.MessageRetentionPeriod: expected a number, got "two weeks"',
    ]);
  });

  it('names a Ref, Fn::GetAtt or Fn::Sub to something missing, and an unknown condition', () => {
    const t = template();
    t.Resources.Api5xxAlarm!.Properties!.AlarmActions = [{ Ref: 'AlarmTopc' }];
    t.Resources.StoreIteratorAgeAlarm!.Properties!.AlarmDescription = {
      'Fn::Sub': '${EventsTable.StreamName} ${AWS::Region} ${Missing}',
    };
    t.Resources.EventBus!.Condition = 'HasEventBuss';
    expect(lines(checkSchema(t))).toEqual([
      'EventBus: condition HasEventBuss: not in Conditions',
      'StoreIteratorAgeAlarm: Fn::GetAtt EventsTable.StreamName: AWS::DynamoDB::Table has no such attribute',
      'StoreIteratorAgeAlarm: Fn::Sub ${…} Missing: no such resource or parameter',
      'Api5xxAlarm: Ref AlarmTopc: no such resource or parameter',
    ]);
  });

  it('names an unknown resource type', () => {
    const t = template();
    t.Resources.AlarmTopic!.Type = 'AWS::SNS::Topics';
    expect(lines(checkSchema(t))).toContain('AlarmTopic: AWS::SNS::Topics: no such resource type');
  });
});

describe('limits', () => {
  it('passes the packaged production template', () => {
    expect(checkLimits(template())).toEqual([]);
  });

  it('names values outside what AWS accepts', () => {
    const t = template();
    const mapping = t.Resources.StoreEventSourceMappingDynamodbEventsTable!.Properties!;
    mapping.BatchSize = 20000;
    mapping.MaximumRecordAgeInSeconds = 30;
    t.Resources.ReceiveLambdaFunction!.Properties!.Timeout = 901;
    t.Resources.ReceiveLogGroup!.Properties!.RetentionInDays = 10;
    expect(lines(checkLimits(t))).toEqual([
      'ReceiveLogGroup: RetentionInDays is 10: AWS accepts one of 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653',
      'ReceiveLambdaFunction: Timeout is 901: AWS accepts 1..900',
      'StoreEventSourceMappingDynamodbEventsTable: BatchSize is 20000: AWS accepts 1..10000',
      'StoreEventSourceMappingDynamodbEventsTable: MaximumRecordAgeInSeconds is 30: AWS accepts -1 or 60..604800',
    ]);
  });

  it('fails on a third reader of the table stream', () => {
    const t = template();
    t.Resources.AuditEventSourceMapping = structuredClone(
      t.Resources.StoreEventSourceMappingDynamodbEventsTable!,
    );
    expect(lines(checkLimits(t))).toEqual([
      expect.stringMatching(
        /^EventsTable: 3 functions read its stream \(.*AuditEventSourceMapping\): a DynamoDB stream serves 2 readers per shard/,
      ),
    ]);
  });
});

describe('guard', () => {
  it('refuses a suppression without a one-line reason, or naming no rule', () => {
    const { suppressed, findings } = readSuppressions({
      lambda_inside_vpc_check: '',
      sqs_dlq_check: 'first line\nsecond line',
      s3_no_such_rule: 'a reason',
      api_gw_v2_access_logs_enabled_check: 'a reason',
    });
    expect(lines(findings)).toEqual([
      'deploy/guard-suppressions.json: lambda_inside_vpc_check: give a one-line reason',
      'deploy/guard-suppressions.json: sqs_dlq_check: give a one-line reason',
      'deploy/guard-suppressions.json: s3_no_such_rule: no such cfn-guard rule',
    ]);
    expect([...suppressed.keys()]).toEqual(['api_gw_v2_access_logs_enabled_check']);
  });

  it('reads the failing rule, its resources and its Control Tower message', () => {
    const report = JSON.stringify({
      not_compliant: [
        {
          Rule: {
            name: 'sqs_dlq_check',
            messages: { custom_message: '\n  [CT.SQS.PR.1]: Require a dead-letter queue\n' },
            checks: [{ path: '/Resources/StoreFailuresQueue/Properties' }],
          },
        },
      ],
    });
    expect(parseGuardReport(report)).toEqual(
      new Map([
        [
          'sqs_dlq_check',
          {
            resources: new Set(['StoreFailuresQueue']),
            message: 'CT.SQS.PR.1: Require a dead-letter queue',
          },
        ],
      ]),
    );
  });

  it('runs cfn-guard: an HTTP API stage without access logging fails, naming the stage', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'guard-check-'));
    try {
      const t = template();
      delete t.Resources.HttpApiStage!.Properties!.AccessLogSettings;
      writeFileSync(join(dir, 'cloudformation-template-update-stack.json'), JSON.stringify(t));
      const findings = await guardCheck.run({ stage: 'production', template: t, packageDir: dir });
      expect(lines(findings)).toEqual([
        expect.stringMatching(
          /^HttpApiStage: cfn-guard api_gw_v2_access_logs_enabled_check: CT\.APIGATEWAY\.PR\.4: /,
        ),
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});

describe('stage diff', () => {
  it('lists added and changed resources as notes, and fails on a removed table', () => {
    const before = template();
    const after = template();
    delete after.Resources.EventsTable;
    delete after.Resources.ReceiveLambdaFunctionThrottlesAlarm;
    after.Resources.ReceiveLambdaFunction!.Properties!.Timeout = 10;
    after.Resources.NewQueue = { Type: 'AWS::SQS::Queue', Properties: {} };
    const findings = diffFindings('production', diffTemplates(before, after));
    expect(findings.filter((f) => f.note).map((f) => `${f.where}: ${f.message}`)).toEqual([
      'NewQueue: + added (AWS::SQS::Queue)',
      'ReceiveLambdaFunction: ~ changed (AWS::Lambda::Function): Properties.Timeout',
      'ReceiveLambdaFunctionThrottlesAlarm: - removed (AWS::CloudWatch::Alarm)',
    ]);
    expect(lines(findings.filter((f) => !f.note))).toEqual([
      'EventsTable: - REMOVED (AWS::DynamoDB::Table): holds data or wiring, the deploy would delete it; if that is what you want, npm run deploy:check -- --stage production --accept',
    ]);
  });

  it('sees no change between two packages of the same settings (upload folders differ)', () => {
    const again = JSON.parse(
      readFileSync(join(__dirname, '../../deploy/templates/production.json'), 'utf8').replaceAll(
        '/<package>/',
        '/1796308174858-2026-12-03T14:29:34.858Z/',
      ),
    ) as Template;
    expect(diffTemplates(production, again)).toEqual({ added: [], removed: [], changed: [] });
  });
});
