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
  /**
   * The only branch whose jobs may assume a deploy role (with the GitHub environment, in every
   * environment: dev and staging as well as prod).
   * @default 'main'
   */
  readonly deployBranch?: string;
}

/**
 * The `sub` GitHub puts in a job's token once the repository's subject template includes the
 * `repo`, `context` and `ref` claims (in that order), e.g.
 * `repo:acme/platform-infra:environment:prod:ref:refs/heads/main` for a job in the GitHub
 * environment `prod` on main. With GitHub's default template the ref is missing, so no token
 * matches and nothing can assume the roles until the template is set (fails closed):
 *
 *   gh api -X PUT repos/<owner>/<name>/actions/oidc/customization/sub -F use_default=false \
 *     -f 'include_claim_keys[]=repo' -f 'include_claim_keys[]=context' -f 'include_claim_keys[]=ref'
 *
 * https://docs.github.com/en/actions/reference/security/oidc (customizing the subject claims).
 */
export function deploySubject(repository: string, environment: string, branch = 'main'): string {
  return `repo:${repository}:environment:${environment}:ref:refs/heads/${branch}`;
}

/** A pull request's job under the same template: `…:pull_request:ref:refs/pull/<n>/merge`. */
export function pullRequestSubject(repository: string): string {
  return `repo:${repository}:pull_request:ref:refs/pull/*/merge`;
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
 * (per environment) and the repository variables `AWS_DIFF_ROLE_ARN_<ENV>` (the same diff role for
 * every environment in this account). The trust expects the repository's customized OIDC subject
 * (repo, context, ref): see {@link deploySubject}.
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
    const branch = props.deployBranch ?? 'main';
    if (!/^[A-Za-z0-9._/-]+$/.test(branch) || branch.includes('*')) throw new Error(`GitHubOidcStack: deployBranch "${branch}" must be one branch name (letters, digits, ".", "_", "-", "/"), not a pattern`);
    const qualifier = props.bootstrapQualifier ?? 'hnb659fds';
    if (!/^[a-z0-9]{1,10}$/.test(qualifier)) throw new Error(`GitHubOidcStack: bootstrapQualifier "${qualifier}" must be 1-10 lower-case letters or digits`);
    const regions = props.regions ?? [Aws.REGION];

    const providerArn =
      props.existingProviderArn ??
      new iam.OidcProviderNative(this, 'Provider', {
        url: `https://${GITHUB_OIDC_ISSUER}`,
        clientIds: ['sts.amazonaws.com'],
      }).oidcProviderArn;

    /**
     * Trust: GitHub's token for this repository, audience STS, and the given `sub`, matched exactly
     * unless it holds a `*` (a wildcard could also match across the `:` between claims).
     */
    const principal = (subject: string) =>
      new iam.WebIdentityPrincipal(
        providerArn,
        subject.includes('*')
          ? { StringEquals: { [`${GITHUB_OIDC_ISSUER}:aud`]: 'sts.amazonaws.com' }, StringLike: { [`${GITHUB_OIDC_ISSUER}:sub`]: subject } }
          : { StringEquals: { [`${GITHUB_OIDC_ISSUER}:aud`]: 'sts.amazonaws.com', [`${GITHUB_OIDC_ISSUER}:sub`]: subject } },
      );
    const bootstrapRoles = (kinds: readonly string[]) =>
      kinds.flatMap((kind) => regions.map((region) => `arn:${Aws.PARTITION}:iam::${Aws.ACCOUNT_ID}:role/cdk-${qualifier}-${kind}-role-${Aws.ACCOUNT_ID}-${region}`));

    const deployRoles: Record<string, iam.IRole> = {};
    for (const env of props.environments) {
      const role = new iam.Role(this, `Deploy-${env}`, {
        roleName: `github-deploy-${env}`,
        description: `GitHub Actions deploys of ${props.repository} to ${env}: only from a job on ${branch} in the GitHub environment "${env}"`,
        // Branch and environment both: a job in the environment on another branch (a manual run,
        // or an environment without branch rules) cannot assume it. See deploySubject.
        assumedBy: principal(deploySubject(props.repository, env, branch)),
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
        assumedBy: principal(pullRequestSubject(props.repository)),
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
      new CfnOutput(this, 'DiffRoleArn', { value: role.roleArn, description: 'Repository variables AWS_DIFF_ROLE_ARN_<ENV> of the environments in this account (PR live diff)' });
    }
  }
}
