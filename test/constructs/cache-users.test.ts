/**
 * The cache's RBAC users in the app's own templates (shared assembly), plus the construct's
 * validation on a fresh stack.
 * User group must hold a user named "default": https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-elasticache-usergroup.html
 * IAM auth: user id == user name, elasticache:Connect on the replication group and the user:
 * https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/auth-iam.html
 */
import { App, SecretValue, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { deriveCacheUsers, ENVIRONMENTS, loadEnvironment } from '../../lib/config';
import { CacheUsers } from '../../lib/constructs/cache-users';
import { templateJson } from '../support/assembly';

const prod = loadEnvironment('prod', ENVIRONMENTS.prod);
const derived = deriveCacheUsers('prod', prod.cache, prod.roles.services);

function resources(env: string, stack: string, type: string): [string, any][] {
  return Object.entries(templateJson(env, stack).Resources as Record<string, any>).filter(([, r]) => r.Type === type);
}

describe('the app\'s cache users (prod)', () => {
  const users = resources('prod', 'Data', 'AWS::ElastiCache::User').map(([, r]) => r.Properties);
  const [, group] = resources('prod', 'Data', 'AWS::ElastiCache::UserGroup')[0];

  test('every derived user exists with its derived access string, and the group holds exactly them', () => {
    expect(users.map((u) => [u.UserId, u.UserName, u.AccessString]).sort()).toEqual(derived.map((u) => [u.userId, u.userName, u.accessString]).sort());
    expect([...group.Properties.UserIds].sort()).toEqual(derived.map((u) => u.userId).sort());
  });

  test('"default" is off and has no password; everyone else logs in with IAM (no password anywhere)', () => {
    const def = users.find((u) => u.UserName === 'default');
    expect(def).toMatchObject({ AccessString: 'off -@all', AuthenticationMode: { Type: 'no-password-required' } });
    for (const u of users.filter((x) => x.UserName !== 'default')) {
      expect(u.AuthenticationMode).toEqual({ Type: 'iam' });
      expect(u.UserName).toBe(u.UserId);
      expect(u.Passwords).toBeUndefined();
    }
    expect(resources('prod', 'Data', 'AWS::SecretsManager::Secret').filter(([id]) => /Cache/.test(id))).toEqual([]);
  });

  test('each worker may connect as exactly the cache services\' app and read-only users, never monitor or admin', () => {
    const policies = resources('prod', 'Workers', 'AWS::IAM::Policy');
    const connects = policies.flatMap(([, p]) => (p.Properties.PolicyDocument.Statement as any[]).filter((s) => JSON.stringify(s.Action).includes('elasticache:')));
    expect(connects).toHaveLength(prod.workers.count);
    for (const s of connects) {
      expect(s.Action).toBe('elasticache:Connect');
      const text = JSON.stringify(s.Resource);
      const userArns = [...text.matchAll(/:user:([a-z0-9-]+)/g)].map((m) => m[1]).sort();
      expect(userArns).toEqual(['prod-rq-app', 'prod-rq-ro', 'prod-sc-app', 'prod-sc-ro']);
      expect(text).toMatch(/:replicationgroup:/);
    }
  });
});

describe('CacheUsers validation', () => {
  const stack = (): Stack => new Stack(new App(), 'T', { env: { account: '123456789012', region: 'ap-northeast-2' } });

  test('a group without a "default" user is refused', () => {
    expect(() => new CacheUsers(stack(), 'U', { envName: 'prod', users: derived.filter((u) => u.userName !== 'default') })).toThrow(/exactly one user named "default" \(got 0\)/);
  });

  test('an IAM user whose name differs from its id is refused', () => {
    const bad = derived.map((u) => (u.kind === 'monitor' ? { ...u, userName: 'monitor' } : u));
    expect(() => new CacheUsers(stack(), 'U', { envName: 'prod', users: bad })).toThrow(/IAM user "prod-cache-monitor" must have user name == user id/);
  });

  test('an access string with a password is refused, naming the user', () => {
    const bad = derived.map((u) => (u.kind === 'app' ? { ...u, accessString: `${u.accessString} >hunter2` } : u));
    expect(() => new CacheUsers(stack(), 'U', { envName: 'prod', users: bad })).toThrow(/Cache user "prod-sc-app": access-string token ">hunter2"/);
  });

  test('grantConnect names the replication group and each user', () => {
    const s = stack();
    const users = new CacheUsers(s, 'U', { envName: 'prod', users: derived });
    const role = new iam.Role(s, 'R', { assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com') });
    users.grantConnect(role, 'prod-rg', users.userIdsOf('scheduler'));
    const doc = JSON.stringify(Template.fromStack(s).findResources('AWS::IAM::Policy'));
    expect(doc).toContain(':replicationgroup:prod-rg');
    expect(doc).toContain(':user:prod-sc-app');
    expect(doc).toContain(':user:prod-sc-ro');
    expect(doc).not.toContain(':user:prod-rq-app');
  });

  test('migration: the "default" user takes the legacy token, with full access, only when asked', () => {
    const s = stack();
    new CacheUsers(s, 'U', { envName: 'prod', users: derived, legacyDefaultPassword: SecretValue.unsafePlainText('x'.repeat(32)) });
    const users = Object.values(Template.fromStack(s).findResources('AWS::ElastiCache::User')).map((r: any) => r.Properties);
    expect(users.find((u) => u.UserName === 'default')).toMatchObject({ AccessString: 'on ~* &* +@all', AuthenticationMode: { Type: 'password' } });
  });
});
