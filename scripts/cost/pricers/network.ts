/**
 * VPC pieces that are billed: NAT gateways (hours, plus data at a stated assumption), public IPv4
 * addresses (the NAT gateways' Elastic IPs), and interface endpoints per AZ (hours, plus data).
 * Gateway endpoints (S3) are free.
 */
import { line, type LineDraft } from '../line';
import type { Pricer } from '../types';

export const priceNatGateway: Pricer = (ref, ctx) => {
  const n = ctx.resources.filter((r) => r.resource.Type === 'AWS::EC2::NatGateway').length;
  const a = ctx.assumptions;
  return {
    lines: [
      line(ctx.prices, 'vpc.natGateway.hour', 'NAT gateway hours', ctx.prices.hoursPerMonth),
      line(ctx.prices, 'vpc.natGateway.gb', 'NAT gateway data processed', a.natProcessedGiB / n, `${a.natProcessedGiB} GiB a month across the environment's ${n} NAT gateway${n === 1 ? '' : 's'} (cost.assumptions.natProcessedGiB)`),
    ],
  };
};

export const priceEip: Pricer = (_ref, ctx) => ({ lines: [line(ctx.prices, 'vpc.publicIpv4.hour', 'public IPv4 address (Elastic IP)', ctx.prices.hoursPerMonth)] });

/** `secretsmanager` from `com.amazonaws.<region>.secretsmanager`, literal or joined with the region. */
export function serviceName(v: unknown): string {
  const strings: string[] = [];
  const walk = (x: unknown): void => {
    if (typeof x === 'string') strings.push(x);
    else if (Array.isArray(x)) x.forEach(walk);
    else if (x && typeof x === 'object') Object.entries(x).forEach(([k, y]) => k !== 'Ref' && walk(y));
  };
  walk(v);
  const last = strings.filter((x) => x !== '').pop() ?? '';
  return last.split('.').filter(Boolean).pop() ?? 'interface';
}

const isInterface = (t: unknown) => t === 'Interface';

export const priceVpcEndpoint: Pricer = (ref, ctx) => {
  const p = ref.resource.Properties ?? {};
  const type = p.VpcEndpointType ?? 'Gateway';
  if (type === 'Gateway') return { lines: [] };
  if (!isInterface(type)) return { notPriced: [`endpoint type ${String(type)} is not priced`] };
  const subnets = Array.isArray(p.SubnetIds) ? p.SubnetIds.length : undefined;
  if (!subnets) return { notPriced: ['interface endpoint without a literal SubnetIds list (AZ count unknown)'] };
  const n = ctx.resources.filter((r) => r.resource.Type === 'AWS::EC2::VPCEndpoint' && isInterface(r.resource.Properties?.VpcEndpointType)).length;
  const a = ctx.assumptions;
  const name = serviceName(p.ServiceName);
  const lines: LineDraft[] = [
    line(ctx.prices, 'vpc.interfaceEndpoint.hour', `${name} endpoint in ${subnets} AZ${subnets === 1 ? '' : 's'}`, ctx.prices.hoursPerMonth * subnets),
    line(ctx.prices, 'vpc.interfaceEndpoint.gb', `${name} endpoint data processed`, a.interfaceEndpointProcessedGiB / n, `${a.interfaceEndpointProcessedGiB} GiB a month across ${n} interface endpoints (cost.assumptions.interfaceEndpointProcessedGiB)`),
  ];
  return { lines };
};
