/** What every deploy check sees and reports (scripts/deploy-check.ts runs them per stage). */

export interface TemplateResource {
  Type: string;
  Condition?: string;
  DependsOn?: string | string[];
  DeletionPolicy?: string;
  UpdateReplacePolicy?: string;
  Properties?: Record<string, unknown>;
}

/** The packaged CloudFormation template (`cloudformation-template-update-stack.json`). */
export interface Template {
  AWSTemplateFormatVersion?: string;
  Conditions?: Record<string, unknown>;
  Resources: Record<string, TemplateResource>;
  Outputs?: Record<string, { Value: unknown; Condition?: string; Description?: string }>;
}

export interface StageContext {
  stage: string;
  template: Template;
  /** The folder `serverless package --package` wrote: the template and the functions' zips. */
  packageDir: string;
}

/** One thing AWS would refuse or the project forbids: `where` names a file or logical id. */
export interface Finding {
  where: string;
  message: string;
  /** Printed for the reader but not a failure (the stage diff's added and changed resources). */
  note?: boolean;
}

export interface DeployCheck {
  /** Short name printed with the check's result line, e.g. `iam`, `schema`, `guard`. */
  name: string;
  run(context: StageContext): Promise<Finding[]> | Finding[];
}
