/**
 * `lastday audit` walking every partition's chain page by page (GET /v1/audit
 * without a filter, issue #11): the cursor of the next page comes in the
 * `lastday-next-after` header, so the CLI shows it — a last line of the human
 * output, stderr with --json, where stdout stays the API's `{entries, count}`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Runtime } from '../../src/app/runtime.ts';
import { runCli } from '../helpers/cli.ts';
import { hrEvent } from '../helpers/events.ts';
import { postEvent } from '../helpers/http.ts';
import { eventually, TOKENS, testRuntime, testSettings } from '../helpers/lastday.ts';

const inDays = (n: number) => new Date(Date.now() + n * 86_400_000).toISOString().slice(0, 10);
const HINT = /^next page: lastday audit --after (\S+)/m;

let rt: Runtime;
const env = () => ({ LASTDAY_URL: rt.url!, LASTDAY_TOKEN: TOKENS.viewer });
const people = Array.from({ length: 8 }, (_, i) => `pager-${i}`);

beforeAll(async () => {
  const settings = testSettings();
  settings.env = { ...settings.env, LASTDAY_PARTITIONS: 4 };
  rt = await testRuntime(settings);
  for (const personId of people)
    expect((await postEvent(rt.url!, hrEvent({ personId, lastDay: inDays(40) }))).status).toBe(202);
  await eventually(async () => (await Promise.all(people.map((id) => rt.ctx.people.get(id)))).every(Boolean));
});
afterAll(async () => {
  await rt?.stop();
});

describe('lastday audit over 4 partitions', () => {
  it('shows the next-page cursor; following it walks every chain once', async () => {
    expect(rt.ctx.partitions.count).toBe(4);
    const used = new Set(people.map((id) => rt.ctx.partitions.partitionOf(id)));
    expect(used.size).toBeGreaterThan(1);

    const all = await runCli(['audit', '--limit', '5000', '--json'], env());
    expect(all.code, all.stderr).toBe(0);
    const everything = JSON.parse(all.stdout) as { entries: { hash: string }[]; count: number };
    expect(everything.count).toBeGreaterThan(6);

    // Human output, 3 at a time: a hint line per page until a page comes back empty.
    const seen: string[] = [];
    let after: string | undefined;
    for (let pages = 0; pages < 100; pages++) {
      const r = await runCli(['audit', '--limit', '3', ...(after ? ['--after', after] : [])], env());
      expect(r.code, r.stderr).toBe(0);
      const hint = HINT.exec(r.stdout);
      if (!hint) {
        expect(r.stdout).toBe('no audit entries\n');
        break;
      }
      expect(r.stdout.trimEnd().split('\n').at(-1)).toBe(
        `next page: lastday audit --after ${hint[1]} --limit 3`,
      );
      expect(hint[1]).toMatch(/^m(\.\d+){5}$/); // the global chain and 4 partitions
      seen.push(hint[1]!);
      after = hint[1];
    }
    expect(seen.length).toBe(Math.ceil(everything.count / 3));

    // --json: stdout is exactly the API's body; the hint goes to stderr.
    const hashes: string[] = [];
    after = undefined;
    for (let pages = 0; pages < 100; pages++) {
      const r = await runCli(
        ['audit', '--limit', '4', '--json', ...(after ? ['--after', after] : [])],
        env(),
      );
      expect(r.code, r.stderr).toBe(0);
      const body = JSON.parse(r.stdout) as { entries: { hash: string }[]; count: number };
      expect(Object.keys(body).sort()).toEqual(['count', 'entries']);
      expect(body.count).toBe(body.entries.length);
      hashes.push(...body.entries.map((e) => e.hash));
      const hint = HINT.exec(r.stderr);
      if (body.count === 0) {
        expect(r.stderr).toBe('');
        break;
      }
      expect(r.stderr).toBe(`next page: lastday audit --after ${hint![1]} --limit 4 --json\n`);
      after = hint![1];
    }
    expect(hashes).toEqual(everything.entries.map((e) => e.hash));
  });

  it('shows no cursor for one person (a filter reads one chain by seq)', async () => {
    const r = await runCli(['audit', '--person', people[0]!], env());
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('hr_event.applied');
    expect(r.stdout).not.toMatch(HINT);
  });
});
