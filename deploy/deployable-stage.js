'use strict';
/**
 * Refuses to package or deploy a stage that has no secrets path: the `local` stage (the default
 * when --stage is forgotten) is for `npm start` and the tests only, and any other stage without
 * `params.<stage>.secretsPath` would refuse every request. `serverless offline` runs none of
 * these hooks, so the local stage keeps working there.
 */
class DeployableStage {
  constructor(serverless) {
    this.serverless = serverless;
    const check = () => this.check();
    this.hooks = {
      'before:package:initialize': check,
      // `deploy --package <dir>` skips packaging; `deploy function` updates one function's code.
      'before:deploy:deploy': check,
      'before:deploy:function:initialize': check,
    };
  }

  check() {
    const stage = this.serverless.getProvider('aws').getStage();
    const secretsPath = this.serverless.service.provider.environment?.SECRETS_PATH;
    // The local stage may read SSM (SECRETS_PATH in the environment) and is still never deployed.
    if (secretsPath && stage !== 'local') return;
    const message =
      stage === 'local'
        ? 'The local stage is for npm start and the tests only, never deployed: add --stage staging or --stage production.'
        : `Stage "${stage}" has no params.${stage}.secretsPath in serverless.yml: add one (see docs/deploying.md) or use --stage staging or --stage production.`;
    throw new this.serverless.classes.Error(message, 'UNDEPLOYABLE_STAGE');
  }
}

module.exports = DeployableStage;
