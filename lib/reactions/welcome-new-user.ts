import type { Reaction } from './reaction';

// The example of docs/reactions.md (Okta's guide: Jane Doe is created). Off unless REACTIONS
// names it; a reaction of your own needs no `enabled` line and is on once registered.
export const welcomeNewUser: Reaction = {
  name: 'welcome-new-user',
  eventTypes: ['user.lifecycle.create'],
  enabled: (config) => config.reactions.enabled.includes('welcome-new-user'),
  async handle(event, { log }) {
    const user = event.target?.find((target) => target.type === 'User');
    log.info(`Welcome, ${user?.displayName} <${user?.alternateId}>`);
  },
};
