import { auditLogGroupEvidence, statefulReason } from '../../../scripts/diff/stateful';

describe('statefulReason', () => {
  test.each([
    ['AWS::RDS::DBInstance', {}, undefined, /RDS DB instance/],
    ['AWS::RDS::DBInstance', { SourceDBInstanceIdentifier: { Ref: 'Primary' } }, undefined, /read replica/],
    ['AWS::ElastiCache::ReplicationGroup', {}, undefined, /ElastiCache replication group/],
    ['AWS::EC2::Volume', {}, undefined, /EBS volume/],
    ['AWS::KMS::Key', {}, undefined, /KMS key/],
    ['AWS::SecretsManager::Secret', {}, 'Delete', /Secrets Manager secret/],
    ['AWS::Backup::BackupVault', {}, undefined, /Backup vault/],
    ['AWS::S3::Bucket', {}, 'Retain', /DeletionPolicy Retain/],
    ['AWS::DynamoDB::Table', {}, 'Snapshot', /DeletionPolicy Snapshot/],
    ['AWS::SQS::Queue', {}, 'RetainExceptOnCreate', /DeletionPolicy RetainExceptOnCreate/],
  ])('%s %j (DeletionPolicy %s) is stateful', (Type, Properties, DeletionPolicy, reason) => {
    expect(statefulReason({ Type, Properties, DeletionPolicy })).toMatch(reason);
  });

  test.each([
    ['AWS::SNS::Topic', {}, undefined],
    ['AWS::CloudWatch::Alarm', {}, undefined],
    ['AWS::SQS::Queue', {}, 'Delete'],
    ['AWS::IAM::Role', {}, undefined],
    // aws-cdk-lib retains every log group by default, so Retain alone does not make one stateful.
    ['AWS::Logs::LogGroup', { RetentionInDays: 30 }, 'Retain'],
    ['AWS::Logs::LogGroup', { LogGroupName: '/aws/lambda/notifier' }, 'Retain'],
    ['AWS::Logs::LogGroup', { LogGroupName: '/platform/auditor-bot' }, 'Retain'],
  ])('%s %j (DeletionPolicy %s) is not stateful', (Type, Properties, DeletionPolicy) => {
    expect(statefulReason({ Type, Properties, DeletionPolicy })).toBeUndefined();
  });

  test('undefined or malformed resources are not stateful', () => {
    expect(statefulReason(undefined)).toBeUndefined();
    expect(statefulReason({} as never)).toBeUndefined();
  });
});

describe('audit log groups', () => {
  test.each([
    [{ Tags: [{ Key: 'data-classification', Value: 'audit' }] }, /tag data-classification=audit/],
    [{ Tags: [{ Key: 'team', Value: 'x' }, { Key: 'data-classification', Value: 'AUDIT' }] }, /tag/],
    [{ LogGroupName: '/platform/prod/audit' }, /name \/platform\/prod\/audit/],
    [{ LogGroupName: '/platform/prod/audit/connections' }, /name/],
    [{ LogGroupName: 'db-audit-logs' }, /name/],
    [{ LogGroupName: '/platform/audits' }, /name/],
    [{ LogGroupName: '/aws/rds/instance/platform-prod/postgresql' }, /RDS PostgreSQL log export/],
    [{ LogGroupName: '/aws/rds/cluster/platform-prod/postgresql' }, /RDS PostgreSQL log export/],
    [{ LogGroupName: { 'Fn::Sub': '/platform/${Env}/audit' } }, /name \/platform\/\$\{Env\}\/audit/],
    [{ LogGroupName: { 'Fn::Join': ['', ['/platform/', { Ref: 'AWS::StackName' }, '/audit']] } }, /name \/platform\/\$\{token\}\/audit/],
    [{ LogGroupName: { 'Fn::Join': ['', ['/aws/rds/instance/', { Ref: 'Db' }, '/postgresql']] } }, /RDS PostgreSQL log export/],
  ])('%j is an audit log group', (props, evidence) => {
    expect(auditLogGroupEvidence(props)).toMatch(evidence);
    expect(statefulReason({ Type: 'AWS::Logs::LogGroup', Properties: props, DeletionPolicy: 'Retain' })).toMatch(/audit data/);
  });

  test.each([
    [{}],
    [{ Tags: [{ Key: 'data-classification', Value: 'internal' }] }],
    [{ LogGroupName: '/aws/rds/instance/platform-prod/upgrade' }],
    [{ LogGroupName: '/platform/auditorium' }],
    [{ LogGroupName: { Ref: 'NameParameter' } }],
  ])('%j is not an audit log group', (props) => {
    expect(auditLogGroupEvidence(props)).toBeUndefined();
  });
});
