import { Arn, ArnFormat, SecretValue, Stack } from 'aws-cdk-lib';
import * as elasticache from 'aws-cdk-lib/aws-elasticache';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { assertElastiCacheAccessString, type CacheUserSpec } from '../config/cache-acl';

export interface CacheUsersProps {
  /** Environment name: the user group id is `{envName}-cache-users`. */
  readonly envName: string;
  /** The users, from `deriveCacheUsers` (lib/config/cache-acl.ts); exactly one must be named "default". */
  readonly users: readonly CacheUserSpec[];
  /**
   * Migration only (docs/cache-rbac-migration.md): the "default" user accepts this password (the
   * old AUTH token) with full access, so clients that still send `AUTH <token>` keep working
   * while they move to their IAM users. @default - "default" is off and has no password
   */
  readonly legacyDefaultPassword?: SecretValue;
}

/**
 * The cache's RBAC users and their user group: every user from the registry as an
 * `AWS::ElastiCache::User`, IAM-authenticated (no password to store or rotate), and the group
 * the replication group attaches. The group must contain a user named "default"
 * (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-elasticache-usergroup.html);
 * ours is `off`, so an unauthenticated or `AUTH <token>` connection can do nothing.
 */
export class CacheUsers extends Construct {
  /** The user group to attach to the replication group (`UserGroupIds`). */
  public readonly userGroup: elasticache.CfnUserGroup;
  /** The ElastiCache users by user id. */
  public readonly users: Readonly<Record<string, elasticache.CfnUser>>;
  /** The user specs by user id. */
  public readonly specs: Readonly<Record<string, CacheUserSpec>>;

  constructor(scope: Construct, id: string, props: CacheUsersProps) {
    super(scope, id);
    const defaults = props.users.filter((u) => u.userName === 'default');
    if (defaults.length !== 1) throw new Error(`CacheUsers: the user group needs exactly one user named "default" (got ${defaults.length})`);
    const seen = new Set<string>();
    const users: Record<string, elasticache.CfnUser> = {};
    const specs: Record<string, CacheUserSpec> = {};
    for (const u of props.users) {
      if (seen.has(u.userId)) throw new Error(`CacheUsers: user id "${u.userId}" appears twice`);
      seen.add(u.userId);
      if (!/^[a-z][a-z0-9-]*$/.test(u.userId)) throw new Error(`CacheUsers: user id "${u.userId}" must be lower-case letters, digits and "-", starting with a letter`);
      if (u.authentication === 'iam' && u.userName !== u.userId) throw new Error(`CacheUsers: IAM user "${u.userId}" must have user name == user id (got "${u.userName}")`);
      assertElastiCacheAccessString(u.userId, u.accessString);
      const legacy = u.userName === 'default' && props.legacyDefaultPassword !== undefined;
      const logicalId = u.userId.replace(/(^|-)(\w)/g, (_m, _d, c: string) => c.toUpperCase());
      users[u.userId] = new elasticache.CfnUser(this, logicalId, {
        engine: 'redis',
        userId: u.userId,
        userName: u.userName,
        accessString: legacy ? 'on ~* &* +@all' : u.accessString,
        ...(legacy
          ? { authenticationMode: { Type: 'password', Passwords: [props.legacyDefaultPassword!.unsafeUnwrap()] } }
          : { authenticationMode: { Type: u.authentication === 'iam' ? 'iam' : 'no-password-required' } }),
      });
      specs[u.userId] = u;
    }
    this.users = users;
    this.specs = specs;
    this.userGroup = new elasticache.CfnUserGroup(this, 'Group', {
      engine: 'redis',
      userGroupId: `${props.envName}-cache-users`,
      userIds: Object.keys(users),
    });
    for (const u of Object.values(users)) this.userGroup.node.addDependency(u);
  }

  /** ARN of a user, for `elasticache:Connect`. */
  public userArn(userId: string): string {
    if (!this.users[userId]) throw new Error(`CacheUsers: no user "${userId}" (known: ${Object.keys(this.users).join(', ')})`);
    return Stack.of(this).formatArn({ service: 'elasticache', resource: 'user', resourceName: userId, arnFormat: ArnFormat.COLON_RESOURCE_NAME });
  }

  /** User ids of one registry service's users (`app` and `readonly`). */
  public userIdsOf(service: string): string[] {
    return Object.values(this.specs).filter((s) => s.service === service).map((s) => s.userId);
  }

  /** User ids of a kind (`monitor`, `admin`, …). */
  public userIdsOfKind(kind: CacheUserSpec['kind']): string[] {
    return Object.values(this.specs).filter((s) => s.kind === kind).map((s) => s.userId);
  }

  /**
   * Lets `grantee` log in as exactly `userIds` to `replicationGroupId`: IAM authentication needs
   * `elasticache:Connect` on both the replication group and the user
   * (https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/auth-iam.html).
   */
  public grantConnect(grantee: iam.IGrantable, replicationGroupId: string, userIds: readonly string[]): iam.Grant {
    if (userIds.length === 0) throw new Error('CacheUsers.grantConnect: name at least one user');
    const rg = Arn.format({ service: 'elasticache', resource: 'replicationgroup', resourceName: replicationGroupId, arnFormat: ArnFormat.COLON_RESOURCE_NAME }, Stack.of(this));
    return iam.Grant.addToPrincipal({ grantee, actions: ['elasticache:Connect'], resourceArns: [rg, ...userIds.map((u) => this.userArn(u))] });
  }
}
