import { Injectable } from '@nestjs/common';
import { type HealthIndicatorResult, HealthIndicatorService } from '@nestjs/terminus';
import { PgflowHealth, type PgflowHealthOptions } from './pgflow-health.service.ts';

/**
 * A @nestjs/terminus health indicator for PgflowModule: up when the database answers, this process's
 * worker runs and beats, and the optional limits hold; down with the reasons in `message` otherwise.
 * The details (worker state, heartbeat age, oldest visible message age per served flow, stalled
 * tasks) are in both cases. Import it from `nestjs-pgflow/health` and list it among the providers of
 * a module that imports TerminusModule.
 */
@Injectable()
export class PgflowHealthIndicator {
  constructor(
    private readonly indicators: HealthIndicatorService,
    private readonly health: PgflowHealth,
  ) {}

  async isHealthy<const Key extends string = 'pgflow'>(
    key: Key = 'pgflow' as Key,
    options: PgflowHealthOptions = {},
  ): Promise<HealthIndicatorResult<Key>> {
    const indicator = this.indicators.check(key);
    const { healthy, problems, ...details } = await this.health.check(options);
    return healthy ? indicator.up(details) : indicator.down({ message: problems.join(' '), ...details });
  }
}
