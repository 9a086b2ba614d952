import { type ArgumentsHost, Catch, type ExceptionFilter, HttpStatus, Logger } from '@nestjs/common';
import type { Response } from 'express';
import {
  type FlowNotFoundError,
  type InvalidOptionsError,
  PgflowError,
  PgflowErrorCode,
  type RunNotFoundError,
  type ScheduleNotFoundError,
  type WaitTimeoutError,
} from 'nestjs-pgflow';

/** The FlowClient options that come from a request (GET /runs, POST /runs/:id/cancel|retry). */
const REQUEST_OPTIONS: ReadonlySet<string> = new Set([
  'priority',
  'cursor',
  'limit',
  'status',
  'reason',
  'fromStep',
  'signalName',
  'payload',
]);

/** What the API answers for an error: Nest's usual shape, plus the library's error code. */
interface ErrorBody {
  readonly statusCode: number;
  readonly error: string;
  readonly code: string;
  readonly message: string;
}

/**
 * Turns the library's errors into HTTP answers, by their stable `code` (never their message): a bad
 * request (unknown flow, an input the flow cannot take, a malformed run id) is a 400, an unknown run
 * or schedule a 404; a run that cannot be retried and a refused signal are a 409; waiting for a run's result, a failed or cancelled run is a 409, one still running a 504, and a shutdown
 * a 503 (the load balancer retries elsewhere). Anything else the library throws is a server error,
 * logged with its stack.
 */
@Catch(PgflowError)
export class PgflowExceptionFilter implements ExceptionFilter<PgflowError> {
  private readonly logger = new Logger('PgflowExceptionFilter');

  catch(error: PgflowError, host: ArgumentsHost): void {
    const body = this.toBody(error);
    if (body.statusCode >= 500) this.logger.error(error.message, error.stack);
    host.switchToHttp().getResponse<Response>().status(body.statusCode).json(body);
  }

  private toBody(error: PgflowError): ErrorBody {
    const { code } = error;
    const answer = (statusCode: HttpStatus, reason: string, message: string): ErrorBody => ({
      statusCode,
      error: reason,
      code,
      message,
    });
    switch (code) {
      case PgflowErrorCode.FlowNotFound: {
        const { flow, knownFlows } = error as FlowNotFoundError;
        return answer(
          HttpStatus.BAD_REQUEST,
          'Bad Request',
          `Unknown flow '${flow}'. Known flows: ${knownFlows.join(', ') || 'none'} (GET /flows lists them with their steps).`,
        );
      }
      case PgflowErrorCode.InvalidInput:
      case PgflowErrorCode.NotJson:
        return answer(HttpStatus.BAD_REQUEST, 'Bad Request', error.message);
      case PgflowErrorCode.RunNotFound:
        return answer(
          HttpStatus.NOT_FOUND,
          'Not Found',
          `No run with id '${(error as RunNotFoundError).runId}' (POST /runs returns the id of the runs it starts).`,
        );
      case PgflowErrorCode.ScheduleNotFound: {
        const { scheduleName, knownSchedules } = error as ScheduleNotFoundError;
        return answer(
          HttpStatus.NOT_FOUND,
          'Not Found',
          `No schedule is named '${scheduleName}'. Known schedules: ${knownSchedules.join(', ') || 'none'} ` +
            '(GET /schedules lists them).',
        );
      }
      case PgflowErrorCode.InvalidOptions: {
        // Options a request can set: a run id (/runs/:id), and GET /runs's filters and cursor, the
        // cancel reason and retry's fromStep; any other is a bug here.
        const { option, value } = error as InvalidOptionsError;
        if (option === 'runId') {
          return answer(
            HttpStatus.BAD_REQUEST,
            'Bad Request',
            `${JSON.stringify(value)} is not a run id: run ids are UUIDs, as returned by POST /runs.`,
          );
        }
        if (REQUEST_OPTIONS.has(option)) return answer(HttpStatus.BAD_REQUEST, 'Bad Request', error.message);
        break;
      }
      case PgflowErrorCode.RunAlreadyExists:
        return answer(HttpStatus.CONFLICT, 'Conflict', error.message);
      case PgflowErrorCode.RunFailed:
      case PgflowErrorCode.RunCancelled:
      case PgflowErrorCode.RunNotRetryable:
      case PgflowErrorCode.SignalRefused:
        return answer(HttpStatus.CONFLICT, 'Conflict', error.message);
      case PgflowErrorCode.WaitTimeout:
        return answer(
          HttpStatus.GATEWAY_TIMEOUT,
          'Gateway Timeout',
          `Run '${(error as WaitTimeoutError).runId}' is still running; GET /runs/${(error as WaitTimeoutError).runId} shows its progress.`,
        );
      case PgflowErrorCode.ShuttingDown:
        return answer(HttpStatus.SERVICE_UNAVAILABLE, 'Service Unavailable', 'The application is shutting down.');
    }
    return answer(HttpStatus.INTERNAL_SERVER_ERROR, 'Internal Server Error', 'Internal server error');
  }
}
