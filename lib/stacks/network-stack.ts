import { Fn, Stack, type StackProps } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { EnvironmentConfig } from '../config';
import { Network } from '../constructs/network';

export interface NetworkStackProps extends StackProps {
  /** The environment's validated config. */
  readonly config: EnvironmentConfig;
}

/** VPC, endpoints, flow logs and the client security groups of one environment. */
export class NetworkStack extends Stack {
  public readonly vpc: ec2.IVpc;
  public readonly workerSecurityGroup: ec2.ISecurityGroup;
  public readonly dbClientSecurityGroup: ec2.ISecurityGroup;
  /** Undefined when the environment has no interface endpoints (`network.interfaceEndpoints: 'none'`). */
  public readonly secretsManagerEndpoint?: ec2.IInterfaceVpcEndpoint;
  private azCount: number;

  constructor(scope: Construct, id: string, props: NetworkStackProps) {
    super(scope, id, props);
    const { network } = props.config;
    this.azCount = network.maxAzs;
    const net = new Network(this, 'Network', {
      cidr: network.cidr,
      maxAzs: network.maxAzs,
      natGateways: network.natGateways,
      flowLogRetention: network.flowLogRetentionDays as logs.RetentionDays,
      interfaceEndpoints: network.interfaceEndpoints ?? (props.config.production ? 'every-az' : 'one-az'),
      natInstanceType: network.nat === 'instance' ? new ec2.InstanceType('t4g.nano') : undefined,
    });
    this.vpc = net.vpc;
    this.workerSecurityGroup = net.workerSecurityGroup;
    this.dbClientSecurityGroup = net.dbClientSecurityGroup;
    this.secretsManagerEndpoint = net.secretsManagerEndpoint;
  }

  /**
   * AZs as `Fn::GetAZs` selections, whether or not the stack has an account/region. CDK gives an
   * environment-agnostic stack only two AZs and an environment-bound one a context lookup (which
   * needs credentials at synth); this gives prod its three AZs with neither.
   */
  public override get availabilityZones(): string[] {
    return Array.from({ length: this.azCount }, (_, i) => Fn.select(i, Fn.getAzs()));
  }
}
