// What a member asks its shell to do: the SWIM core's effects plus the member's own.
import type { Effect, MemberRecord } from '../core/types.js';
import type { ClaimCallEffect } from './claims.js';

export type LogLevel = 'info' | 'warn';

export type MemberEffect =
  | Effect
  /** A periodic exchange by digest; answered like a Negotiate (negotiateAnswered / negotiateFailed). */
  | { readonly type: 'digest'; readonly to: string; readonly requestId: number; readonly state: readonly MemberRecord[] }
  /** Resolve the seeds and answer with seedsResolved(purpose, ...). */
  | { readonly type: 'resolve-seeds'; readonly purpose: 'join' | 'watch'; readonly attempt: number }
  /** The view changed: ask for the table of these owners (`live` members are held alive or suspect). */
  | { readonly type: 'view-changed'; readonly owners: readonly string[]; readonly live: number }
  /** The drain is over and the leave announced (its Closing calls and gossip are among these effects). */
  | { readonly type: 'leave-announced' }
  /** A claims announcement to a peer; answered with claimAnswered(callId, ack or Error). */
  | ClaimCallEffect
  | { readonly type: 'log'; readonly level: LogLevel; readonly message: string; readonly fields: Readonly<Record<string, unknown>> };

export function log(level: LogLevel, message: string, fields: Readonly<Record<string, unknown>> = {}): MemberEffect {
  return { type: 'log', level, message, fields };
}
