// Page tokens for listing this member's claims (GetLocalActorIds, GET /v1/claims/local). A token is
// the last id of the previous page, base64url-encoded: listing resumes after it in sorted order, so a
// claim made or released between pages does not shift the pages around it.
import { strictUtf8Length } from '../codec/utf8.js';
import { MAX_CLAIM_ID_BYTES } from './types.js';

/** Longest token a valid id can produce (base64 of 255 bytes). */
export const MAX_PAGE_TOKEN_CHARS = Math.ceil((MAX_CLAIM_ID_BYTES * 4) / 3);

export function encodePageToken(lastId: string): string {
  return Buffer.from(lastId, 'utf8').toString('base64url');
}

/** The id to resume after ("" for the first page), or null when `token` is not one we issue. */
export function decodePageToken(token: string): string | null {
  if (token === '') return '';
  if (token.length > MAX_PAGE_TOKEN_CHARS || !/^[A-Za-z0-9_-]+$/.test(token)) return null;
  const id = Buffer.from(token, 'base64url').toString('utf8');
  const bytes = strictUtf8Length(id);
  if (bytes < 1 || bytes > MAX_CLAIM_ID_BYTES || encodePageToken(id) !== token) return null;
  return id;
}

/** 0 = the default; otherwise clamped to 1..max. */
export function resolvePageSize(requested: number, defaultSize: number, max: number): number {
  if (!Number.isInteger(requested) || requested <= 0) return Math.min(defaultSize, max);
  return Math.min(requested, max);
}
