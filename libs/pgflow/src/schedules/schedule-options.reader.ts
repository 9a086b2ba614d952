/**
 * Reading a flow class's `@FlowSchedule()` decorations (unknown values) into checked
 * {@link ScheduleDefinition}s, recording a problem for each invalid one, so that a bad cron, an
 * unknown time zone or a duplicate name stops the boot with the flow's other problems.
 */

import { isPlainObject } from '../definition/flow-options.reader.ts';
import { unknownKeyProblems } from '../definition/option-rules.ts';
import { type ProblemList, quoteList } from '../definition/problem-list.ts';
import type { FlowClassMetadata } from '../discovery/pgflow-metadata.accessor.ts';
import { describeValue } from '../errors/invalid-options.error.ts';
import { NotJsonError } from '../errors/not-json.error.ts';
import type { JsonValue } from '../json/json-value.ts';
import { toJsonValue } from '../json/to-json-value.ts';
import type { ScheduleCatchUp, ScheduleOverlap } from '../types/schedule-options.ts';
import { CronSchedule } from './schedule-cron.ts';
import { SCHEDULE_NAME_PATTERN, type ScheduleDefinition } from './schedule-definition.ts';

const OPTION_KEYS = ['name', 'timeZone', 'input', 'overlap', 'catchUp'];
const OVERLAPS: readonly ScheduleOverlap[] = ['allow', 'skip'];
const CATCH_UPS: readonly ScheduleCatchUp[] = ['none', 'latest', 'all'];

/**
 * The class's schedules; `flowSlug` is the default name (undefined when the slug is invalid, which
 * is reported already), `hasRootMap` whether a run input must be an array.
 */
export function readSchedules(
  metadata: FlowClassMetadata,
  flowSlug: string | undefined,
  hasRootMap: boolean,
  problems: ProblemList,
): ScheduleDefinition[] {
  if (metadata.schedules.length > 0 && !metadata.hasFlowDecorator) {
    problems.add(
      'INVALID_SCHEDULE',
      '@FlowSchedule() is on a class without @Flow(): a schedule starts runs of a flow. Add @Flow({ slug }) to ' +
        'the class, or remove @FlowSchedule().',
    );
    return [];
  }
  const schedules: ScheduleDefinition[] = [];
  for (const [index, declared] of metadata.schedules.entries()) {
    const schedule = readSchedule(declared.cron, declared.options, flowSlug, hasRootMap, index, problems);
    if (schedule !== undefined) schedules.push(schedule);
  }
  const seen = new Set<string>();
  for (const schedule of schedules) {
    if (!seen.has(schedule.name)) {
      seen.add(schedule.name);
      continue;
    }
    problems.add(
      'DUPLICATE_SCHEDULE_NAME',
      `two @FlowSchedule() decorations are named '${schedule.name}'` +
        (schedule.name === flowSlug ? ' (the default name is the flow slug)' : '') +
        ". Give each schedule of the flow its own name: @FlowSchedule(cron, { name: '...' }).",
    );
  }
  return schedules;
}

