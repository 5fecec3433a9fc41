import { LoggerService } from '@nestjs/common';
import pino, { DestinationStream, Logger as Pino } from 'pino';
import { currentRequestId } from '../common/request-context';

/** Nest's own start-up chatter (one line per module and route): kept for `debug`. */
const NEST_BOOT_CONTEXTS = new Set(['InstanceLoader', 'RoutesResolver', 'RouterExplorer', 'NestFactory', 'NestApplication']);

/**
 * Structured JSON logs: one event per line, `msg` naming the event (`hold.created`, `tx.retry`,
 * `request`…) and the ids involved as fields. Every line written while serving a request carries
 * its `request_id` (from the request context, src/common/request-context.ts), so an operator can
 * join a slow request to its lock wait or retry.
 * The service logs through Nest's Logger (`new Logger(context).log({ msg, ...fields })`); this
 * turns each call into one pino line. Writes are asynchronous: no request waits on stdout.
 */
export class AppLogger implements LoggerService {
  readonly pino: Pino;

  constructor(level: string, destination?: DestinationStream) {
    this.pino = pino(
      {
        level,
        base: undefined,
        timestamp: pino.stdTimeFunctions.isoTime,
        formatters: { level: (label) => ({ level: label }) },
      },
      destination ?? pino.destination({ dest: 1, sync: false }),
    );
  }

  log(message: unknown, context?: string): void {
    this.write(context && NEST_BOOT_CONTEXTS.has(context) ? 'debug' : 'info', message, context);
  }

  error(message: unknown, trace?: string, context?: string): void {
    this.write('error', message, context, trace);
  }

  warn(message: unknown, context?: string): void {
    this.write('warn', message, context);
  }

  debug(message: unknown, context?: string): void {
    this.write('debug', message, context);
  }

  verbose(message: unknown, context?: string): void {
    this.write('trace', message, context);
  }

  fatal(message: unknown, context?: string): void {
    this.write('fatal', message, context);
  }

  /** Writes out what is buffered (before the process exits). */
  flush(): Promise<void> {
    return new Promise((resolve) => this.pino.flush(() => resolve()));
  }

  private write(level: pino.Level, message: unknown, context?: string, trace?: string): void {
    if (!this.pino.isLevelEnabled(level)) return;
    const fields: Record<string, unknown> = context ? { context } : {};
    const requestId = currentRequestId();
    if (requestId !== undefined) fields.request_id = requestId;
    if (trace) fields.err = trace;
    if (message !== null && typeof message === 'object' && !(message instanceof Error)) {
      const { msg, ...rest } = message as Record<string, unknown>;
      this.pino[level]({ ...fields, ...rest }, typeof msg === 'string' ? msg : '');
    } else if (message instanceof Error) {
      this.pino[level]({ ...fields, err: message.stack ?? message.message }, message.message);
    } else {
      this.pino[level](fields, String(message));
    }
  }
}
