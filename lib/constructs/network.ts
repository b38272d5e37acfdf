import { RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';

/** Subnet group names; constructs select subnets by these, never by type. */
export const SUBNETS = {
  /** Load balancers and NAT gateways only; nothing gets a public IP automatically. */
  public: 'public',
  /** Workers and Lambdas: private, with egress through NAT. */
  app: 'app',
  /** Databases and caches: no route to the internet at all. */
  data: 'data',
} as const;

export interface NetworkProps {
  /** IPv4 CIDR of the VPC. */
  readonly cidr: string;
  /** Availability zones to span. */
  readonly maxAzs: number;
  /** NAT gateways; one per AZ removes the cross-AZ single point of failure. */
  readonly natGateways: number;
  /** Flow-log retention. */
  readonly flowLogRetention: logs.RetentionDays;
  /**
   * Interface endpoints in `every-az` (prod), in `one-az` (other AZs reach them across the AZ
   * boundary), or `none` (functions reach AWS APIs through NAT; cheapest). @default 'every-az'
   */
  readonly interfaceEndpoints?: 'every-az' | 'one-az' | 'none';
  /**
   * Use NAT instances of this type instead of managed NAT gateways (cheap profile only: no managed
   * failover, the instance patches itself). @default - managed NAT gateways
   */
  readonly natInstanceType?: ec2.InstanceType;
}

/**
 * The VPC, its flow logs, the interface endpoints the functions call, and the security groups
 * that identify who may reach the data tier.
 */
export class Network extends Construct {
  /** The VPC. */
  public readonly vpc: ec2.Vpc;
  /** Worker hosts; the only worker-side group the database and cache accept. */
  public readonly workerSecurityGroup: ec2.SecurityGroup;
  /** In-VPC Lambdas that must reach PostgreSQL (role schema, db-health). */
  public readonly dbClientSecurityGroup: ec2.SecurityGroup;
  /** Shared by the interface endpoints; allows HTTPS from the client groups. */
  public readonly endpointSecurityGroup: ec2.SecurityGroup;
  /** The Secrets Manager endpoint (rotation functions are told about it); none when `interfaceEndpoints` is `none`. */
  public readonly secretsManagerEndpoint?: ec2.InterfaceVpcEndpoint;

  constructor(scope: Construct, id: string, props: NetworkProps) {
    super(scope, id);
    if (props.natGateways > props.maxAzs) {
      throw new Error(`natGateways (${props.natGateways}) must not exceed maxAzs (${props.maxAzs})`);
    }
    // A NAT instance accepts traffic only from inside the VPC (added below), never from the internet.
    const natInstances = props.natInstanceType
      ? ec2.NatProvider.instanceV2({ instanceType: props.natInstanceType, defaultAllowedTraffic: ec2.NatTrafficDirection.OUTBOUND_ONLY, associatePublicIpAddress: true })
      : undefined;
    this.vpc = new ec2.Vpc(this, 'Vpc', {
      ipAddresses: ec2.IpAddresses.cidr(props.cidr),
      maxAzs: props.maxAzs,
      natGateways: props.natGateways,
      natGatewayProvider: natInstances,
      restrictDefaultSecurityGroup: true,
      subnetConfiguration: [
        { name: SUBNETS.public, subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24, mapPublicIpOnLaunch: false },
        { name: SUBNETS.app, subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 20 },
        { name: SUBNETS.data, subnetType: ec2.SubnetType.PRIVATE_ISOLATED, cidrMask: 24 },
      ],
      gatewayEndpoints: {
        // Free, and keeps SSM agent/package traffic to S3 off the NAT gateways.
        S3: { service: ec2.GatewayVpcEndpointAwsService.S3 },
      },
    });

    if (natInstances) this.hardenNatInstances(natInstances);

    const flowLogGroup = new logs.LogGroup(this, 'FlowLogs', {
      retention: props.flowLogRetention,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.vpc.addFlowLog('FlowLog', {
      destination: ec2.FlowLogDestination.toCloudWatchLogs(flowLogGroup),
      trafficType: ec2.FlowLogTrafficType.ALL,
    });

    this.workerSecurityGroup = new ec2.SecurityGroup(this, 'Workers', {
      vpc: this.vpc,
      description: 'Worker hosts: no inbound; outbound to the data tier, endpoints and NAT',
      allowAllOutbound: true,
    });
    this.dbClientSecurityGroup = new ec2.SecurityGroup(this, 'DbClients', {
      vpc: this.vpc,
      description: 'In-VPC functions that connect to PostgreSQL (role schema, db-health)',
      allowAllOutbound: true,
    });
    // Endpoints accept HTTPS only from the groups that call AWS APIs, not from the whole VPC CIDR.
    this.endpointSecurityGroup = new ec2.SecurityGroup(this, 'Endpoints', {
      vpc: this.vpc,
      description: 'Interface endpoints: HTTPS from workers and in-VPC functions',
      allowAllOutbound: false,
    });
    for (const [client, name] of [[this.workerSecurityGroup, 'workers'], [this.dbClientSecurityGroup, 'in-VPC functions']] as const) {
      this.endpointSecurityGroup.addIngressRule(client, ec2.Port.tcp(443), `HTTPS to AWS APIs from ${name}`);
    }

    const placement = props.interfaceEndpoints ?? 'every-az';
    if (placement === 'none') return;
    const endpointSubnets: ec2.SubnetSelection = placement === 'one-az'
      ? { subnetGroupName: SUBNETS.app, availabilityZones: [this.vpc.availabilityZones[0]] }
      : { subnetGroupName: SUBNETS.app };
    const endpoint = (name: string, service: ec2.InterfaceVpcEndpointAwsService) =>
      this.vpc.addInterfaceEndpoint(name, {
        service,
        subnets: endpointSubnets,
        privateDnsEnabled: true,
        open: false,
        securityGroups: [this.endpointSecurityGroup],
      });
    this.secretsManagerEndpoint = endpoint('SecretsManager', ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER);
    endpoint('CloudWatch', ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_MONITORING);
    endpoint('Logs', ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_LOGS);
    endpoint('Ssm', ec2.InterfaceVpcEndpointAwsService.SSM);
    endpoint('Kms', ec2.InterfaceVpcEndpointAwsService.KMS);
  }

  /** Inbound from the VPC only, an encrypted root volume, IMDSv2; the cheap-profile trade-offs acknowledged. */
  private hardenNatInstances(nat: ec2.NatInstanceProviderV2): void {
    nat.connections.allowFrom(ec2.Peer.ipv4(this.vpc.vpcCidrBlock), ec2.Port.allTraffic(), 'NAT for the private subnets');
    for (const instance of nat.gatewayInstances) {
      const cfn = instance.node.defaultChild as ec2.CfnInstance;
      // The provider exposes no block-device option; the AL2023 AMI's root is 8 GiB.
      cfn.blockDeviceMappings = [{ deviceName: '/dev/xvda', ebs: { encrypted: true, volumeType: 'gp3', volumeSize: 8, deleteOnTermination: true } }];
      cfn.metadataOptions = { httpTokens: 'required', httpEndpoint: 'enabled' };
      Validations.of(instance).acknowledge(
        { id: 'AwsSolutions-EC28', reason: 'Cheap profile NAT instance (network.nat = instance, refused in production): detailed monitoring would add ~$2/month; StatusCheckFailed at 5-minute resolution is enough for dev.' },
        { id: 'AwsSolutions-EC29', reason: 'Cheap profile NAT instance (refused in production): stateless, recreated by CloudFormation; termination protection would only block stack updates.' },
      );
    }
    const sg = nat.connections.securityGroups[0];
    if (sg) {
      Validations.of(sg).acknowledge({ id: 'AwsSolutions-EC23', reason: 'The only inbound rule is the VPC CIDR (an intrinsic, which the rule cannot evaluate); nothing outside the VPC may connect.' });
    }
  }
}
