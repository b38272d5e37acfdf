import { Stack, Token } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

/**
 * The ARN as cdk-nag prints it inside a finding ID such as `AwsSolutions-IAM5[Resource::…]`:
 * unresolved pseudo-parameters appear as `<AWS::Region>`, known ones as their value. An
 * environment-agnostic stack and one bound to an account therefore need different IDs; building
 * the ID here keeps an acknowledgement valid in both (`-c prod:account=…` must not break synth).
 */
export function nagArn(scope: IConstruct, service: string, resource: string): string {
  const stack = Stack.of(scope);
  const show = (value: string, token: string) => (Token.isUnresolved(value) ? `<${token}>` : value);
  const region = show(stack.region, 'AWS::Region');
  const account = show(stack.account, 'AWS::AccountId');
  const partition = show(stack.partition, 'AWS::Partition');
  return `arn:${partition}:${service}:${region}:${account}:${resource}`;
}
