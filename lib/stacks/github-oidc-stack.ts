import { Aws, CfnOutput, Duration, Stack, type StackProps } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';

/** A GitHub repository as `owner/name`. */
export const GITHUB_REPOSITORY = /^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/;

/** GitHub Actions' OIDC issuer. */
export const GITHUB_OIDC_ISSUER = 'token.actions.githubusercontent.com';

export interface GitHubOidcStackProps extends StackProps {
  /** The repository whose workflows may assume the roles, `owner/name`. */
  readonly repository: string;
  /**
   * GitHub environments (= platform environments) deployed into this account: one deploy role each,
   * assumable only by a job that runs in that GitHub environment (`environment: prod`), so prod's
   * approval rule guards prod's role.
   */
  readonly environments: readonly string[];
  /** Regions the environments deploy to (the CDK bootstrap roles are per region). @default - this stack's region */
  readonly regions?: readonly string[];
  /** CDK bootstrap qualifier. @default 'hnb659fds' */
  readonly bootstrapQualifier?: string;
  /**
   * ARN of an existing GitHub OIDC provider; an account can hold only one per issuer URL.
   * @default - this stack creates the provider
   */
  readonly existingProviderArn?: string;
  /** Also create the read-only role for the PR workflow's live `cdk diff --method template`. @default true */
  readonly diffRole?: boolean;
}

/**
 * What the GitHub workflows assume, deployed once per AWS account outside the per-environment
 * Stages: the GitHub OIDC identity provider, one deploy role per environment and a read-only diff
 * role. The roles hold no permissions of their own beyond assuming the CDK bootstrap roles
 * (`cdk bootstrap` creates those), so what a deploy can do is what the bootstrap execution policy
 * allows, and the diff role can only reach the bootstrap *lookup* role (read-only).
 *
 *   npx cdk deploy GitHubOidc -c githubRepo=acme/platform-infra -c environments=dev,staging
 *
 * Its outputs are the role ARNs to store as the GitHub environment variable `AWS_DEPLOY_ROLE_ARN`
 * (per environment) and the repository variable `AWS_DIFF_ROLE_ARN`.
 */
export class GitHubOidcStack extends Stack {
  /** Deploy role per environment name. */
  public readonly deployRoles: Readonly<Record<string, iam.IRole>>;
  /** The PR workflow's read-only diff role, when created. */
  public readonly diffRole?: iam.IRole;

  constructor(scope: Construct, id: string, props: GitHubOidcStackProps) {
    super(scope, id, props);
    if (!GITHUB_REPOSITORY.test(props.repository)) {
      throw new Error(`GitHubOidcStack: repository must be "owner/name" (got "${props.repository}")`);
    }
    if (props.environments.length === 0) throw new Error('GitHubOidcStack: environments must name at least one environment');
    for (const env of props.environments) {
      if (!/^[a-z][a-z0-9-]{0,30}$/.test(env)) throw new Error(`GitHubOidcStack: environment "${env}" must be lower-case letters, digits and "-"`);
    }
    const qualifier = props.bootstrapQualifier ?? 'hnb659fds';
    if (!/^[a-z0-9]{1,10}$/.test(qualifier)) throw new Error(`GitHubOidcStack: bootstrapQualifier "${qualifier}" must be 1-10 lower-case letters or digits`);
    const regions = props.regions ?? [Aws.REGION];

    const providerArn =
      props.existingProviderArn ??
      new iam.OidcProviderNative(this, 'Provider', {
        url: `https://${GITHUB_OIDC_ISSUER}`,
        clientIds: ['sts.amazonaws.com'],
      }).oidcProviderArn;

    /** Trust: GitHub's token for this repository, audience STS, and the given `sub`. */
    const principal = (subject: string) =>
      new iam.WebIdentityPrincipal(providerArn, {
        StringEquals: { [`${GITHUB_OIDC_ISSUER}:aud`]: 'sts.amazonaws.com' },
        StringLike: { [`${GITHUB_OIDC_ISSUER}:sub`]: subject },
      });
    const bootstrapRoles = (kinds: readonly string[]) =>
      kinds.flatMap((kind) => regions.map((region) => `arn:${Aws.PARTITION}:iam::${Aws.ACCOUNT_ID}:role/cdk-${qualifier}-${kind}-role-${Aws.ACCOUNT_ID}-${region}`));

    const deployRoles: Record<string, iam.IRole> = {};
    for (const env of props.environments) {
      const role = new iam.Role(this, `Deploy-${env}`, {
        roleName: `github-deploy-${env}`,
        description: `GitHub Actions deploys of ${props.repository} to ${env}: only from a job in the GitHub environment "${env}"`,
        // A GitHub job in an environment presents `sub: repo:<owner>/<name>:environment:<env>`.
        assumedBy: principal(`repo:${props.repository}:environment:${env}`),
        maxSessionDuration: Duration.hours(2),
      });
      role.addToPolicy(
        new iam.PolicyStatement({
          sid: 'AssumeCdkBootstrapRoles',
          actions: ['sts:AssumeRole', 'sts:TagSession'],
          resources: bootstrapRoles(['deploy', 'file-publishing', 'image-publishing', 'lookup']),
        }),
      );
      deployRoles[env] = role;
      new CfnOutput(this, `DeployRoleArn-${env}`, { value: role.roleArn, description: `GitHub environment "${env}": variable AWS_DEPLOY_ROLE_ARN` });
    }
    this.deployRoles = deployRoles;

    if (props.diffRole ?? true) {
      const role = new iam.Role(this, 'Diff', {
        roleName: 'github-diff',
        description: `Read-only live diff of ${props.repository} pull requests (cdk diff --method template, lookup role only)`,
        assumedBy: principal(`repo:${props.repository}:pull_request`),
        maxSessionDuration: Duration.hours(1),
      });
      role.addToPolicy(
        new iam.PolicyStatement({
          sid: 'AssumeCdkLookupRole',
          actions: ['sts:AssumeRole', 'sts:TagSession'],
          resources: bootstrapRoles(['lookup']),
        }),
      );
      this.diffRole = role;
      new CfnOutput(this, 'DiffRoleArn', { value: role.roleArn, description: 'Repository variable AWS_DIFF_ROLE_ARN (PR live diff)' });
    }
  }
}
