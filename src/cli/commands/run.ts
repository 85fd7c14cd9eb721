/**
 * `lastday run reconcile|roster-sync|overdue|hold-expiry`: the cron work, run
 * in this process for an external scheduler (Kubernetes CronJob, systemd
 * timer). Waits for completion, shows progress on stderr, prints the result.
 * Exit codes: 0 done; 1 failed (or reconcile could not repair someone);
 * 3 `overdue` found overdue milestones (so a monitor can page on it).
 */
import { SingleBar } from 'cli-progress';
import type { Command } from 'commander';
import { isOpsTask, OPS_TASKS, runOpsTask } from '../../../jobs/opsTasks.ts';
import { opsProviders } from '../../app/features.ts';
import { output, withContext } from '../context.ts';

export function runCommand(program: Command): void {
  program
    .command('run')
    .description(`run a cron task now and wait for it: ${OPS_TASKS.join(', ')}`)
    .argument('<task>', OPS_TASKS.join('|'))
    .option('--json', 'print the result as JSON')
    .action(async (task: string, opts: { json?: boolean }) => {
      if (!isOpsTask(task)) {
        process.stderr.write(`unknown task ${task}: expected one of ${OPS_TASKS.join(', ')}\n`);
        process.exit(1);
      }
      const tty = process.stderr.isTTY && !opts.json;
      const bar = new SingleBar(
        { stream: process.stderr, format: `${task} {step} [{bar}] {value}/{total}`, hideCursor: true },
        undefined,
      );
      let step: string | undefined;
      const started = Date.now();
      const result = await withContext((ctx) =>
        runOpsTask(ctx, opsProviders, task, {
          onProgress: (p) => {
            if (tty) {
              if (p.step !== step) {
                if (step !== undefined) bar.stop();
                step = p.step;
                bar.start(p.total, p.done, { step: p.step ?? '' });
              } else bar.update(p.done, { step: p.step ?? '' });
              bar.setTotal(p.total);
            } else if (!opts.json && p.done === p.total) {
              process.stderr.write(`${task}: ${p.step ?? ''} ${p.done}/${p.total}\n`);
            }
          },
        }),
      ).finally(() => {
        if (tty && step !== undefined) bar.stop();
      });
      output(
        Boolean(opts.json),
        { task, ms: Date.now() - started, result },
        () => `${task} done in ${Date.now() - started} ms\n${JSON.stringify(result, null, 2)}`,
      );
      if (Number(result.errors ?? 0) > 0) process.exitCode = 1;
      if (task === 'overdue' && Number(result.count ?? 0) > 0) process.exitCode = 3;
    });
}
