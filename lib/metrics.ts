/**
 * CloudWatch metrics through the Embedded Metric Format: one JSON line in the function's log,
 * which CloudWatch Logs turns into metrics with no API call and no extra dependency.
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html
 */
import type { PassResult } from './reconcile/reconcile-pass';
import type { StoreResult } from './store/event-store';

export const METRICS_NAMESPACE = 'OktaEventHooks';

export function deliveryMetrics(stage: string, result: StoreResult, timestamp = Date.now()) {
  return {
    _aws: {
      Timestamp: timestamp,
      CloudWatchMetrics: [
        {
          Namespace: METRICS_NAMESPACE,
          Dimensions: [['Stage']],
          Metrics: [
            { Name: 'EventsStored', Unit: 'Count' },
            { Name: 'DuplicateEvents', Unit: 'Count' },
          ],
        },
      ],
    },
    Stage: stage,
    EventsStored: result.storedCount,
    DuplicateEvents: result.duplicateCount,
  };
}

/** Counts only: no event content, so nothing secret or personal reaches the metrics. */
export function emitDeliveryMetrics(stage: string, result: StoreResult): void {
  console.log(JSON.stringify(deliveryMetrics(stage, result)));
}

/**
 * One line per reconcile pass. EventsRecovered > 0 means the hook lost events (an alarm);
 * ReconcileLagSeconds is how far behind Okta the table may be (an alarm above a threshold).
 */
export function reconcileMetrics(stage: string, result: PassResult, timestamp = Date.now()) {
  const metrics: Array<{ Name: string; Unit: string }> = [
    { Name: 'SystemLogEventsRead', Unit: 'Count' },
    { Name: 'EventsRecovered', Unit: 'Count' },
    { Name: 'HookDeliveryFailures', Unit: 'Count' },
    { Name: 'SystemLogRequests', Unit: 'Count' },
  ];
  const values: Record<string, number> = {
    SystemLogEventsRead: result.read,
    EventsRecovered: result.recovered,
    HookDeliveryFailures: result.hookDeliveryFailures,
    SystemLogRequests: result.requests + result.tokenRequests,
  };
  if (result.lagSeconds !== undefined) {
    metrics.push({ Name: 'ReconcileLagSeconds', Unit: 'Seconds' });
    values.ReconcileLagSeconds = result.lagSeconds;
  }
  return {
    _aws: {
      Timestamp: timestamp,
      CloudWatchMetrics: [
        { Namespace: METRICS_NAMESPACE, Dimensions: [['Stage']], Metrics: metrics },
      ],
    },
    Stage: stage,
    ...values,
  };
}

export function emitReconcileMetrics(stage: string, result: PassResult): void {
  console.log(JSON.stringify(reconcileMetrics(stage, result)));
}
