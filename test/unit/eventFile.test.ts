/** The file formats of `lastday enqueue`: JSON array, one object, NDJSON with bad lines named. */
import { describe, expect, it } from 'vitest';
import { parseEventFile } from '../../src/cli/eventFile.ts';

describe('parseEventFile', () => {
  it('reads a JSON array, one pretty-printed object, or nothing', () => {
    expect(parseEventFile('[{"a":1},{"a":2}]')).toEqual({
      events: [
        { index: 0, value: { a: 1 } },
        { index: 1, value: { a: 2 } },
      ],
      unparsable: [],
    });
    expect(parseEventFile('{\n  "a": 1\n}\n').events).toEqual([{ index: 0, value: { a: 1 } }]);
    expect(parseEventFile(' \n\n')).toEqual({ events: [], unparsable: [] });
  });

  it('reads NDJSON line by line: CRLF and blank lines are fine; bad lines are named, 1-based', () => {
    const parsed = parseEventFile('{"a":1}\r\n\r\n{"a":\r\n{"a":3}\n[1,\n');
    expect(parsed.events).toEqual([
      { index: 0, line: 1, value: { a: 1 } },
      { index: 1, line: 4, value: { a: 3 } },
    ]);
    expect(parsed.unparsable).toEqual([
      { line: 3, error: expect.stringMatching(/JSON/) },
      { line: 5, error: expect.stringMatching(/JSON/) },
    ]);
  });

  it('an array file is one document: if it does not parse, that is one error', () => {
    expect(parseEventFile('[{"a":1},\n{"a":2}\n')).toEqual({
      events: [],
      unparsable: [{ error: expect.stringMatching(/^not a valid JSON array: /) }],
    });
  });
});
