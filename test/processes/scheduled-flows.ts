/**
 * The scheduled flow of the reliability tests (worker-process.ts with RELIABILITY_FLOW=scheduled):
 * a schedule every second, with catchUp 'all' so that a tick a busy process reaches late still
 * starts its run; what the test counts is that each tick starts exactly one run.
 */
import { Flow, FlowSchedule, Step } from 'nestjs-pgflow';

export const EVERY_SECOND_SCHEDULE = 'rel_every_second';

@FlowSchedule('* * * * * *', { name: EVERY_SECOND_SCHEDULE, catchUp: 'all' })
@Flow({ slug: 'rel_scheduled' })
export class EverySecondFlow {
  @Step()
  tick(input: { scheduledAt: string }): string {
    return input.scheduledAt;
  }
}
