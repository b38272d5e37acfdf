/** Reads and validates the pinned price file of a region. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { priceFileSchema, type PriceFile } from './schema';

export const PRICES_DIR = __dirname;

/** Regions with a price file. */
export function pricedRegions(): string[] {
  return fs
    .readdirSync(PRICES_DIR)
    .filter((f) => /^[a-z]{2}(-gov)?-[a-z]+-\d\.json$/.test(f))
    .map((f) => f.replace(/\.json$/, ''))
    .sort();
}

export class PriceFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PriceFileError';
  }
}

/** Parses a price file's JSON text; throws PriceFileError naming the file and every bad field. */
export function parsePriceFile(text: string, name: string): PriceFile {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new PriceFileError(`${name} is not valid JSON: ${(e as Error).message}`);
  }
  const r = priceFileSchema.safeParse(raw);
  if (!r.success) {
    const lines = r.error.issues.map((i) => `  - ${i.path.map(String).join('.') || '(root)'}: ${i.message}`);
    throw new PriceFileError(`${name} does not match the price file schema:\n${lines.join('\n')}`);
  }
  return r.data;
}

/** The validated price file of `region`; throws PriceFileError if there is none. */
export function loadPrices(region: string): PriceFile {
  const file = path.join(PRICES_DIR, `${region}.json`);
  if (!/^[a-z]{2}(-gov)?-[a-z]+-\d$/.test(region) || !fs.existsSync(file)) {
    throw new PriceFileError(`no price file for region "${region}"; priced regions: ${pricedRegions().join(', ')} (add scripts/cost/prices/${region}.json)`);
  }
  const prices = parsePriceFile(fs.readFileSync(file, 'utf8'), path.relative(process.cwd(), file) || file);
  if (prices.region !== region) throw new PriceFileError(`${file} says region "${prices.region}", expected "${region}"`);
  return prices;
}
