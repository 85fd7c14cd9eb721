/**
 * What a lastday process does: several processes may share one Redis, each
 * with some of the roles. `api` serves HTTP; `worker` runs the HR-event,
 * milestone and action workers; `scheduler` runs the crons (their job
 * schedulers, the `ops` worker and the cron watchdog).
 */
export const ROLE_NAMES = ['api', 'worker', 'scheduler'] as const;
export type RuntimeRole = (typeof ROLE_NAMES)[number];
