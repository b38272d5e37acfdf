/**
 * Following references inside the shared assembly: which resource a `Fn::GetAtt`, a cross-stack
 * `Fn::GetStackOutput` / `Fn::ImportValue` or a `Ref` points at, and a policy ARN rendered to a
 * readable string.
 */
import { stacksOf, templateJson } from './assembly';

export interface ResourceRef {
  /** Stack display name without the environment, e.g. `Alerting`. */
  readonly stack: string;
  readonly logicalId: string;
  readonly resource: { Type: string; Properties: Record<string, any> };
}

/** Every resource of one type in every stack of an environment. */
export function resourcesOfType(env: string, type: string): ResourceRef[] {
  return stacksOf(env).flatMap((s) => {
    const stack = s.displayName.split('/')[1];
    return Object.entries(templateJson(env, stack).Resources as Record<string, any>)
      .filter(([, r]) => r.Type === type)
      .map(([logicalId, resource]) => ({ stack, logicalId, resource }));
  });
}

/** The resource that `value` (used in stack `stack`) refers to, or undefined for anything else. */
export function referencedResource(env: string, stack: string, value: unknown): ResourceRef | undefined {
  if (value === null || typeof value !== 'object') return undefined;
  const v = value as Record<string, any>;
  const inStack = (s: string, id: string): ResourceRef | undefined => {
    const resource = templateJson(env, s).Resources[id];
    return resource ? { stack: s, logicalId: id, resource } : undefined;
  };
  if (v['Fn::GetAtt']) return inStack(stack, v['Fn::GetAtt'][0]);
  if (typeof v.Ref === 'string' && !v.Ref.startsWith('AWS::')) return inStack(stack, v.Ref);
  if (v['Fn::GetStackOutput']) {
    const { StackName, OutputName } = v['Fn::GetStackOutput'];
    const producer = stacksOf(env).find((s) => s.stackName === StackName);
    if (!producer) return undefined;
    const name = producer.displayName.split('/')[1];
    return referencedResource(env, name, templateJson(env, name).Outputs?.[OutputName]?.Value);
  }
  if (v['Fn::ImportValue']) {
    for (const s of stacksOf(env)) {
      const name = s.displayName.split('/')[1];
      for (const out of Object.values((templateJson(env, name).Outputs ?? {}) as Record<string, any>)) {
        if (JSON.stringify(out.Export?.Name) === JSON.stringify(v['Fn::ImportValue'])) return referencedResource(env, name, out.Value);
      }
    }
  }
  return undefined;
}

/** `{ Fn::Join: ['', ['arn:', { Ref: 'AWS::Partition' }, …]] }` → `arn:${AWS::Partition}:…`. */
export function renderArn(value: unknown): string {
  if (typeof value === 'string') return value;
  const v = value as Record<string, any>;
  if (v?.Ref) return `\${${v.Ref}}`;
  if (v?.['Fn::Join']) return (v['Fn::Join'][1] as unknown[]).map(renderArn).join(v['Fn::Join'][0]);
  return JSON.stringify(value);
}
