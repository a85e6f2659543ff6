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
      const http = (service.getFunction(name).events ?? []).some((e) => e.http || e.httpApi);
      resources[`${functionLogicalId}ErrorsAlarm`] = alarm(
        'Errors',
        http
          ? `${name} failed (crash or timeout): the caller got a 5xx`
          : `${name} failed (crash, timeout, or an error it reported)`,
      );
      resources[`${functionLogicalId}ThrottlesAlarm`] = alarm(
        'Throttles',
        `${name} was throttled: requests were refused before reaching the code`,
      );
    }
  }
}

module.exports = FunctionAlarms;
