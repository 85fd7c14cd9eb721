/**
 * `lastday run reconcile|roster-sync|overdue|hold-expiry|retention`: the cron work, run
 * in this process for an external scheduler (Kubernetes CronJob, systemd
 * timer), on Redis directly. Waits for completion, shows progress on stderr,
 * prints the result. Exit codes: 0 done; 1 failed (or reconcile could not
 * repair someone); 3 `overdue` found overdue milestones (so a monitor can page on it).
 */
import type { Command } from 'commander';
import { type CliIo, EXIT, print, usageError } from '../io.ts';

/** For `--help` without loading the tasks; checked against jobs/ops/tasks.ts OPS_TASKS by a test. */
export const RUN_TASKS_HELP = 'reconcile, roster-sync, overdue, hold-expiry, retention';

export function runCommand(program: Command, io: CliIo): void {
  program
    .command('run')
    .description(`run a cron task now and wait for it: ${RUN_TASKS_HELP}`)
    .argument('<task>', RUN_TASKS_HELP.replaceAll(', ', '|'))
    .option('--json', 'print the result as JSON')
    .action(async (task: string, opts: { json?: boolean }) => {
      const [{ isOpsTask, OPS_TASKS, runOpsTask }, { withContext }, { SingleBar }, { partitionPortsOf }] =
        await Promise.all([
          import('../../../jobs/ops/tasks.ts'),
          import('../context.ts'),
          import('cli-progress'),
          import('../../app/workers.ts'),
        ]);
      if (!isOpsTask(task)) throw usageError(`unknown task ${task}: expected one of ${OPS_TASKS.join(', ')}`);
      const tty = Boolean(io.stderr.isTTY) && !opts.json;
      const bar = new SingleBar(
        { stream: io.stderr, format: `${task} {step} [{bar}] {value}/{total}`, hideCursor: true },
        undefined,
      );
      let step: string | undefined;
      const started = Date.now();
      const result = await withContext(io, (ctx) =>
        runOpsTask({ ...ctx, ...partitionPortsOf(ctx) }, task, {
          env: io.env as NodeJS.ProcessEnv,
          onProgress: (p) => {
            if (tty) {
              if (p.step !== step) {
                if (step !== undefined) bar.stop();
                step = p.step;
                bar.start(p.total, p.done, { step: p.step ?? '' });
              } else bar.update(p.done, { step: p.step ?? '' });
              bar.setTotal(p.total);
            } else if (!opts.json && p.done === p.total) {
              io.stderr.write(`${task}: ${p.step ?? ''} ${p.done}/${p.total}\n`);
            }
          },
        }),
      ).finally(() => {
        if (tty && step !== undefined) bar.stop();
      });
      print(
        io,
        opts.json,
        { task, ms: Date.now() - started, result },
        () => `${task} done in ${Date.now() - started} ms\n${JSON.stringify(result, null, 2)}`,
      );
      if (Number(result.errors ?? 0) > 0) io.exitCode = EXIT.failed;
      if (task === 'overdue' && Number(result.count ?? 0) > 0) io.exitCode = EXIT.overdue;
    });
}
