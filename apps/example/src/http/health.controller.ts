import { Controller, Get } from '@nestjs/common';
import { HealthCheck, type HealthCheckResult, HealthCheckService } from '@nestjs/terminus';
import { PgflowHealthIndicator } from 'nestjs-pgflow/health';

/**
 * `GET /health`: 200 with `status: 'ok'` while the database answers, the worker runs and beats, and
 * no served flow has had a message waiting for more than a minute; 503 with the reasons otherwise.
 */
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly pgflow: PgflowHealthIndicator,
  ) {}

  @Get()
  @HealthCheck()
  check(): Promise<HealthCheckResult> {
    return this.health.check([() => this.pgflow.isHealthy('pgflow', { maxQueueAgeSeconds: 60 })]);
  }
}
