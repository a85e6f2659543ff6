/** deploy/stage-settings.js, the serverless plugin: typed for its unit test. */
declare class StageSettings {
  constructor(serverless: unknown);
  hooks: Record<string, () => void>;
}
export = StageSettings;
