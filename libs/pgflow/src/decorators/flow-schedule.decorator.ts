import 'reflect-metadata';
import { FLOW_SCHEDULE_METADATA } from '../pgflow.constants.ts';
import type { FlowScheduleOptions } from '../types/schedule-options.ts';
import { copyOptions } from './flow.decorator.ts';

/** What one `@FlowSchedule()` stores on the class: its arguments exactly as given, checked at bootstrap. */
export interface FlowScheduleMetadata {
  readonly cron: unknown;
  readonly options: unknown;
}

/**
 * Starts a run of the flow on a cron schedule, once per tick across every process of the
 * application (the tick is a key in the database, not a timer per process). Repeatable: a flow may
 * have several schedules (give each a `name`). `cron` has 5 fields (minute hour day-of-month month
 * day-of-week) or 6 (seconds first), read in `timeZone` (default UTC).
 *
 * The decorator only stores its arguments: they are validated with the rest of the flow when the
 * application boots, and the flow's schedules in the database are then made the declared ones
 * (created, changed, or removed when their decorator is gone).
 *
 * ```ts
 * @FlowSchedule('0 3 * * *', { name: 'nightly_link_check', timeZone: 'Europe/Paris', input: { url } })
 * @Flow({ slug: 'analyze_website' })
 * export class AnalyzeWebsiteFlow { ... }
 * ```
 */
export function FlowSchedule(cron: string, options: FlowScheduleOptions = {}): ClassDecorator {
  return (target) => {
    const declared = (Reflect.getOwnMetadata(FLOW_SCHEDULE_METADATA, target) as FlowScheduleMetadata[]) ?? [];
    // Decorators apply bottom-up: the one written first is applied last and goes first.
    const metadata: FlowScheduleMetadata[] = [{ cron, options: copyOptions(options) }, ...declared];
    Reflect.defineMetadata(FLOW_SCHEDULE_METADATA, metadata, target);
  };
}
