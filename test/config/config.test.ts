import { ENVIRONMENTS, loadEnvironment, parseServiceRegistry, roleNames, DEFAULT_SERVICES, ConfigError } from '../../lib/config';

/** A deep copy of an environment's raw config with `path` set to `value`. */
function withValue(env: keyof typeof ENVIRONMENTS, path: string, value: unknown): unknown {
  const raw = structuredClone(ENVIRONMENTS[env]) as Record<string, any>;
  const keys = path.split('.');
  let o = raw;
  for (const k of keys.slice(0, -1)) o = o[k] ??= {};
  if (value === undefined) delete o[keys[keys.length - 1]];
  else o[keys[keys.length - 1]] = value;
  return raw;
}

describe('environment config', () => {
  test.each(Object.keys(ENVIRONMENTS))('%s is valid as shipped', (name) => {
    const c = loadEnvironment(name, ENVIRONMENTS[name as keyof typeof ENVIRONMENTS]);
    expect(c.name).toBe(name);
    expect(c.roles.services).toHaveLength(12);
  });

  test('the default registry is seed 004: twelve services, gt_ … al_', () => {
    const prefixes = DEFAULT_SERVICES.map((s) => s.prefix);
    expect(prefixes).toEqual(['gt_', 'ag_', 'sc_', 'lg_', 'nf_', 'ob_', 'md_', 'gm_', 'pm_', 'rq_', 'it_', 'al_']);
    expect(roleNames('gt_')).toEqual({ own: 'gtown', app: 'gtapp', user: 'gtuser' });
  });

  test('account and region are optional: environment-agnostic by default', () => {
    const c = loadEnvironment('prod', ENVIRONMENTS.prod);
    expect(c.account).toBeUndefined();
    expect(c.region).toBeUndefined();
  });

  // One row per validation rule: [env, field, bad value, message fragment]
  test.each([
    ['dev', 'database.port', 5432, /database\.port: must not be the default 5432 \(got 5432\)/],
    ['dev', 'database.port', 80, /database\.port: .*(>=|greater|at least|too small).*\(got 80\)/i],
    ['dev', 'database.instanceClass', 'db.t4g.medium', /database\.instanceClass: must look like "t4g\.medium"/],
    ['dev', 'database.backupRetentionDays', 36, /database\.backupRetentionDays/],
    ['dev', 'database.maxAllocatedStorageGiB', 10, /database\.maxAllocatedStorageGiB/],
    ['dev', 'database.monitoringIntervalSeconds', 7, /database\.monitoringIntervalSeconds/],
    ['dev', 'database.performanceInsightsRetentionDays', 30, /performanceInsightsRetentionDays: must be 7, 731 or a multiple of 31/],
    ['dev', 'database.masterUsername', 'postgres', /database\.masterUsername: is reserved on RDS/],
    ['dev', 'database.databaseName', 'Bad-Name', /database\.databaseName: must be a lower-case SQL identifier/],
    ['dev', 'network.cidr', '10.0.0.0/8', /network\.cidr: must be an IPv4 CIDR between \/16 and \/24/],
    ['dev', 'network.natGateways', 3, /network\.natGateways: must not exceed maxAzs \(2\)/],
    ['dev', 'cache.engine', 'memcached', /cache\.engine/],
    ['dev', 'cache.engineVersion', '7', /cache\.engineVersion: must be major\.minor/],
    ['dev', 'cache.replicas', 9, /cache\.replicas/],
    ['dev', 'workers.instanceType', 't3.medium', /workers\.instanceType: must be a Graviton/],
    ['dev', 'workers.snapshotIntervalHours', 5, /workers\.snapshotIntervalHours/],
    ['dev', 'backup.retentionDays', 0, /backup\.retentionDays/],
    ['dev', 'alarms.dbCpuPercent', 120, /alarms\.dbCpuPercent/],
    ['dev', 'alarms.dbConnectionsRatio', 1.5, /alarms\.dbConnectionsRatio/],
    ['dev', 'alerting.criticalMention', '@oncall', /alerting\.criticalMention: must be "none", "here", "channel" or a Slack user-group ID/],
    ['dev', 'alerting.slackWebhookSecrets.critical', 'has spaces', /alerting\.slackWebhookSecrets\.critical: must be a valid Secrets Manager secret name/],
    ['dev', 'alerting.alertEmail', 'not-an-email', /alerting\.alertEmail/],
    ['dev', 'alerting.slack.runbookUrlBase', 'http://github.com/acme/infra', /alerting\.slack\.runbookUrlBase: must be an https URL/],
    ['dev', 'alerting.slack.mode', 'app', /alerting\.slack\.botTokenSecret: is required when mode is "app"[\s\S]*alerting\.slack\.channels: is required/],
    ['dev', 'alerting.slack.channels', { critical: '#alerts', warning: 'C0123ABCDE', info: 'C0123ABCDE' }, /alerting\.slack\.channels\.critical: must be a Slack channel ID/],
    ['dev', 'alerting.slack.rethreadAfterMinutes', 1, /alerting\.slack\.rethreadAfterMinutes/],
    ['dev', 'dbHealth.scheduleMinutes', 0, /dbHealth\.scheduleMinutes/],
    ['dev', 'account', '1234', /account: must be a 12-digit AWS account ID/],
    ['dev', 'region', 'seoul', /region: must be an AWS region/],
    ['dev', 'account', '123456789012', /region: set both account and region, or neither/],
    ['dev', 'roles.appSchema', 'App Schema', /roles\.appSchema: must be a lower-case SQL identifier/],
    ['prod', 'database.multiAz', false, /database\.multiAz: must be true in a production environment/],
    ['prod', 'database.deletionProtection', false, /database\.deletionProtection: must be true in a production environment/],
    ['prod', 'cache.replicas', 0, /cache\.replicas: must be at least 1 in a production environment/],
    ['prod', 'network.nat', 'instance', /network\.nat: must be "gateway" in a production environment/],
    ['prod', 'network.interfaceEndpoints', 'none', /network\.interfaceEndpoints: must be "every-az" in a production environment/],
    ['prod', 'network.interfaceEndpoints', 'one-az', /network\.interfaceEndpoints: must be "every-az" in a production environment/],
    ['dev', 'network.nat', 'nat-box', /network\.nat/],
    ['dev', 'network.interfaceEndpoints', 'some-az', /network\.interfaceEndpoints/],
    ['dev', 'cost.assumptions.natProcessedGiB', -1, /cost\.assumptions\.natProcessedGiB/],
    ['dev', 'cost.flagIncreaseShare', 0, /cost\.flagIncreaseShare/],
    ['dev', 'database.unknownKey', 1, /database: Unrecognized key/i],
    ['dev', 'workers', undefined, /workers: .*(expected object|Required|received undefined)/i],
  ])('%s: %s = %j is rejected', (env, field, value, message) => {
    const raw = withValue(env as keyof typeof ENVIRONMENTS, field, value);
    expect(() => loadEnvironment(env, raw)).toThrow(ConfigError);
    expect(() => loadEnvironment(env, raw)).toThrow(new RegExp(`Invalid config for environment "${env}"`));
    expect(() => loadEnvironment(env, raw)).toThrow(message);
  });

  test('prod cannot synthesize without an alert email (the independent alert path)', () => {
    expect(() => loadEnvironment('prod', withValue('prod', 'alerting.alertEmail', undefined))).toThrow(
      /alerting\.alertEmail: is required in a production environment.*-c prod:alertEmail=… \/ PLATFORM_PROD_ALERT_EMAIL/,
    );
    // dev and staging may leave it out.
    expect(loadEnvironment('dev', withValue('dev', 'alerting.alertEmail', undefined)).alerting.alertEmail).toBeUndefined();
  });

  // RFC 2606 / RFC 6761 reserve these domains; mail to them goes nowhere.
  test.each(['oncall@example.com', 'a@EXAMPLE.org', 'x@sub.example.net', 'ops@corp.example', 'ops@mail.test', 'ops@nowhere.invalid', 'ops@localhost'])(
    'bound to an account, prod refuses the placeholder %s, naming the overrides',
    (email) => {
      const raw = { ...(withValue('prod', 'alerting.alertEmail', email) as object), account: '123456789012', region: 'ap-northeast-2' };
      expect(() => loadEnvironment('prod', raw)).toThrow(/alerting\.alertEmail: is a placeholder on a reserved domain .*account 123456789012.*-c prod:alertEmail=… or PLATFORM_PROD_ALERT_EMAIL/);
    },
  );

  test.each(['oncall@company.com', 'ops@example.com.kr', 'ops@myexample.com', 'ops@testing.io'])('bound to an account, prod accepts the real address %s', (email) => {
    const raw = { ...(withValue('prod', 'alerting.alertEmail', email) as object), account: '123456789012', region: 'ap-northeast-2' };
    expect(loadEnvironment('prod', raw).alerting.alertEmail).toBe(email);
  });

  test("the shipped prod placeholder synthesizes offline (no account) but is not deployable", () => {
    expect(loadEnvironment('prod', ENVIRONMENTS.prod).alerting.alertEmail).toMatch(/@example\.com$/);
  });

  test('the environment key and the name must agree', () => {
    expect(() => loadEnvironment('qa', ENVIRONMENTS.dev)).toThrow(/environment "qa".*\n.*name: must equal the environment key "qa"/);
  });
});

