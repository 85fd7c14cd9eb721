/**
 * pino JSON logs. Tokens, signatures and secrets are redacted wherever they
 * appear in a logged object, including request headers.
 */
import { type Logger, pino } from 'pino';

export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers["webhook-signature"]',
  'headers.authorization',
  'headers["webhook-signature"]',
  '*.authorization',
  '*.token',
  '*.secret',
  '*.password',
  '*.sha256',
  'secret',
  'token',
];

export function createLogger(level: string, destination?: NodeJS.WritableStream): Logger {
  return pino(
    {
      level,
      base: { service: 'lastday' },
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    destination as never,
  );
}
