'use strict';
/**
 * The framework still writes its shared role (IamRoleLambdaExecution) when every function has
 * its own (serverless-iam-roles-per-function), and adds the stream mappings' reads and
 * sqs:ListQueues/SendMessage to it. No function uses it: this leaves its log statements only,
 * so it grants no data access. Runs after the per-function plugin (listed after it); fails the
 * package if a function does use the shared role, which would then lose what it needs.
 */
const SHARED_ROLE = 'IamRoleLambdaExecution';

class SharedRoleLogsOnly {
  constructor(serverless) {
    this.serverless = serverless;
    this.hooks = { 'before:package:finalize': () => this.trim() };
  }

  trim() {
    const resources =
      this.serverless.service.provider.compiledCloudFormationTemplate.Resources ?? {};
    const role = resources[SHARED_ROLE];
    if (!role) return;
    const users = Object.entries(resources).filter(
      ([, r]) =>
        r.Type === 'AWS::Lambda::Function' &&
        JSON.stringify(r.Properties?.Role ?? '').includes(`"${SHARED_ROLE}"`),
    );
    if (users.length > 0)
      throw new this.serverless.classes.Error(
        `${users.map(([id]) => id).join(', ')} use ${SHARED_ROLE}: give each function iamRoleStatements`,
        'SHARED_ROLE_IN_USE',
      );
    const logsOnly = (statement) =>
      [statement.Action].flat().every((action) => String(action).startsWith('logs:'));
    for (const policy of role.Properties?.Policies ?? [])
      policy.PolicyDocument.Statement = policy.PolicyDocument.Statement.filter(logsOnly);
  }
}

module.exports = SharedRoleLogsOnly;
