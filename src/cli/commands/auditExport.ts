/**
 * `lastday audit export [--out FILE]`: the audit chain as NDJSON from the API
 * (GET /v1/audit/export), to keep outside Redis; and `lastday audit
 * verify-export FILE [--key-env VAR] [--expect-head SEQ:HASH]`, which checks
 * such a file offline, from the file alone (src/store/auditExportVerify.ts):
 * no API, no Redis. Exit 1 when the chain is broken or the expected head does
 * not match.
 */
import { once } from 'node:events';
import type { Command } from 'commander';
import { withApi } from '../api.ts';
import { type CliIo, EXIT, print, usageError } from '../io.ts';

export function auditExportCommands(audit: Command, io: CliIo): void {
  audit
    .command('export')
    .description('the whole audit chain as NDJSON (a head line, then one entry per line), from the API')
    .option('--out <file>', 'write to this file instead of stdout')
    .action(async (opts: { out?: string }) => {
      const { createWriteStream } = await import('node:fs');
      const out = opts.out ? createWriteStream(opts.out) : io.stdout;
      let lines = 0;
      let firstLine = '';
      let headerDone = false;
      try {
        await withApi(io, false, async (api) => {
          for await (const chunk of api.auditExport()) {
            const text = Buffer.from(chunk).toString('utf8');
            if (!headerDone) {
              firstLine += text;
              headerDone = firstLine.includes('\n');
            }
            for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) lines++;
            if (!out.write(chunk)) await once(out, 'drain');
          }
        });
      } finally {
        if (opts.out) {
          (out as NodeJS.WritableStream & { end(): void }).end();
          await once(out, 'close');
        }
      }
      const head = headOf(firstLine);
      io.stderr.write(
        `exported ${Math.max(0, lines - 1)} audit entries${head ? ` (head seq ${head.seq ?? 'not a number'} ${head.hash})` : ''}${opts.out ? ` to ${opts.out}` : ''}\n`,
      );
    });

  audit
    .command('verify-export')
    .description('verify an audit export offline, from the file alone (no API, no Redis); exit 1 when broken')
    .argument('<file>', 'the NDJSON file from `lastday audit export` (- for stdin)')
    .option(
      '--key-env <var>',
      'environment variable holding LASTDAY_AUDIT_KEY (HMAC chains); default LASTDAY_AUDIT_KEY when set',
    )
    .option(
      '--expect-head <seq:hash>',
      'a head kept elsewhere (the `audit head` log line): must be in the export',
    )
    .option('--json', 'print JSON')
    .action(async (file: string, _own: unknown, cmd: Command) => {
      // `audit` has a --json of its own, which commander gives to it wherever it stands.
      const opts = cmd.optsWithGlobals<{ keyEnv?: string; expectHead?: string; json?: boolean }>();
      const [
        { createReadStream },
        { access },
        { createInterface },
        { parseExpectedHead, verifyAuditExport },
      ] = await Promise.all([
        import('node:fs'),
        import('node:fs/promises'),
        import('node:readline'),
        import('../../store/auditExportVerify.ts'),
      ]);
      const keyVar = opts.keyEnv ?? (io.env.LASTDAY_AUDIT_KEY ? 'LASTDAY_AUDIT_KEY' : undefined);
      const key = keyVar ? io.env[keyVar] : undefined;
      if (keyVar && !key) throw usageError(`--key-env ${keyVar}: the environment variable is not set`);
      const expectedHead = opts.expectHead !== undefined ? parseExpectedHead(opts.expectHead) : undefined;
      if (opts.expectHead !== undefined && !expectedHead) {
        throw usageError('--expect-head: expected SEQ:HASH, the hash as 64 hex digits');
      }
      if (file !== '-') {
        await access(file).catch((err: Error) => {
          throw usageError(`cannot read ${file}: ${err.message}`);
        });
      }
      const stream = file === '-' ? undefined : createReadStream(file);
      const lines = createInterface({ input: stream ?? io.stdin, crlfDelay: Infinity });
      const result = await verifyAuditExport(lines, { key, expectedHead });
      lines.close();
      stream?.destroy();
      const how = key ? `HMAC-SHA-256 under ${keyVar}` : 'SHA-256, no key';
      print(io, opts.json, { ...result, hashing: how }, () => {
        const out = [
          result.brokenAt === undefined
            ? `audit export verifies (${how}): ${result.entries} entries, head seq ${result.head.seq} ${result.head.hash}`
            : `audit export BROKEN at seq ${result.brokenAt}: ${result.reason} (${result.entries} entries verified before it; ${how})`,
        ];
        if (result.expected) {
          out.push(
            result.expected.ok
              ? `expected head seq ${result.expected.seq} matches`
              : `expected head seq ${result.expected.seq} does NOT match: ${result.expected.reason}`,
          );
        }
        return out.join('\n');
      });
      if (!result.ok) io.exitCode = EXIT.failed;
    });
}

function headOf(firstLine: string): { seq: number | null; hash: string } | undefined {
  try {
    const header = JSON.parse(firstLine.split('\n')[0] ?? '') as {
      head?: { seq: number | null; hash: string };
    };
    return header.head;
  } catch {
    return undefined;
  }
}
