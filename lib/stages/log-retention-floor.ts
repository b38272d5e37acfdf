import { type IAspect } from 'aws-cdk-lib';
import * as logs from 'aws-cdk-lib/aws-logs';
import { type IConstruct } from 'constructs';

/**
 * Raises every log group's retention to at least `minDays` (one without a retention never expires
 * and is left alone). Applied to production stages so that Lambda, flow and
 * database logs alike meet the one-year retention control (Control Tower CT.CLOUDWATCH.PR.2)
 * without every construct having to know which environment it is in.
 */
export class LogRetentionFloor implements IAspect {
  constructor(private readonly minDays: number) {}

  public visit(node: IConstruct): void {
    if (!(node instanceof logs.CfnLogGroup)) return;
    const current = node.retentionInDays;
    if (typeof current === 'number' && current < this.minDays) node.retentionInDays = this.minDays;
  }
}
