import * as fs from 'node:fs';
import * as path from 'node:path';
import { App, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { GitHubOidcStack, type GitHubOidcStackProps } from '../../lib/stacks/github-oidc-stack';

function build(props: Partial<GitHubOidcStackProps> = {}) {
  const app = new App();
  const stack = new GitHubOidcStack(app, 'GitHubOidc', { repository: 'acme/platform-infra', environments: ['dev', 'staging', 'prod'], ...props });
  return { app, stack, template: Template.fromStack(stack) };
}

const trust = (sub: string) =>
  Match.objectLike({
    Statement: [
      Match.objectLike({
        Action: 'sts:AssumeRoleWithWebIdentity',
        Effect: 'Allow',
        Principal: { Federated: Match.anyValue() },
        Condition: {
          StringEquals: { 'token.actions.githubusercontent.com:aud': 'sts.amazonaws.com' },
          StringLike: { 'token.actions.githubusercontent.com:sub': sub },
        },
      }),
    ],
  });

describe('GitHubOidcStack', () => {
  test('creates the GitHub OIDC provider for STS', () => {
    const { template } = build();
    template.resourceCountIs('AWS::IAM::OIDCProvider', 1);
    template.hasResourceProperties('AWS::IAM::OIDCProvider', { Url: 'https://token.actions.githubusercontent.com', ClientIdList: ['sts.amazonaws.com'] });
  });

  test.each(['dev', 'staging', 'prod'])('a %s deploy role trusted only by jobs in that GitHub environment', (env) => {
    const { template } = build();
    template.hasResourceProperties('AWS::IAM::Role', {
      RoleName: `github-deploy-${env}`,
      AssumeRolePolicyDocument: trust(`repo:acme/platform-infra:environment:${env}`),
      MaxSessionDuration: 7200,
    });
  });

  test('deploy roles may only assume the CDK bootstrap roles (no wildcards, no other permissions)', () => {
    const { template } = build({ environments: ['prod'] });
    const policies = template.findResources('AWS::IAM::Policy');
    expect(Object.keys(policies)).toHaveLength(2); // prod deploy + diff
    const deploy = Object.values(policies).find((p) => JSON.stringify(p).includes('DeployProd') || JSON.stringify(p).includes('Deployprod'))!;
    const statements = deploy.Properties.PolicyDocument.Statement;
    expect(statements).toHaveLength(1);
    expect(statements[0].Action).toEqual(['sts:AssumeRole', 'sts:TagSession']);
    const resources = JSON.stringify(statements[0].Resource);
    for (const kind of ['deploy', 'file-publishing', 'image-publishing', 'lookup']) expect(resources).toContain(`:role/cdk-hnb659fds-${kind}-role-`);
    expect(resources).not.toContain('cfn-exec');
    expect(resources).not.toContain('*');
  });

  test('the diff role is trusted by pull_request jobs and reaches only the lookup role', () => {
    const { template } = build();
    template.hasResourceProperties('AWS::IAM::Role', { RoleName: 'github-diff', AssumeRolePolicyDocument: trust('repo:acme/platform-infra:pull_request') });
    const diffPolicy = Object.values(template.findResources('AWS::IAM::Policy')).find((p) => JSON.stringify(p.Properties.Roles).includes('Diff'))!;
    const text = JSON.stringify(diffPolicy.Properties.PolicyDocument);
    expect(text).toContain('cdk-hnb659fds-lookup-role-');
    expect(text).not.toMatch(/-(deploy|file-publishing|image-publishing)-role-/);
  });

  test('regions, qualifier and an existing provider are honoured; the diff role can be left out', () => {
    const { template } = build({
      regions: ['ap-northeast-2', 'us-east-1'],
      bootstrapQualifier: 'plat1',
      existingProviderArn: 'arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com',
      diffRole: false,
    });
    template.resourceCountIs('AWS::IAM::OIDCProvider', 0);
    template.resourceCountIs('AWS::IAM::Role', 3);
    const text = JSON.stringify(template.toJSON());
    expect(text).toContain('cdk-plat1-deploy-role-');
    expect(text).toContain('-ap-northeast-2');
    expect(text).toContain('-us-east-1');
    expect(text).toContain('arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com');
  });

  test('role ARNs are stack outputs', () => {
    const { template } = build({ environments: ['dev'] });
    expect(Object.keys(template.findOutputs('*')).sort()).toEqual(['DeployRoleArndev', 'DiffRoleArn']);
  });

  test.each([
    [{ repository: 'not a repo' }, /repository must be "owner\/name" \(got "not a repo"\)/],
    [{ environments: [] }, /at least one environment/],
    [{ environments: ['Prod!'] }, /environment "Prod!" must be/],
    [{ bootstrapQualifier: 'TOO-LONG-QUALIFIER' }, /bootstrapQualifier "TOO-LONG-QUALIFIER"/],
  ])('rejects %j', (props, message) => {
    expect(() => build(props as Partial<GitHubOidcStackProps>)).toThrow(message);
  });

  test('passes cdk-nag AwsSolutions with no acknowledgements', () => {
    const app = new App();
    new GitHubOidcStack(app, 'GitHubOidc', { repository: 'acme/platform-infra', environments: ['dev', 'prod'] });
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    const dir = app.synth().directory;
    const report = JSON.parse(fs.readFileSync(path.join(dir, 'validation-report.json'), 'utf8')) as { pluginReports: Array<{ conclusion: string; violations: unknown[] }> };
    expect(report.pluginReports.flatMap((r) => r.violations)).toEqual([]);
  });
});
