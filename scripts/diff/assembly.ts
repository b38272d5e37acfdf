/**
 * Reads a synthesized cloud assembly (a `cdk.out` directory) without the CDK toolkit: the
 * top-level `manifest.json`, every nested Stage assembly it points to (`assembly-<env>/`), each
 * stack's template, the logical-ID-to-construct-path map from the stack metadata, and the asset
 * hashes from the asset manifests (so that asset-only changes can be told apart from real ones).
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

/** A CloudFormation template as plain JSON. */
export interface Template {
  Resources?: Record<string, TemplateResource>;
  [section: string]: unknown;
}

export interface TemplateResource {
  Type: string;
  Properties?: Record<string, unknown>;
  Metadata?: Record<string, unknown>;
  DeletionPolicy?: string;
  UpdateReplacePolicy?: string;
  [key: string]: unknown;
}

export interface StackArtifact {
  /** Hierarchical name, stable across synths: `dev/Data`, or `GitHubOidc` for a top-level stack. */
  readonly displayName: string;
  /** The Stage (environment) the stack belongs to: `dev`; `''` for a stack outside any Stage. */
  readonly environment: string;
  /** The stack's name inside its environment: `Data`. */
  readonly stackId: string;
  /** The deployed CloudFormation stack name: `dev-Data`. */
  readonly stackName: string;
  readonly template: Template;
  /** Logical ID -> construct path (`dev/Data/Database/Instance/Resource`), from metadata. */
  readonly paths: Readonly<Record<string, string>>;
}

export interface Assembly {
  readonly directory: string;
  readonly stacks: readonly StackArtifact[];
  /**
   * Every file and image asset the assembly publishes (stack templates excluded): its hash, and a
   * fingerprint of its content without source maps when the asset is on disk (see {@link fingerprint}).
   */
  readonly assets: ReadonlyMap<string, string | undefined>;
}

/** Thrown for a directory that is not a readable cloud assembly. */
export class AssemblyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AssemblyError';
  }
}

interface ManifestArtifact {
  type: string;
  displayName?: string;
  properties?: Record<string, unknown>;
  metadata?: Record<string, Array<{ type: string; data?: unknown }>>;
  additionalMetadataFile?: string;
}

interface Manifest {
  artifacts?: Record<string, ManifestArtifact>;
}

function readJson<T>(file: string, what: string): T {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new AssemblyError(`cannot read ${what} ${file}: ${(e as Error).message}`);
  }
  try {
    return JSON.parse(text) as T;
  } catch (e) {
    throw new AssemblyError(`${what} ${file} is not valid JSON: ${(e as Error).message}`);
  }
}

/** Reads `dir/manifest.json` and every nested assembly, recursively. */
export function readAssembly(dir: string): Assembly {
  const directory = path.resolve(dir);
  if (!fs.existsSync(path.join(directory, 'manifest.json'))) {
    throw new AssemblyError(`${directory} is not a cloud assembly (no manifest.json); synthesize with \`npx cdk synth -o ${dir}\``);
  }
  const stacks: StackArtifact[] = [];
  const assets = new Map<string, string | undefined>();
  collect(directory, stacks, assets, 0);
  stacks.sort((a, b) => a.displayName.localeCompare(b.displayName));
  const seen = new Set<string>();
  for (const s of stacks) {
    if (seen.has(s.displayName)) throw new AssemblyError(`two stacks named ${s.displayName} in ${directory}`);
    seen.add(s.displayName);
  }
  return { directory, stacks, assets };
}

