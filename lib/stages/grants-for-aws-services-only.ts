import { type IAspect } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { type IConstruct } from 'constructs';

/**
 * Adds to every KMS key of the stage the statement Control Tower's CT.KMS.PR.3 asks for: deny
 * kms:CreateGrant to every principal unless the grant is for an AWS resource or the caller is an
 * AWS service (BoolIfExists on kms:GrantIsForAWSResource and aws:PrincipalIsAWSService, both
 * "false"). RDS, EBS, AWS Backup, Secrets Manager and DynamoDB create their grants through the
 * service (kms:GrantIsForAWSResource true), so they keep working; a person or function can no longer
 * hand out a grant of its own. https://docs.aws.amazon.com/controltower/latest/controlreference/kms-rules.html
 * and https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html#conditions-kms-grant-is-for-aws-resource
 */
export class GrantsForAwsServicesOnly implements IAspect {
  private readonly done = new WeakSet<kms.Key>();

  public visit(node: IConstruct): void {
    if (!(node instanceof kms.Key) || this.done.has(node)) return;
    this.done.add(node);
    node.addToResourcePolicy(new iam.PolicyStatement({
      sid: 'GrantsOnlyForAwsResources',
      effect: iam.Effect.DENY,
      principals: [new iam.AnyPrincipal()],
      actions: ['kms:CreateGrant'],
      resources: ['*'],
      conditions: { BoolIfExists: { 'kms:GrantIsForAWSResource': 'false', 'aws:PrincipalIsAWSService': 'false' } },
    }));
  }
}
