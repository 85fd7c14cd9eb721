/**
 * pino JSON logs. Tokens, cookies, signatures and secrets are redacted wherever
 * they appear in a logged object, including request and response headers; a
 * request's URL is logged with the values of credential-like query parameters
 * redacted (lastday never reads a token from a query string, but a client may
 * still send one there).
 */
import { type Logger, pino } from 'pino';

const CENSOR = '[redacted]';

export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["webhook-signature"]',
  'res.headers["set-cookie"]',
  'headers.authorization',
  'headers.cookie',
  'headers["set-cookie"]',
  'headers["webhook-signature"]',
  '*.headers.authorization',
  '*.headers.cookie',
  '*.headers["set-cookie"]',
  '*.headers["webhook-signature"]',
  '*.authorization',
  '*.cookie',
  '*.token',
  '*.secret',
  '*.password',
  '*.signature',
  '*.sha256',
  'authorization',
  'cookie',
  'secret',
  'signature',
  'token',
];

/** Query parameters whose values never reach a log line. */
const SECRET_PARAM = /token|secret|signature|password|passwd|key|auth|session|cookie|code/i;

/** `url` with the values of credential-like query parameters replaced. */
export function redactUrl(url: string): string {
  const q = url.indexOf('?');
  if (q < 0) return url;
  const query = url
    .slice(q + 1)
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=');
      const name = eq < 0 ? pair : pair.slice(0, eq);
      let decoded = name;
      try {
        decoded = decodeURIComponent(name);
      } catch {
        // A malformed name is judged as sent.
      }
      return eq >= 0 && SECRET_PARAM.test(decoded) ? `${name}=${CENSOR}` : pair;
    })
    .join('&');
  return `${url.slice(0, q + 1)}${query}`;
}

/** The request as fastify logs it (same fields as its default), with the URL redacted. */
function requestSerializer(req: {
  method?: string;
  url?: string;
  host?: string;
  ip?: string;
  socket?: { remotePort?: number };
}) {
  return {
    method: req.method,
    url: typeof req.url === 'string' ? redactUrl(req.url) : req.url,
    host: req.host,
    remoteAddress: req.ip,
    remotePort: req.socket?.remotePort,
  };
}

export function createLogger(level: string, destination?: NodeJS.WritableStream): Logger {
  return pino(
    {
      level,
      base: { service: 'lastday' },
      redact: { paths: REDACT_PATHS, censor: CENSOR },
      serializers: { req: requestSerializer },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    destination as never,
  );
}
