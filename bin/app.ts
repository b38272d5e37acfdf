#!/usr/bin/env node
/**
 * Entry point: reads the environment config, applies command-line overrides, validates it, and
 * builds one Stage per environment. The only place that reads context or environment variables.
 *
 *   npx cdk synth                                  every environment, no AWS account needed
 *   npx cdk deploy 'prod/*' -c prod:account=123456789012 -c prod:region=ap-northeast-2
 *   PLATFORM_PROD_ACCOUNT=… PLATFORM_PROD_REGION=… npx cdk deploy 'prod/*'
 *   npx cdk synth -c environments=dev              only some environments
 *   -c prod:alertEmail=oncall@company.com          (or PLATFORM_PROD_ALERT_EMAIL) who hears alert-path failures
 */
import { App } from 'aws-cdk-lib';
import { failOnValidationFindings } from '../lib/stages/validation-gate';
import { ConfigError, ENVIRONMENTS, loadEnvironment, type EnvironmentConfig } from '../lib/config';
import { buildPlatform } from '../lib/stages/platform-stage';
import { GITHUB_REPOSITORY, GitHubOidcStack } from '../lib/stacks/github-oidc-stack';

const app = new App();

/** `-c <env>:<key>=…` first, then `PLATFORM_<ENV>_<KEY>` (alertEmail → ALERT_EMAIL). */
function setting(env: string, key: 'account' | 'region' | 'alertEmail'): string | undefined {
  const fromContext = app.node.tryGetContext(`${env}:${key}`) as string | undefined;
  const envKey = key.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase();
  return fromContext ?? process.env[`PLATFORM_${env.toUpperCase()}_${envKey}`] ?? undefined;
}

/** `-c githubRepo=owner/name`, or a ConfigError naming the bad value. */
function githubRepository(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !GITHUB_REPOSITORY.test(value)) {
    throw new ConfigError(`-c githubRepo must be the GitHub repository as owner/name, e.g. -c githubRepo=acme/platform-infra (got ${JSON.stringify(value)})`);
  }
  return value;
}

const wanted = ((app.node.tryGetContext('environments') as string | undefined) ?? Object.keys(ENVIRONMENTS).join(','))
  .split(',')
  .map((s) => s.trim())
  .filter(Boolean);

try {
  // Checked first, before anything is built, so that a typo costs no synth.
  const githubRepo = githubRepository(app.node.tryGetContext('githubRepo'));
  const configs: EnvironmentConfig[] = wanted.map((name) => {
    const raw = ENVIRONMENTS[name as keyof typeof ENVIRONMENTS];
    if (!raw) {
      throw new ConfigError(`Unknown environment "${name}" in -c environments; known: ${Object.keys(ENVIRONMENTS).join(', ')}`);
    }
    const account = setting(name, 'account');
    const region = setting(name, 'region');
    const alertEmail = setting(name, 'alertEmail');
    return loadEnvironment(name, {
      ...raw,
      ...(account ? { account } : {}),
      ...(region ? { region } : {}),
      ...(alertEmail ? { alerting: { ...raw.alerting, alertEmail } } : {}),
    });
  });
  buildPlatform(app, configs);
  // The GitHub OIDC provider and deploy roles (outside the Stages), only when asked for:
  // `npx cdk deploy GitHubOidc -c githubRepo=owner/name -c environments=dev,staging`.
  if (githubRepo !== undefined) new GitHubOidcStack(app, 'GitHubOidc', { repository: githubRepo, environments: wanted });
} catch (e) {
  if (e instanceof ConfigError) {
    // A config mistake is the user's to fix: print the message, not a stack trace.
    console.error(e.message);
    process.exit(1);
  }
  throw e;
}
failOnValidationFindings(app.synth().directory);
