/**
 * KMS keys, Secrets Manager secrets, AWS Backup storage of the plan's RDS recovery points, and the
 * request-priced services (Lambda, SQS, SNS), which come to cents at this app's volumes.
 */
import { line, num, refsIn, str, type LineDraft } from '../line';
import type { Pricer } from '../types';

export const priceKmsKey: Pricer = (ref, ctx) => {
  const p = ref.resource.Properties ?? {};
  const rotation = p.EnableKeyRotation === true ? ', automatic rotation (each of the first two rotations adds $1/month, not counted)' : '';
  return { lines: [line(ctx.prices, 'kms.key', `customer-managed key${rotation}`, 1)] };
};

export const priceSecret: Pricer = (_ref, ctx) => ({ lines: [line(ctx.prices, 'secretsManager.secret', 'secret', 1)] });

/**
 * AWS Backup recovery points of the RDS instances in the plan's selections (EBS volumes in the plan
 * share blocks with their DLM snapshots and are priced on the volume).
 */
export const priceBackupPlan: Pricer = (ref, ctx) => {
  const rules = ((ref.resource.Properties?.BackupPlan as { BackupPlanRule?: Array<{ Lifecycle?: { DeleteAfterDays?: unknown } }> } | undefined)?.BackupPlanRule) ?? [];
  const days = Math.max(0, ...rules.map((r) => num(r.Lifecycle?.DeleteAfterDays) ?? 0));
  const lines: LineDraft[] = [];
  const notPriced: string[] = [];
  const a = ctx.assumptions;
  for (const sel of ctx.resources.filter((r) => r.resource.Type === 'AWS::Backup::BackupSelection' && refsIn(r.resource.Properties?.BackupPlanId).has(ref.logicalId))) {
    const targets = refsIn((sel.resource.Properties?.BackupSelection as { Resources?: unknown } | undefined)?.Resources);
    for (const id of targets) {
      const db = ctx.find(sel.stack, id);
      if (db?.resource.Type !== 'AWS::RDS::DBInstance') continue;
      const allocated = num(db.resource.Properties?.AllocatedStorage);
      if (allocated === undefined) {
        notPriced.push(`recovery points of ${id}: AllocatedStorage is not a literal`);
        continue;
      }
      const used = (allocated * a.dbStorageUsedPercent) / 100;
      const stored = used * (1 + (a.dbDailyChangePercent / 100) * days);
      lines.push(
        line(ctx.prices, 'backup.rds', `recovery points of ${str(db.resource.Properties?.DBInstanceIdentifier) ?? id}, kept ${days} days`, stored, `${a.dbStorageUsedPercent}% of ${allocated} GiB used, ${a.dbDailyChangePercent}% changed a day (cost.assumptions.dbStorageUsedPercent, dbDailyChangePercent)`),
      );
    }
  }
  return { lines, notPriced };
};

export const priceLambda: Pricer = (ref, ctx) => {
  const p = ref.resource.Properties ?? {};
  const a = ctx.assumptions;
  const memGb = (num(p.MemorySize) ?? 128) / 1024;
  const arch = Array.isArray(p.Architectures) && p.Architectures[0] === 'arm64' ? 'arm64' : 'x86_64';
  const gbSeconds = a.lambdaInvocationsPerFunction * (a.lambdaAverageMs / 1000) * memGb;
  const why = `${a.lambdaInvocationsPerFunction.toLocaleString('en-US')} invocations of ${a.lambdaAverageMs} ms a month (cost.assumptions.lambdaInvocationsPerFunction, lambdaAverageMs)`;
  return {
    lines: [
      line(ctx.prices, 'lambda.requests', 'Lambda requests', a.lambdaInvocationsPerFunction / 1e6, why),
      line(ctx.prices, `lambda.gbSecond.${arch}`, `Lambda compute (${Math.round(memGb * 1024)} MB, ${arch})`, gbSeconds, why),
    ],
  };
};

/** The Secrets Manager rotation function deployed from the Serverless Application Repository: runs once per rotation. */
export const priceServerlessApplication: Pricer = (_ref, ctx) => ({
  lines: [line(ctx.prices, 'lambda.requests', 'rotation function (nested SAR stack): a few invocations a month', 10 / 1e6, 'about 10 invocations a month (one rotation, four steps each, retries)')],
});

export const priceQueue: Pricer = (_ref, ctx) => {
  const m = ctx.assumptions.messagesPerMonth;
  return { lines: [line(ctx.prices, 'sqs.requests', 'SQS requests (send, receive, delete)', (3 * m) / 1e6, `${m.toLocaleString('en-US')} messages a month (cost.assumptions.messagesPerMonth)`)] };
};

export const priceTopic: Pricer = (_ref, ctx) => {
  const m = ctx.assumptions.messagesPerMonth;
  return { lines: [line(ctx.prices, 'sns.requests', 'SNS publishes', m / 1e6, `${m.toLocaleString('en-US')} messages a month (cost.assumptions.messagesPerMonth)`)] };
};