describe('service registry', () => {
  test.each([
    [[{ name: 'gatherer', prefix: 'gt' }], /services\[0\]\.prefix: prefix must be 2–8 lower-case letters followed by "_"/],
    [[{ name: 'gatherer', prefix: 'GT_' }], /services\[0\]\.prefix/],
    [[{ name: 'gatherer', prefix: 'g_' }], /services\[0\]\.prefix/],
    [[{ name: 'gatherer', prefix: 'abcdefghi_' }], /services\[0\]\.prefix/],
    [[{ name: 'gatherer', prefix: 'g1_' }], /services\[0\]\.prefix/],
    [[{ name: 'a', prefix: 'gt_' }, { name: 'b', prefix: 'gt_' }], /services\[1\]\.prefix: duplicate prefix "gt_" \(also used by services\[0\] "a"\)/],
    [[{ name: 'a', prefix: 'gt_' }, { name: 'a', prefix: 'ag_' }], /services\[1\]\.name: duplicate service name "a"/],
    [[{ name: 'a', prefix: 'gt_', auth: 'kerberos' }], /services\[0\]\.auth/],
    [[], /at least one service/],
  ])('%j is rejected', (services, message) => {
    expect(() => parseServiceRegistry(services)).toThrow(message);
  });

  test('a bad registry entry fails the environment config too, naming the field', () => {
    const raw = withValue('staging', 'roles.services', [{ name: 'x', prefix: 'x_' }]);
    expect(() => loadEnvironment('staging', raw)).toThrow(/environment "staging"[\s\S]*roles\.services\[0\]\.prefix/);
  });

  test('auth defaults to password, iam is accepted', () => {
    expect(parseServiceRegistry([{ name: 'alpha', prefix: 'ab_' }, { name: 'beta', prefix: 'cd_', auth: 'iam' }]).map((s) => s.auth)).toEqual(['password', 'iam']);
  });
});