function collect(dir: string, stacks: StackArtifact[], assets: Map<string, string | undefined>, depth: number): void {
  if (depth > 10) throw new AssemblyError(`nested assemblies deeper than 10 levels under ${dir}`);
  const manifest = readJson<Manifest>(path.join(dir, 'manifest.json'), 'assembly manifest');
  const templateHashes = new Set<string>();
  for (const [id, artifact] of Object.entries(manifest.artifacts ?? {})) {
    const props = artifact.properties ?? {};
    switch (artifact.type) {
      case 'cdk:cloud-assembly': {
        const nested = String(props.directoryName ?? id);
        collect(path.join(dir, nested), stacks, assets, depth + 1);
        break;
      }
      case 'aws:cloudformation:stack':
        stacks.push(readStack(dir, id, artifact));
        break;
      case 'cdk:asset-manifest':
        readAssetManifest(path.join(dir, String(props.file)), assets, templateHashes);
        break;
      default:
        break;
    }
  }
  // A stack's own template is published as a file asset too; it never appears inside a template.
  for (const h of templateHashes) assets.delete(h);
}

function readAssetManifest(file: string, assets: Map<string, string | undefined>, templateHashes: Set<string>): void {
  const m = readJson<{ files?: Record<string, { source?: { path?: string } }>; dockerImages?: Record<string, unknown> }>(file, 'asset manifest');
  for (const [hash, entry] of Object.entries(m.files ?? {})) {
    const source = entry.source?.path;
    if (source?.endsWith('.template.json')) templateHashes.add(hash);
    else if (!assets.has(hash)) assets.set(hash, source ? fingerprint(path.resolve(path.dirname(file), source)) : undefined);
  }
  for (const hash of Object.keys(m.dockerImages ?? {})) if (!assets.has(hash)) assets.set(hash, undefined);
}

/**
 * A fingerprint of an asset's content, source maps left out; undefined when it is not on disk.
 *
 * Two checkouts of the same code in different directories bundle to the same JavaScript but to
 * different source maps (their `sources` are paths relative to the output), so their asset hashes
 * differ although nothing a reviewer cares about changed. `--base` always builds the base in
 * another directory, so every Lambda would look changed. Comparing fingerprints instead of hashes
 * tells a new bundle from a relocated one.
 */
export function fingerprint(assetPath: string): string | undefined {
  if (!fs.existsSync(assetPath)) return undefined;
  const h = crypto.createHash('sha256');
  const walk = (abs: string, rel: string) => {
    if (fs.statSync(abs).isDirectory()) {
      for (const e of fs.readdirSync(abs).sort()) walk(path.join(abs, e), rel ? `${rel}/${e}` : e);
    } else if (!abs.endsWith('.map')) {
      h.update(rel).update('\0').update(fs.readFileSync(abs)).update('\0');
    }
  };
  walk(assetPath, '');
  return h.digest('hex').slice(0, 16);
}

function readStack(dir: string, id: string, artifact: ManifestArtifact): StackArtifact {
  const props = artifact.properties ?? {};
  const templateFile = String(props.templateFile ?? `${id}.template.json`);
  const template = readJson<Template>(path.join(dir, templateFile), 'stack template');
  const displayName = artifact.displayName ?? id;
  const slash = displayName.lastIndexOf('/');
  const environment = slash < 0 ? '' : displayName.slice(0, slash);
  const stackId = slash < 0 ? displayName : displayName.slice(slash + 1);

  const paths: Record<string, string> = {};
  const addMetadata = (entries: Record<string, Array<{ type: string; data?: unknown }>> | undefined) => {
    for (const [constructPath, list] of Object.entries(entries ?? {})) {
      for (const e of list) {
        if (e.type === 'aws:cdk:logicalId' && typeof e.data === 'string') paths[e.data] = constructPath.replace(/^\//, '');
      }
    }
  };
  addMetadata(artifact.metadata);
  if (artifact.additionalMetadataFile) {
    const file = path.join(dir, artifact.additionalMetadataFile);
    if (fs.existsSync(file)) addMetadata(readJson(file, 'stack metadata'));
  }
  // `aws:cdk:path` in the template wins: it is what `cdk diff` shows.
  for (const [logicalId, r] of Object.entries(template.Resources ?? {})) {
    const p = r?.Metadata?.['aws:cdk:path'];
    if (typeof p === 'string') paths[logicalId] = p;
  }
  return { displayName, environment, stackId, stackName: String(props.stackName ?? id), template, paths };
}
