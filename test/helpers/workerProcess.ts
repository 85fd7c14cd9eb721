/**
 * A lastday worker as a child process (`lastday start --roles worker`), for
 * fault tests that kill it. Ready once it logs "lastday running".
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../../bin/lastday.js', import.meta.url));

export interface WorkerProcess {
  child: ChildProcess;
  /** Resolves when the workers run; rejects if the process exits first. */
  ready: Promise<void>;
  /** Sends `signal` and resolves when the process is gone. */
  kill(signal?: NodeJS.Signals): Promise<void>;
}

export function spawnWorker(env: Record<string, string>): WorkerProcess {
  const child = spawn(process.execPath, [BIN, 'start', '--roles', 'worker'], {
    env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk) => {
    stderr = (stderr + String(chunk)).slice(-4000);
  });
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
  const ready = new Promise<void>((resolve, reject) => {
    let seen = '';
    child.stdout?.on('data', (chunk) => {
      if (seen === 'ready') return;
      seen = (seen + String(chunk)).slice(-2000);
      if (seen.includes('lastday running')) {
        seen = 'ready';
        resolve();
      }
    });
    void exited.then(() => reject(new Error(`worker exited before it was ready: ${stderr.trim()}`)));
  });
  ready.catch(() => undefined);
  return {
    child,
    ready,
    async kill(signal = 'SIGKILL') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
  };
}
