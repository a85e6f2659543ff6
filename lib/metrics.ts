/**
 * CloudWatch metrics through the Embedded Metric Format: one JSON line in the function's log,
 * which CloudWatch Logs turns into metrics with no API call and no extra dependency.
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html
 */
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
