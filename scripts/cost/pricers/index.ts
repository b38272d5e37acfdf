/**
 * Which pricer handles which resource type, and which types AWS does not bill for. A type in
 * neither table is listed as "not priced": an unknown type is never counted as zero.
 */
import type { Pricer } from '../types';
import { priceInstance, priceVolume } from './ec2';
import { priceCacheCluster, priceReplicationGroup } from './elasticache';
import { priceAlarm, priceCompositeAlarm, priceDashboard, priceFlowLog, priceLogGroup } from './monitoring';
import { priceEip, priceNatGateway, priceVpcEndpoint } from './network';
import { priceDbInstance } from './rds';
import { priceBackupPlan, priceKmsKey, priceLambda, priceQueue, priceSecret, priceServerlessApplication, priceTopic } from './services';

export const PRICERS: Readonly<Record<string, Pricer>> = {
  'AWS::RDS::DBInstance': priceDbInstance,
  'AWS::ElastiCache::ReplicationGroup': priceReplicationGroup,
  'AWS::ElastiCache::CacheCluster': priceCacheCluster,
  'AWS::EC2::Instance': priceInstance,
  'AWS::EC2::Volume': priceVolume,
  'AWS::EC2::NatGateway': priceNatGateway,
  'AWS::EC2::EIP': priceEip,
  'AWS::EC2::VPCEndpoint': priceVpcEndpoint,
  'AWS::EC2::FlowLog': priceFlowLog,
  'AWS::KMS::Key': priceKmsKey,
  'AWS::SecretsManager::Secret': priceSecret,
  'AWS::Backup::BackupPlan': priceBackupPlan,
  'AWS::CloudWatch::Alarm': priceAlarm,
  'AWS::CloudWatch::CompositeAlarm': priceCompositeAlarm,
  'AWS::CloudWatch::Dashboard': priceDashboard,
  'AWS::Logs::LogGroup': priceLogGroup,
  'AWS::Lambda::Function': priceLambda,
  'AWS::Serverless::Application': priceServerlessApplication,
  'AWS::SQS::Queue': priceQueue,
  'AWS::SNS::Topic': priceTopic,
};

const NETWORK_PLUMBING = 'VPC plumbing; no charge of its own';
const CONFIG = 'configuration; no charge of its own';

/** Types with no charge of their own, and why. */
export const NO_CHARGE: Readonly<Record<string, string>> = {
  'AWS::CDK::Metadata': 'CDK bookkeeping',
  'AWS::IAM::Role': 'IAM is free',
  'AWS::IAM::Policy': 'IAM is free',
  'AWS::IAM::ManagedPolicy': 'IAM is free',
  'AWS::IAM::InstanceProfile': 'IAM is free',
  'AWS::IAM::OIDCProvider': 'IAM is free',
  'AWS::EC2::VPC': NETWORK_PLUMBING,
  'AWS::EC2::Subnet': NETWORK_PLUMBING,
  'AWS::EC2::RouteTable': NETWORK_PLUMBING,
  'AWS::EC2::Route': NETWORK_PLUMBING,
  'AWS::EC2::SubnetRouteTableAssociation': NETWORK_PLUMBING,
  'AWS::EC2::InternetGateway': NETWORK_PLUMBING,
  'AWS::EC2::VPCGatewayAttachment': NETWORK_PLUMBING,
  'AWS::EC2::SecurityGroup': NETWORK_PLUMBING,
  'AWS::EC2::SecurityGroupIngress': NETWORK_PLUMBING,
  'AWS::EC2::SecurityGroupEgress': NETWORK_PLUMBING,
  'AWS::EC2::LaunchTemplate': CONFIG,
  'AWS::RDS::DBParameterGroup': CONFIG,
  'AWS::RDS::DBSubnetGroup': CONFIG,
  'AWS::RDS::EventSubscription': 'RDS event notifications are free (SNS delivery is priced on the topic)',
  'AWS::ElastiCache::ParameterGroup': CONFIG,
  'AWS::ElastiCache::SubnetGroup': CONFIG,
  'AWS::ElastiCache::User': CONFIG,
  'AWS::ElastiCache::UserGroup': CONFIG,
  'AWS::Lambda::Permission': CONFIG,
  'AWS::Lambda::EventSourceMapping': 'SQS polling by Lambda is billed as SQS requests (priced on the queue)',
  'AWS::SNS::Subscription': 'deliveries to Lambda, SQS and email (first 1,000) are free',
  'AWS::SNS::TopicPolicy': CONFIG,
  'AWS::SQS::QueuePolicy': CONFIG,
  'AWS::KMS::Alias': 'aliases are free',
  'AWS::SecretsManager::ResourcePolicy': CONFIG,
  'AWS::SecretsManager::RotationSchedule': 'rotation is free (the rotation function is priced)',
  'AWS::SecretsManager::SecretTargetAttachment': CONFIG,
  'AWS::Backup::BackupVault': 'storage is priced on the plan and the volumes',
  'AWS::Backup::BackupSelection': 'storage is priced on the plan and the volumes',
  'AWS::DLM::LifecyclePolicy': 'DLM is free; its snapshots are priced on the volumes',
  'AWS::Events::Rule': 'AWS service events and schedules are free on the default bus',
  'AWS::SSM::Parameter': 'standard-tier parameters are free',
  'AWS::Logs::ResourcePolicy': CONFIG,
  'AWS::Logs::SubscriptionFilter': CONFIG,
  'Custom::RoleSchema': 'custom resource; its provider functions are priced',
  'Custom::VpcRestrictDefaultSG': 'custom resource; its provider function is priced',
  'AWS::CloudFormation::CustomResource': 'custom resource; its provider function is priced',
};

/** Resource types that together come to cents a month in this app; the report says so. */
export const CENTS_TYPES: ReadonlySet<string> = new Set(['AWS::Lambda::Function', 'AWS::Serverless::Application', 'AWS::SQS::Queue', 'AWS::SNS::Topic', 'AWS::Events::Rule']);
