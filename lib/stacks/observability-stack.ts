import { Stack, type StackProps } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { monitorUserId, registeredNamespaces, type EnvironmentConfig } from '../config';
import type { AlertTopicMap } from '../constructs/alert-topics';
import type { Cache } from '../constructs/cache';
import type { Database } from '../constructs/database';
import { AccountEventRoutes } from '../constructs/account-event-routes';
import { CacheHealth } from '../constructs/cache-health';
import { DbHealth } from '../constructs/db-health';
import { cacheNodeIds, instanceClassSpec, rdsMaxConnections } from '../constructs/alarms';
import { PlatformDashboard } from '../constructs/dashboard';
import type { SlackNotifier } from '../constructs/slack-notifier';

export interface ObservabilityStackProps extends StackProps {
  /** The environment's validated config. */
  readonly config: EnvironmentConfig;
  /** The environment's VPC (for in-VPC probes). */
  readonly vpc: ec2.IVpc;
  /** Security group of in-VPC functions that reach PostgreSQL. */
  readonly dbClientSecurityGroup: ec2.ISecurityGroup;
  /** The database, for the dashboard and the db-health probe. */
  readonly database: Database;
  /** The cache, for the dashboard and the cache-health probe. */
  readonly cache: Cache;
  /** Alert topics. */
  readonly alertTopics: AlertTopicMap;
  /**
   * Secret of the monitoring role (`platform_monitor`, member of pg_monitor) that the db-health
   * probe logs in as, from the role-schema construct. Never the master secret: the probe is
   * read-only and gets read-only credentials.
   */
  readonly monitoringSecret: secretsmanager.ISecret;
  /** The Slack notifier, for the dashboard's alerting row. @default - no notifier row */
  readonly notifier?: SlackNotifier;
}

/**
 * Wiring only: the dashboard, scheduled probes and event rules. The alarms themselves belong to
 * the constructs that own the resources.
 */
export class ObservabilityStack extends Stack {
  /** The environment's CloudWatch dashboard. */
  public readonly dashboard: PlatformDashboard;
  /** The db-health probe, its alarms and the daily digest. */
  public readonly dbHealth: DbHealth;
  /** The cache-health probe, its alarms and the daily digest. */
  public readonly cacheHealth: CacheHealth;
  /** AWS Health and GuardDuty routes, when `alerting.routes` switches one on. */
  public readonly accountEvents?: AccountEventRoutes;

  constructor(scope: Construct, id: string, props: ObservabilityStackProps) {
    super(scope, id, props);
    const spec = instanceClassSpec(props.config.database.instanceClass);
    const c = props.config;
    this.cacheHealth = new CacheHealth(this, 'CacheHealth', {
      envName: c.name,
      vpc: props.vpc,
      cache: props.cache,
      monitorUserId: monitorUserId(c.name),
      keyPatterns: registeredNamespaces(c.cache.services, c.cache.mustExpire, c.roles.services),
      mustExpire: c.cache.mustExpire,
      settings: c.cacheHealth,
      memoryPercent: c.alarms.cacheMemoryPercent,
      alertTopics: props.alertTopics,
    });
    this.dashboard = new PlatformDashboard(this, 'Dashboard', {
      envName: props.config.name,
      database: props.database.instance,
      replica: props.database.replica,
      maxConnections: rdsMaxConnections(spec.memoryGiB),
      vcpus: spec.vcpus,
      cacheNodeIds: cacheNodeIds(props.cache.replicationGroup, props.config.cache.replicas),
      notifier: props.notifier,
      cacheHealth: this.cacheHealth,
    });
    this.dbHealth = new DbHealth(this, 'DbHealth', {
      envName: props.config.name,
      vpc: props.vpc,
      securityGroup: props.dbClientSecurityGroup,
      monitoringSecret: props.monitoringSecret,
      databaseHost: props.database.instance.dbInstanceEndpointAddress,
      databasePort: props.database.port,
      databaseName: props.database.databaseName,
      settings: props.config.dbHealth,
      appSchema: props.config.roles.appSchema,
      servicePrefixes: props.config.roles.services.map((s) => s.prefix),
      connectionsRatio: props.config.alarms.dbConnectionsRatio,
      alertTopics: props.alertTopics,
    });
    this.dashboard.dashboard.addWidgets(...this.dbHealth.widgets());
    if (c.alerting.routes.awsHealth || c.alerting.routes.guardDuty) {
      this.accountEvents = new AccountEventRoutes(this, 'AccountEvents', { envName: c.name, ...c.alerting.routes, topic: props.alertTopics.warning });
    }
    // The notifier adds Performance Insights' top wait events to database alarms (seed 003).
    const notifierRole = props.notifier?.function.function.role;
    if (notifierRole) props.database.grantPerformanceInsightsRead(notifierRole);
  }
}
