// How the claim routes appear in the app API's OpenAPI document (src/http/openapi.ts ROUTE_DOCS).
import { z } from 'zod';
import { ERROR_STATUS } from '../http/errors.js';

const codes = Object.keys(ERROR_STATUS) as [string, ...string[]];

const claimErrorBody = z
  .object({
    error: z.object({
      code: z.enum(codes),
      message: z.string(),
      issues: z
        .array(z.object({ code: z.string(), path: z.array(z.union([z.string(), z.number()])), message: z.string() }).loose())
        .optional(),
    }),
  })
  .meta({ id: 'ClaimErrorBody' });

const owner = z
  .object({
    name: z.string(),
    addresses: z.object({ gossip: z.string(), grpc: z.string(), app: z.string() }),
    serving: z.boolean(),
  })
  .nullable()
  .describe('the claimant as route answers name it; null when it is not in this member\'s view');

/** The fencing token of a claim as HTTP answers carry it. */
export const fenceField = z
  .string()
  .regex(/^[0-9]{1,20}$/)
  .describe('fencing token of the claim, a decimal string (up to 2^64-1): grows with each new owner of the id; refuse writes carrying a lower one (docs/ownership.md)');

export const claimView = z
  .object({
    id: z.string(),
    owner,
    ownerName: z.string(),
    claimedAtMs: z.int().min(0).describe("claimant's wall clock at the first claim (the tie-break of races)"),
    expiresAtMs: z.int().min(0).nullable().describe("claimant's wall clock when the claim lapses unless renewed; null: until released"),
    fence: fenceField,
  })
  .meta({ id: 'ClaimView' });


const claimResults = z.object({
  version: z.string(),
  results: z.array(
    z.object({
      id: z.string(),
      status: z.enum(['claimed', 'renewed', 'owned_elsewhere', 'limit', 'invalid', 'clock_skew']),
      claim: claimView.optional().describe('who holds the id after the call; absent for limit and invalid'),
      message: z.string().optional().describe('with limit: which bound this member reached (docs/ownership.md, "Bounds")'),
    }),
  ),
});

const localPage = z.object({
  ids: z.array(z.string()),
  next_page_token: z.string().describe('pass as page_token for the next page; "" on the last page'),
  version: z.string(),
});

export const CLAIM_ROUTE_DOCS = {
  'POST /v1/claims': {
    summary: 'Claim ids for this member',
    description: 'Claims (or renews) ids for this member: first claim wins cluster-wide, and route answers for them name this member until the claim expires, is released, or this member leaves or dies. docs/ownership.md.',
    tags: ['claims'],
    response: { 200: claimResults, 400: claimErrorBody, 501: claimErrorBody, 503: claimErrorBody },
  },
  'GET /v1/claims/local': {
    summary: 'Ids this member owns (GetLocalActorIds)',
    tags: ['claims'],
    response: { 200: localPage, 400: claimErrorBody, 501: claimErrorBody },
  },
  'GET /v1/claims/:id': {
    summary: 'Who holds a claim on an id',
    tags: ['claims'],
    response: { 200: claimView, 400: claimErrorBody, 404: claimErrorBody, 501: claimErrorBody },
  },
  'DELETE /v1/claims/:id': {
    summary: 'Release a claim this member holds',
    tags: ['claims'],
    response: { 200: z.object({ released: z.literal(true) }), 400: claimErrorBody, 404: claimErrorBody, 409: claimErrorBody, 501: claimErrorBody },
  },
};
