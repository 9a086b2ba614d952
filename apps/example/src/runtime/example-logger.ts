import { ConsoleLogger, type LogLevel } from '@nestjs/common';

/** Nest's bootstrap chatter: one line per module and route, which buries the demo's progress. */
const QUIET_CONTEXTS = new Set([
  'InstanceLoader',
  'RoutesResolver',
  'RouterExplorer',
  'NestFactory',
  'NestApplication',
]);

/**
 * Errors the example causes on purpose (the summarizer's simulated rate limit, a page it does not
 * have): the worker's report of them is a warning, without a stack trace, which would suggest a bug.
 */
const EXPECTED_ERRORS = ['SummarizerBusyError', 'PageNotFoundError'];

/**
 * Nest's console logger, quieter for `npm start`: no bootstrap chatter, the example's expected errors
 * as warnings without stack traces, and nothing from the bootstrap's ExceptionHandler, because
 * main.ts reports a failed start itself, in one readable message.
 */
export class ExampleLogger extends ConsoleLogger {
  /** Set while ConsoleLogger.error() prints a message whose stack must not follow. */
  private dropNextStack = false;

  constructor(logLevels: LogLevel[] = ['log', 'warn', 'error', 'fatal']) {
    super({ logLevels });
  }

  protected override printMessages(
    messages: unknown[],
    context?: string,
    logLevel?: LogLevel,
    writeStreamType?: 'stdout' | 'stderr',
    errorStack?: unknown,
    params?: Record<string, unknown>,
  ): void {
    // ConsoleLogger.error() calls printMessages(), then printStackTrace() with the same stack.
    if (context === 'ExceptionHandler') {
      this.dropNextStack = true;
      return;
    }
    if (logLevel === 'log' && context !== undefined && QUIET_CONTEXTS.has(context)) return;
    if (logLevel === 'error' && isExpected(errorStack)) {
      this.dropNextStack = true;
      super.printMessages(messages, context, 'warn', 'stdout', undefined, params);
      return;
    }
    super.printMessages(messages, context, logLevel, writeStreamType, errorStack, params);
  }

  protected override printStackTrace(stack: string): void {
    const drop = this.dropNextStack;
    this.dropNextStack = false;
    if (!drop) super.printStackTrace(stack);
  }
}

function isExpected(stack: unknown): boolean {
  return typeof stack === 'string' && EXPECTED_ERRORS.some((name) => stack.startsWith(`${name}:`));
}
