/**
 * Every reaction of the service, in one list. Adding one: a file in this folder exporting a
 * `Reaction` (see welcome-new-user.ts and docs/reactions.md), and one line below.
 */
import type { Config } from '../config';
import { eventBridge } from './eventbridge';
import { forward } from './forward';
import { REACTION_NAME, type Reaction, isEnabled } from './reaction';
import { welcomeNewUser } from './welcome-new-user';

export const REACTIONS: readonly Reaction[] = [
  forward, // FORWARD_URL: Standard Webhooks POST of each event
  eventBridge, // EVENT_BUS_NAME (stage param eventBridge): the stage's EventBridge bus
  welcomeNewUser, // the guide's example: REACTIONS=welcome-new-user
];

/** Names are keys (outcome items, --name): each must be well formed and unique. */
export function checkRegistry(reactions: readonly Reaction[]): readonly Reaction[] {
  const seen = new Set<string>();
  for (const { name } of reactions) {
    if (!REACTION_NAME.test(name)) {
      throw new Error(`Reaction name "${name}" must be lower-case letters, digits and dashes`);
    }
    if (seen.has(name)) throw new Error(`Two reactions are named "${name}"`);
    seen.add(name);
  }
  return reactions;
}

/** The reactions this configuration turns on. */
export function enabledReactions(
  config: Config,
  reactions: readonly Reaction[] = REACTIONS,
): Reaction[] {
  return checkRegistry(reactions).filter((reaction) => isEnabled(reaction, config));
}

/** One line for npm start: which reactions run, and where forward sends (origin only). */
export function describeReactions(config: Config): string {
  const names = enabledReactions(config).map((reaction) => {
    if (reaction.name !== 'forward') return reaction.name;
    let origin = '(FORWARD_URL is not a URL)';
    try {
      origin = new URL(config.reactions.forwardUrl ?? '').origin;
    } catch {
      // shown as is: the forward outcomes will say what is wrong
    }
    return `forward to ${origin} (${config.reactions.forwardTypes.join(',')})`;
  });
  return names.length > 0
    ? `${names.join(', ')}; a REACT line per run (docs/reactions.md)`
    : 'none configured (FORWARD_URL, docs/reactions.md)';
}