function readSchedule(
  cron: unknown,
  raw: unknown,
  flowSlug: string | undefined,
  hasRootMap: boolean,
  index: number,
  problems: ProblemList,
): ScheduleDefinition | undefined {
  const which = `@FlowSchedule(${describeValue(cron)})`;
  const problemCount = problems.size;
  const options = raw === undefined ? {} : raw;
  if (!isPlainObject(options)) {
    problems.add(
      'INVALID_SCHEDULE',
      `${which} expects an options object like { name: 'nightly' }, got ${describeValue(raw)}.`,
    );
    return undefined;
  }
  for (const text of unknownKeyProblems(options, OPTION_KEYS)) problems.add('INVALID_SCHEDULE', `${which}: ${text}.`);

  const name = options.name ?? flowSlug ?? `schedule_${index + 1}`;
  if (typeof name !== 'string' || !SCHEDULE_NAME_PATTERN.test(name)) {
    problems.add(
      'INVALID_SCHEDULE',
      `${which} has name ${describeValue(name)}; a schedule name is 1 to 128 letters, digits, _ . : or - ` +
        "(starting with a letter, digit or _), e.g. { name: 'nightly_report' }.",
    );
  }
  const timeZone = options.timeZone ?? 'UTC';
  const expression = typeof cron === 'string' ? cron.trim() : undefined;
  if (expression === undefined || ![5, 6].includes(expression.split(/\s+/).length)) {
    problems.add(
      'INVALID_SCHEDULE',
      `${which}: the cron must be a string of 5 fields (minute hour day-of-month month day-of-week, e.g. ` +
        "'0 3 * * *' for 03:00 every day) or 6 (seconds first, e.g. '*/10 * * * * *' for every 10 seconds).",
    );
  } else if (typeof timeZone !== 'string') {
    problems.add(
      'INVALID_SCHEDULE',
      `${which} has timeZone ${describeValue(timeZone)}; expected an IANA time zone name like 'Europe/Paris'.`,
    );
  } else {
    cronProblem(expression, timeZone, which, problems);
  }
  const overlap = choice(options.overlap, 'overlap', OVERLAPS, which, problems) ?? 'allow';
  const catchUp = choice(options.catchUp, 'catchUp', CATCH_UPS, which, problems) ?? 'latest';
  const input = readInput(options, hasRootMap, which, problems);
  if (problems.size > problemCount) return undefined;
  return Object.freeze({
    name: name as string,
    cron: expression as string,
    timeZone: timeZone as string,
    input,
    overlap,
    catchUp,
  });
}

/** Records why croner refuses the cron or the time zone, or that the cron never fires. */
function cronProblem(expression: string, timeZone: string, which: string, problems: ProblemList): void {
  let schedule: CronSchedule;
  try {
    schedule = new CronSchedule(expression, timeZone);
  } catch (error) {
    const timeZoneRefused = error instanceof RangeError && (error as Error).message.startsWith('unknown time zone');
    problems.add(
      'INVALID_SCHEDULE',
      timeZoneRefused
        ? `${which} has timeZone ${describeValue(timeZone)}, which is not a time zone this runtime knows. Use an ` +
            "IANA name like 'UTC', 'Europe/Paris' or 'America/New_York'."
        : `${which} is not a valid cron expression (${(error as Error).message}). Write 5 fields (minute hour ` +
            "day-of-month month day-of-week, e.g. '0 3 * * *') or 6 with seconds first.",
    );
    return;
  }
  if (schedule.nextAfter(new Date()) === null) {
    problems.add('INVALID_SCHEDULE', `${which} never fires (no date matches it). Check its day and month fields.`);
  }
}

function readInput(
  options: Record<string, unknown>,
  hasRootMap: boolean,
  which: string,
  problems: ProblemList,
): JsonValue | undefined {
  if (!('input' in options) || options.input === undefined) {
    if (hasRootMap) {
      problems.add(
        'INVALID_SCHEDULE',
        `${which} has no input, so its runs would get { scheduledAt }, but the flow maps over its input, which ` +
          "must be an array: give the schedule an input, e.g. { input: ['a', 'b'] }.",
      );
    }
    return undefined;
  }
  let input: JsonValue;
  try {
    input = toJsonValue(options.input, 'input');
  } catch (error) {
    if (!(error instanceof NotJsonError)) throw error;
    problems.add('INVALID_SCHEDULE', `${which}: the input is not JSON: ${error.message}.`);
    return undefined;
  }
  if (hasRootMap && !Array.isArray(input)) {
    problems.add(
      'INVALID_SCHEDULE',
      `${which} has input ${describeValue(options.input)}, but the flow maps over its input, which must be an array.`,
    );
    return undefined;
  }
  return structuredClone(input);
}

function choice<T extends string>(
  value: unknown,
  name: string,
  allowed: readonly T[],
  which: string,
  problems: ProblemList,
): T | undefined {
  if (value === undefined) return undefined;
  if (allowed.includes(value as T)) return value as T;
  problems.add(
    'INVALID_SCHEDULE',
    `${which} has ${name} ${describeValue(value)}; expected ${quoteList(allowed, 'or')}.`,
  );
  return undefined;
}
