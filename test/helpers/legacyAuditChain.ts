/**
 * A chain written by lastday 0.1, whose SHA-256 ran in Lua (src/store/lua/sha256.ts,
 * since removed): the raw stream entries as XRANGE returned them. Entry 2 carries
 * the characters a re-implementation gets wrong (quotes, backslash, newline, a
 * control character, non-ASCII, an astral emoji). The HMAC hashes below were
 * computed independently with Python (hashlib/hmac, json.dumps with
 * ensure_ascii=False and compact separators) under LEGACY_KEY.
 */
export const LEGACY_ENTRIES: [string, string[]][] = [
  [
    '1-0',
    [
      'at',
      '2026-11-20T15:04:05.000Z',
      'type',
      'hr_event.applied',
      'actor',
      'hr',
      'personId',
      'c-1042',
      'actionId',
      '',
      'details',
      '{"eventId":"wd-88412","lastDay":"2026-12-04"}',
      'prevHash',
      '0000000000000000000000000000000000000000000000000000000000000000',
      'hash',
      '280e670f9b8b7fff9d5c1897ddda0d47a8476dba41dbe6e1a57aeead0ad22c4a',
    ],
  ],
  [
    '2-0',
    [
      'at',
      '2026-11-27T08:00:00.000Z',
      'type',
      'effect.reduce',
      'actor',
      'worker',
      'personId',
      'ops:alice/1',
      'actionId',
      '',
      'details',
      '{"removed":["prod-admins"],"note":"Zoë \\"quoted\\" \\\\ back\\nline\\u0001 ☃ 🙂","n":1.5}',
      'prevHash',
      '280e670f9b8b7fff9d5c1897ddda0d47a8476dba41dbe6e1a57aeead0ad22c4a',
      'hash',
      '614cce073714bd3bd6a6b5849ef572061ce2593880ed7bbc0d95917ec2a4f0d4',
    ],
  ],
  [
    '3-0',
    [
      'at',
      '2026-11-28T09:30:00.000Z',
      'type',
      'action.approved',
      'actor',
      'ops-alice',
      'personId',
      '',
      'actionId',
      'deactivate-vip-2017',
      'details',
      '{}',
      'prevHash',
      '614cce073714bd3bd6a6b5849ef572061ce2593880ed7bbc0d95917ec2a4f0d4',
      'hash',
      'cb656166a529cd61cd4501427d90055608fcc6008c54f8571a0714bae39aaba8',
    ],
  ],
];

export const LEGACY_KEY = 'correct horse battery staple';
export const LEGACY_HMAC_HASHES = [
  '02bedde4f6abee7c415c748780622a865edbac2195b36d85decab1c19ed4b2a1',
  '358a3d791d84c98d03ae21153751d98f4bb013fef14e6931cb86ca60f24e8650',
  '7b571aff73470c7f24a8d63758de1a674c3617a17fb1c0be1d09f87d106140de',
];
