// Reads the reference vectors that live beside the repository (../shared/vectors). Missing vectors are
// a failure, never a skip: the placement tests mean nothing without them.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export function readSharedVectors<T>(file: string): T[] {
  const url = new URL(`../../../shared/vectors/${file}`, import.meta.url);
  let text: string;
  try {
    text = readFileSync(url, 'utf8');
  } catch (err) {
    throw new Error(
      `reference vectors missing: ${fileURLToPath(url)} (the repository must be cloned with shared/ beside it): ${(err as Error).message}`,
    );
  }
  const data: unknown = JSON.parse(text);
  if (!Array.isArray(data) || data.length === 0) throw new Error(`${file}: expected a non-empty JSON array`);
  return data as T[];
}
