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

const trust = (sub: string, exact = true) =>
  Match.objectLike({
    Statement: [
      Match.objectLike({
        Action: 'sts:AssumeRoleWithWebIdentity',
        Effect: 'Allow',
        Principal: { Federated: Match.anyValue() },
        Condition: exact
          ? { StringEquals: { 'token.actions.githubusercontent.com:aud': 'sts.amazonaws.com', 'token.actions.githubusercontent.com:sub': sub } }
          : {
              StringEquals: { 'token.actions.githubusercontent.com:aud': 'sts.amazonaws.com' },
              StringLike: { 'token.actions.githubusercontent.com:sub': sub },
            },
      }),
    ],
  });

type Conditions = Record<string, Record<string, string>>;

/**
 * Whether a token with this `sub` (audience sts.amazonaws.com) satisfies a trust statement's
 * conditions, by IAM's rules: StringEquals is exact and case-sensitive; StringLike's `*` matches any
 * run of characters (colons included) and `?` one character
 * (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html#Conditions_String).
 */
function admits(conditions: Conditions, sub: string): boolean {
  const claims: Record<string, string> = { 'token.actions.githubusercontent.com:sub': sub, 'token.actions.githubusercontent.com:aud': 'sts.amazonaws.com' };
  const like = (pattern: string, v: string) => new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`).test(v);
  return Object.entries(conditions).every(([op, kv]) =>
    Object.entries(kv).every(([key, want]) => (op === 'StringEquals' ? claims[key] === want : op === 'StringLike' ? like(want, claims[key]) : false)),
  );
}

function trustOf(template: Template, roleName: string): Conditions {
  const role = Object.values(template.findResources('AWS::IAM::Role')).find((r) => r.Properties.RoleName === roleName)!;
  return role.Properties.AssumeRolePolicyDocument.Statement[0].Condition;
}

describe('GitHubOidcStack', () => {
  test('creates the GitHub OIDC provider for STS', () => {
    const { template } = build();
    template.resourceCountIs('AWS::IAM::OIDCProvider', 1);
    template.hasResourceProperties('AWS::IAM::OIDCProvider', { Url: 'https://token.actions.githubusercontent.com', ClientIdList: ['sts.amazonaws.com'] });
  });

  test.each(['dev', 'staging', 'prod'])('a %s deploy role trusted only by jobs on main in that GitHub environment (exact match)', (env) => {
    const { template } = build();
    template.hasResourceProperties('AWS::IAM::Role', {
      RoleName: `github-deploy-${env}`,
      AssumeRolePolicyDocument: trust(`repo:acme/platform-infra:environment:${env}:ref:refs/heads/main`),
      MaxSessionDuration: 7200,
    });
  });

  // Tokens an attacker (or a mistake) could present, in GitHub's customized subject format
  // (https://docs.github.com/en/actions/reference/security/oidc), and the default one.
  const R = 'repo:acme/platform-infra';
  test.each([
    ['dev', `${R}:environment:dev:ref:refs/heads/main`, true],
    ['dev', `${R}:environment:dev:ref:refs/heads/feature`, false], // a manual run of another branch in dev
    ['staging', `${R}:environment:staging:ref:refs/heads/main-hotfix`, false],
    ['staging', `${R}:environment:staging`, false], // GitHub's default template: no ref, so no match
    ['staging', `${R}:ref:refs/heads/main`, false], // main, but outside the environment (its rules skipped)
    ['prod', `${R}:environment:staging:ref:refs/heads/main`, false], // another environment's job
    ['prod', `${R}:pull_request:ref:refs/pull/1/merge`, false],
    ['prod', 'repo:acme/platform-infra-fork:environment:prod:ref:refs/heads/main', false],
    ['prod', `${R}:environment:PROD:ref:refs/heads/main`, false],
  ])('the %s deploy role admits %s: %s', (env, sub, allowed) => {
    expect(admits(trustOf(build().template, `github-deploy-${env}`), sub)).toBe(allowed);
  });

  test.each([
    [`${R}:pull_request:ref:refs/pull/42/merge`, true],
    [`${R}:ref:refs/heads/main`, false],
    [`${R}:environment:prod:ref:refs/heads/main`, false],
    ['repo:mallory/platform-infra:pull_request:ref:refs/pull/42/merge', false],
  ])('the diff role admits %s: %s', (sub, allowed) => {
    expect(admits(trustOf(build().template, 'github-diff'), sub)).toBe(allowed);
  });

  test('deployBranch moves every deploy role to another branch', () => {
    expect(admits(trustOf(build({ deployBranch: 'release' }).template, 'github-deploy-dev'), `${R}:environment:dev:ref:refs/heads/release`)).toBe(true);
    expect(admits(trustOf(build({ deployBranch: 'release' }).template, 'github-deploy-dev'), `${R}:environment:dev:ref:refs/heads/main`)).toBe(false);
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
    template.hasResourceProperties('AWS::IAM::Role', { RoleName: 'github-diff', AssumeRolePolicyDocument: trust('repo:acme/platform-infra:pull_request:ref:refs/pull/*/merge', false) });
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
    [{ deployBranch: 'release/*' }, /deployBranch "release\/\*" must be one branch name/],
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
