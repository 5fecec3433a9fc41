import { LoggerService } from '@nestjs/common';
import pino, { DestinationStream, Logger as Pino } from 'pino';
import { currentRequestId } from '../common/request-context';

/** Nest's own start-up chatter (one line per module and route): kept for `debug`. */
const NEST_BOOT_CONTEXTS = new Set(['InstanceLoader', 'RoutesResolver', 'RouterExplorer', 'NestFactory', 'NestApplication']);

let sharedStdout: TurnBatchedStdout | undefined;

/**
 * pino's `isoTime` (`,"time":"<ISO 8601>"`), formatted once per millisecond: under load a
 * millisecond holds several lines (two per hold), and `toISOString` was 1.4 % of the main thread's
 * time at 256 connections.
 */
export function isoTimeOncePerMillisecond(): () => string {
  let formattedAt = -1;
  let stamp = '';
  return () => {
    const now = Date.now();
    if (now !== formattedAt) {
      formattedAt = now;
      stamp = `,"time":"${new Date(now).toISOString()}"`;
    }
    return stamp;
  };
}

/**
 * Stdout for the log lines, written once per turn of the event loop: the lines of a turn are
 * joined and written as one string when the turn ends, instead of line by line. Under load a hold
 * writes two lines (`request`, `hold.created`) and a turn serves dozens of requests; one write per
 * line cost 6–16 µs of CPU per hold at 256 connections, most of it handing each write to libuv's
 * thread pool (README, "The framework's cost"). The write itself is synchronous (sonic-boom, pino's
 * destination, in sync mode: it retries a pipe's partial writes and EAGAIN), one system call per
 * turn: nothing is ever in flight, so the lines reach stdout whole and in order, and `flush()` or
 * the process's exit writes what the current turn has pending. A stdout that stops reading slows
 * the service down rather than filling its memory.
 */
export class TurnBatchedStdout implements DestinationStream {
  private lines: string[] = [];
  private scheduled = false;

  constructor(private readonly sink: ReturnType<typeof pino.destination>) {}

  /** The process's one stdout destination (every logger of the process shares it). */
  static shared(): TurnBatchedStdout {
    if (!sharedStdout) {
      const stdout = new TurnBatchedStdout(pino.destination({ dest: 1, sync: true }));
      process.once('exit', () => {
        try {
          stdout.handOver();
        } catch {
          // stdout already closed: nothing more can be written
        }
      });
      sharedStdout = stdout;
    }
    return sharedStdout;
  }

  write(line: string): void {
    this.lines.push(line);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.endOfTurn);
    }
  }

  /** Writes the pending lines out now. */
  flush(done: (err?: Error) => void): void {
    this.handOver();
    this.sink.flush(done);
  }

  private readonly endOfTurn = (): void => {
    this.scheduled = false;
    this.handOver();
  };

  private handOver(): void {
    if (this.lines.length === 0) return;
    const text = this.lines.length === 1 ? this.lines[0] : this.lines.join('');
    this.lines = [];
    this.sink.write(text);
  }
}

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
        timestamp: isoTimeOncePerMillisecond(),
        formatters: { level: (label) => ({ level: label }) },
      },
      destination ?? TurnBatchedStdout.shared(),
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
