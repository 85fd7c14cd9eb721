/**
 * What each milestone does in each connector, made safe to repeat: the entry
 * point processors import. Each effect lives in its own module: reduce.ts
 * (`reduce`, `restore`), revoke.ts (disable first, then the rest), verify.ts,
 * reinstate.ts (enable first, then the snapshots back);
 * run.ts and removal.ts hold what they share.
 */
export { reduceAccess, restoreAccess } from './reduce.ts';
export { type ReinstateOutcome, reinstateAccess } from './reinstate.ts';
export { revokeAccess, revokeTookEffect } from './revoke.ts';
export { type ConnectorOutcome, type EffectDeps, EffectFailure, type EffectName } from './run.ts';
export { verifyAccess } from './verify.ts';
