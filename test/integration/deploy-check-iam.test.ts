/**
 * deploy:check's `iam` check (deploy/check/iam.ts) on the packaged production template, and on
 * copies of it changed in memory the way a wrong serverless.yml would change it.
 */
import { checkIam } from '../../deploy/check/iam';
import { type PackagedStage, packageStage } from '../../deploy/check/package-stage';
import type { Template } from '../../deploy/check/types';

interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
}

let packaged: PackagedStage;
beforeAll(async () => {
  packaged = await packageStage('production');
}, 180_000);
afterAll(() => packaged?.cleanup());

const copy = (): Template => structuredClone(packaged.template);
function statementsOf(template: Template, roleId: string): Statement[] {
  const policies = template.Resources[roleId]!.Properties!.Policies as {
    PolicyDocument: { Statement: Statement[] };
  }[];
  return policies[0]!.PolicyDocument.Statement;
}
const lines = async (template: Template) =>
  (await checkIam(template, 'production')).map((f) => `${f.where}: ${f.message}`);

it('the packaged production template passes', async () => {
  expect(await lines(packaged.template)).toEqual([]);
});

it("removing dynamodb:PutItem from receive's statements fails, naming function, action and resource", async () => {
  const template = copy();
  for (const statement of statementsOf(template, 'ReceiveIamRoleLambdaExecution'))
    if (Array.isArray(statement.Action))
      statement.Action = statement.Action.filter((a) => a !== 'dynamodb:PutItem');
  expect(await lines(template)).toEqual([
    "ReceiveIamRoleLambdaExecution: receive: dynamodb:PutItem on arn:aws:dynamodb:us-east-1:123456789012:table/okta-events-production is ImplicitlyDenied: add it to the function's iamRoleStatements in serverless.yml",
  ]);
});

it("a statement with Action 'dynamodb:*' and Resource '*' fails", async () => {
  const template = copy();
  statementsOf(template, 'VerifyIamRoleLambdaExecution').push({
    Effect: 'Allow',
    Action: 'dynamodb:*',
    Resource: '*',
  });
  expect(await lines(template)).toEqual([
    'VerifyIamRoleLambdaExecution: grants the wildcard action dynamodb:*: list the actions the manifest needs',
  ]);
});

it("Resource '*' for an action that takes a resource fails, and so does the grant no entry uses", async () => {
  const template = copy();
  statementsOf(template, 'ReadApiIamRoleLambdaExecution').push({
    Effect: 'Allow',
    Action: ['dynamodb:GetItem'],
    Resource: '*',
  });
  expect(await lines(template)).toEqual([
    "ReadApiIamRoleLambdaExecution: grants dynamodb:GetItem on Resource '*': name the resources (deploy/permissions.json)",
    'ReadApiIamRoleLambdaExecution: readApi: grants dynamodb:GetItem on *, which no deploy/permissions.json entry uses: remove it from serverless.yml, or list it there with a reason',
  ]);
});

it('the reconcile role without dynamodb:UpdateItem (the event-type registry write) fails', async () => {
  const template = copy();
  for (const statement of statementsOf(template, 'ReconcileIamRoleLambdaExecution'))
    if (Array.isArray(statement.Action))
      statement.Action = statement.Action.filter((a) => a !== 'dynamodb:UpdateItem');
  expect(await lines(template)).toEqual([
    "ReconcileIamRoleLambdaExecution: reconcile: dynamodb:UpdateItem on arn:aws:dynamodb:us-east-1:123456789012:table/okta-events-production is ImplicitlyDenied: add it to the function's iamRoleStatements in serverless.yml",
  ]);
});

it('an action granted that no manifest entry uses fails (least privilege both ways)', async () => {
  const template = copy();
  statementsOf(template, 'ReceiveIamRoleLambdaExecution').push({
    Effect: 'Allow',
    Action: ['dynamodb:DeleteItem'],
    Resource: [{ 'Fn::GetAtt': ['EventsTable', 'Arn'] }],
  });
  expect(await lines(template)).toEqual([
    'ReceiveIamRoleLambdaExecution: receive: grants dynamodb:DeleteItem on arn:aws:dynamodb:us-east-1:123456789012:table/okta-events-production, which no deploy/permissions.json entry uses: remove it from serverless.yml, or list it there with a reason',
  ]);
});

it('the shared IamRoleLambdaExecution may hold log permissions only', async () => {
  const template = copy();
  statementsOf(template, 'IamRoleLambdaExecution').push({
    Effect: 'Allow',
    Action: ['sqs:SendMessage'],
    Resource: [{ 'Fn::GetAtt': ['StoreFailuresQueue', 'Arn'] }],
  });
  expect(await lines(template)).toEqual([
    'IamRoleLambdaExecution: is used by no function yet grants sqs:SendMessage: it may hold log permissions only',
  ]);
});
