/**
 * The react function's lines: one per run of a reaction on an event (JSON for CloudWatch, a short
 * line for `npm start`), the lines reactions write through `context.log`, and counts as
 * CloudWatch metrics (Embedded Metric Format, as lib/metrics.ts). Never an event's content:
 * ids, types, statuses and our own error lines only.
 */
import { type LogFormat, escapeControls } from '../logger';
import { METRICS_NAMESPACE } from '../metrics';
import type { ReactionLogger } from './reaction';

export interface ReactionRunLog {
  level: 'info' | 'warn' | 'error';
  reaction: string;
  uuid: string;
  eventType: string;
  /** succeeded, failed, busy (another run holds it), or why nothing ran. */
  status: string;
  attempts: number;
  ms: number;
  /** Time since the event was received (stream, retries and the run itself). */
  lagMs?: number;
  error?: string;
}

function clock(): string {
  return new Date().toISOString().slice(11, 19);
}

export function formatReactionRunLog(entry: ReactionRunLog, format: LogFormat): string {
  if (format === 'json') return JSON.stringify({ msg: 'reaction', ...entry });
  const parts = [
    clock(),
    'REACT',
    entry.reaction,
    entry.eventType,
    entry.uuid,
    entry.status,
    `(attempt ${entry.attempts})`,
  ];
  if (entry.error) parts.push(entry.error);
  parts.push(`${entry.ms}ms`);
  if (entry.lagMs !== undefined) parts.push(`(${entry.lagMs}ms after receipt)`);
  // The event's type and uuid, and a receiver's error text, come from outside.
  return escapeControls(parts.join(' '));
}

export function logReactionRun(entry: ReactionRunLog, format: LogFormat): void {
  const line = formatReactionRunLog(entry, format);
  if (entry.level === 'info') console.log(line);
  else console.error(line);
}

/** What a reaction's `context.log` writes: tagged with the reaction and the event. */
export function reactionLogger(reaction: string, uuid: string, format: LogFormat): ReactionLogger {
  const write = (level: 'info' | 'warn' | 'error', message: string) => {
    const line =
      format === 'json'
        ? JSON.stringify({ msg: 'reaction-log', level, reaction, uuid, message })
        : escapeControls(`${clock()} REACT ${reaction} ${uuid} ${message}`);
    if (level === 'info') console.log(line);
    else console.error(line);
  };
  return {
    info: (message) => write('info', message),
    warn: (message) => write('warn', message),
    error: (message) => write('error', message),
  };
}

/** Runs of one invocation, counted per reaction: ReactionsSucceeded and ReactionsFailed. */
export function reactionMetrics(
  stage: string,
  counts: ReadonlyMap<string, { succeeded: number; failed: number }>,
  timestamp = Date.now(),
) {
  return [...counts].map(([reaction, { succeeded, failed }]) => ({
    _aws: {
      Timestamp: timestamp,
      CloudWatchMetrics: [
        {
          Namespace: METRICS_NAMESPACE,
          Dimensions: [['Stage', 'Reaction']],
          Metrics: [
            { Name: 'ReactionsSucceeded', Unit: 'Count' },
            { Name: 'ReactionsFailed', Unit: 'Count' },
          ],
        },
      ],
    },
    Stage: stage,
    Reaction: reaction,
    ReactionsSucceeded: succeeded,
    ReactionsFailed: failed,
  }));
}
