'use strict';
/**
 * Adds two CloudWatch alarms for every function of the service, Errors and Throttles, sent to the
 * AlarmTopic defined in serverless.yml. A plugin rather than hand-written resources so that a new
 * function is alarmed without anyone remembering to add its alarms.
 */
class FunctionAlarms {
  constructor(serverless) {
    this.serverless = serverless;
    this.hooks = { 'package:compileEvents': () => this.addAlarms() };
  }

  addAlarms() {
    const { service } = this.serverless;
    const aws = this.serverless.getProvider('aws');
    const resources = service.provider.compiledCloudFormationTemplate.Resources;
    const stage = aws.getStage();
    for (const name of service.getAllFunctions()) {
      const functionLogicalId = aws.naming.getLambdaLogicalId(name);
      const alarm = (metric, description) => ({
        Type: 'AWS::CloudWatch::Alarm',
        Properties: {
          AlarmName: `${service.service}-${stage}-${name}-${metric.toLowerCase()}`,
          AlarmDescription: description,
          Namespace: 'AWS/Lambda',
          MetricName: metric,
          Dimensions: [{ Name: 'FunctionName', Value: { Ref: functionLogicalId } }],
          Statistic: 'Sum',
          Period: 300,
          EvaluationPeriods: 1,
          Threshold: 1,
          ComparisonOperator: 'GreaterThanOrEqualToThreshold',
          TreatMissingData: 'notBreaching',
          AlarmActions: [{ Ref: 'AlarmTopic' }],
          OKActions: [{ Ref: 'AlarmTopic' }],
        },
      });
      const events = service.getFunction(name).events ?? [];
      const http = events.some((e) => e.http || e.httpApi);
      const stream = events.some((e) => e.stream);
      // Lambda's Errors counts invocations that threw or timed out; a stream function that
      // answers with batchItemFailures has succeeded as far as Errors is concerned.
      resources[`${functionLogicalId}ErrorsAlarm`] = alarm(
        'Errors',
        http
          ? `${name} failed (crash or timeout): the caller got a 5xx`
          : stream
            ? `${name} crashed or timed out on a whole batch (records it reported as failed raise the failed-records alarm)`
            : `${name} failed (crash or timeout)`,
      );
      this.addFailedRecordsAlarms(resources, name, functionLogicalId, alarm);
      resources[`${functionLogicalId}ThrottlesAlarm`] = alarm(
        'Throttles',
        `${name} was throttled: requests were refused before reaching the code`,
      );
    }
  }

  /**
   * For each stream mapping of the function: turns on the mapping's EventCount metrics and alarms
   * on FailedInvokeEventCount, which counts the records of failed invocations and those the
   * function reported in batchItemFailures (ReportBatchItemFailures), per mapping.
   */
  addFailedRecordsAlarms(resources, name, functionLogicalId, alarm) {
    const mappings = Object.entries(resources).filter(
      ([, r]) =>
        r.Type === 'AWS::Lambda::EventSourceMapping' &&
        r.Properties.FunctionName?.['Fn::GetAtt']?.[0] === functionLogicalId,
    );
    mappings.forEach(([mappingId, mapping], i) => {
      mapping.Properties.MetricsConfig = { Metrics: ['EventCount'] };
      const failed = alarm(
        'FailedInvokeEventCount',
        `${name} reported records as failed or failed on them; Lambda retries them, then sends them to the failures queue`,
      );
      failed.Properties.AlarmName = `${failed.Properties.AlarmName.replace(/failedinvokeeventcount$/, 'failed-records')}${i > 0 ? `-${i + 1}` : ''}`;
      failed.Properties.Dimensions = [
        { Name: 'EventSourceMappingUUID', Value: { Ref: mappingId } },
      ];
      resources[`${mappingId}FailedRecordsAlarm`] = failed;
    });
  }
}

module.exports = FunctionAlarms;
