/**
 * Every pretty console line and CLI column that can hold an event's text escapes control
 * characters: an eventType of "\u001b[2J" must not clear the operator's screen, and one holding
 * "\n12:00:00 STORE fake" must not forge a line.
 */
import { outcomeLine } from '../../lib/cli/reactions-cli';
import { formatReconcileLog, formatStoreLog } from '../../lib/logger';
import { formatReactionRunLog, reactionLogger } from '../../lib/reactions/reaction-log';
import type { ReactionOutcome } from '../../lib/reactions/outcomes';

// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;
const CLEAR = '\u001b[2J';
const FORGED = 'user.session.start\n12:00:00 STORE fake-delivery stored=1';

function expectEscaped(line: string): void {
  expect(line).not.toMatch(CONTROL);
  expect(line).toContain('\\u001b[2J');
  expect(line).toContain('\\u000a12:00:00 STORE fake');
}

it('escapes STORE lines', () => {
  expectEscaped(
    formatStoreLog(
      {
        level: 'info',
        deliveryId: 'd-1',
        status: 'stored',
        events: 2,
        ms: 1,
        eventTypes: [CLEAR, FORGED],
      },
      'pretty',
    ),
  );
});

it('escapes REACT lines and the lines reactions log', () => {
  expectEscaped(
    formatReactionRunLog(
      {
        level: 'error',
        reaction: 'forward',
        uuid: 'u-1',
        eventType: CLEAR,
        status: 'failed',
        attempts: 1,
        ms: 1,
        error: FORGED,
      },
      'pretty',
    ),
  );
  const lines: string[] = [];
  jest.spyOn(console, 'log').mockImplementation((line: string) => void lines.push(line));
  reactionLogger('welcome', 'u-1', 'pretty').info(`${CLEAR} ${FORGED}`);
  jest.restoreAllMocks();
  expect(lines).toHaveLength(1);
  expectEscaped(lines[0]!);
});

it('escapes reconcile lines', () => {
  expectEscaped(
    formatReconcileLog(
      {
        level: 'error',
        org: 'https://acme.okta.com',
        status: 'failed',
        reason: `${CLEAR} ${FORGED}`,
      },
      'pretty',
    ),
  );
});

it('escapes every column of `npm run events -- reactions`', () => {
  const outcome: ReactionOutcome = {
    uuid: `u-${CLEAR}`,
    reaction: 'forward',
    status: 'failed',
    attempts: 2,
    eventType: CLEAR,
    updatedAt: '2026-12-03T12:00:00.000Z',
    lastError: FORGED,
  } as ReactionOutcome;
  expectEscaped(outcomeLine(outcome));
});
