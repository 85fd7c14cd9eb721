/**
 * Request logging that stays off the hot path. A route declared `hot` (the
 * gate, which every destructive operation of the calling tools waits on) gets
 *
 * - no `incoming request` / `request completed` lines (fastify writes two info
 *   lines per request elsewhere); a request that fails is still logged, by the
 *   error handler and by fastify's `request errored`, with its request id;
 * - no pino child logger per request: `request.log` is a stand-in that builds
 *   the child (with the request id) only when something is actually logged.
 *
 * Everything logged still goes through the one pino logger and its redaction
 * (src/telemetry/logger.ts), so no token or secret reaches a log line here either.
 */
import { type FastifyBaseLogger, type FastifyReply, type FastifyRequest, LogController } from 'fastify';
import type { Bindings, ChildLoggerOptions, LevelWithSilentOrString, LogFn } from 'pino';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** A hot route: no request log lines, no per-request child logger (src/http/requestLog.ts). */
    hot?: boolean;
  }
}

/**
 * Whether the request is on a hot route: its logger is the stand-in the hot
 * routes' factory builds (cheaper than `request.routeOptions`, a new object per read).
 */
function isHot(request: FastifyRequest): boolean {
  return request.log instanceof LazyChildLogger;
}

/** Fastify's request log lines, minus the two per request on hot routes (errors are kept). */
export class RequestLogController extends LogController {
  override incomingRequest(request: FastifyRequest, reply: FastifyReply, metadata?: Record<string, unknown>) {
    if (isHot(request)) return;
    super.incomingRequest(request, reply, metadata);
  }

  override requestCompleted(
    error: Error | null | undefined,
    request: FastifyRequest,
    reply: FastifyReply,
    metadata?: Record<string, unknown>,
  ) {
    if (!error && isHot(request)) return;
    super.requestCompleted(error, request, reply, metadata);
  }
}

/**
 * A request logger that becomes `parent.child(bindings)` on first use: the
 * request id is in every line it writes, and a request that logs nothing
 * costs one small object instead of a pino child.
 */
class LazyChildLogger implements FastifyBaseLogger {
  private real: FastifyBaseLogger | undefined;

  constructor(
    private readonly parent: FastifyBaseLogger,
    private readonly bindings: Bindings,
    private readonly options: ChildLoggerOptions,
  ) {}

  private get logger(): FastifyBaseLogger {
    this.real ??= this.parent.child(this.bindings, this.options);
    return this.real;
  }

  get level(): LevelWithSilentOrString {
    return this.real?.level ?? this.options.level ?? this.parent.level;
  }

  set level(level: LevelWithSilentOrString) {
    this.logger.level = level;
  }

  // Prototype methods, so a request's stand-in allocates no closures.
  fatal(...args: Parameters<LogFn>): void {
    this.logger.fatal(...args);
  }
  error(...args: Parameters<LogFn>): void {
    this.logger.error(...args);
  }
  warn(...args: Parameters<LogFn>): void {
    this.logger.warn(...args);
  }
  info(...args: Parameters<LogFn>): void {
    this.logger.info(...args);
  }
  debug(...args: Parameters<LogFn>): void {
    this.logger.debug(...args);
  }
  trace(...args: Parameters<LogFn>): void {
    this.logger.trace(...args);
  }
  silent(): void {}

  child(bindings: Bindings, options?: ChildLoggerOptions): FastifyBaseLogger {
    return this.logger.child(bindings, options);
  }
}

/** The route-level `childLoggerFactory` of hot routes. */
export function lazyChildLogger(
  logger: FastifyBaseLogger,
  bindings: Bindings,
  options: ChildLoggerOptions,
): FastifyBaseLogger {
  return new LazyChildLogger(logger, bindings, options);
}
