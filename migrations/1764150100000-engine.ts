import type { MigrationInterface, QueryRunner } from 'typeorm';
import * as completeTasks from './engine/complete-tasks.ts';
import * as definitions from './engine/definitions.ts';
import * as events from './engine/events.ts';
import * as failTasks from './engine/fail-tasks.ts';
import * as maintenance from './engine/maintenance.ts';
import * as runProgress from './engine/run-progress.ts';
import * as shapes from './engine/shapes.ts';
import * as startSteps from './engine/start-steps.ts';
import * as tables from './engine/tables.ts';
import * as tasks from './engine/tasks.ts';
import { runMigrationSql } from './support/run-migration-sql.ts';

/**
 * The workflow engine (schema pgflow): definitions, runtime state and the functions that drive it.
 * Order matters only where PostgreSQL checks a body at creation (SQL-language functions).
 */
const up = [
  tables.createSchema,
  tables.createSlugFunction,
  tables.createDefinitionTables,
  tables.createRuntimeTables,
  events.createEmitEvents,
  events.createEmitStepEvents,
  events.createEmitRunEvents,
  definitions.createCalculateRetryDelay,
  definitions.createSlugProblem,
  definitions.createAssertFlowSlug,
  definitions.createAssertOption,
  definitions.createCreateFlow,
  definitions.createAddStep,
  runProgress.createPropagateCompletedSteps,
  runProgress.createSkipSteps,
  runProgress.createFailRun,
  runProgress.createResolveConditions,
  runProgress.createCompleteTasklessSteps,
  startSteps.createStartReadyStepsInternal,
  startSteps.createCompleteFinishedRuns,
  startSteps.createAdvanceRuns,
  startSteps.createPublicCascadeFunctions,
  startSteps.createStartFlows,
  startSteps.createStartFlow,
  tasks.createSetVtBatch,
  tasks.createFindTaskByMessage,
  tasks.createStartTasksInternal,
  tasks.createStartTasks,
  tasks.createClaimTasks,
  tasks.createReleaseTasks,
  tasks.createNextVisibleAt,
  completeTasks.createFindTask,
  completeTasks.createCompleteTasksInternal,
  completeTasks.createAssertTaskExists,
  completeTasks.createAssertTaskList,
  completeTasks.createCompleteTasks,
  completeTasks.createCompleteTask,
  failTasks.createFailTasksInternal,
  failTasks.createFailTasks,
  failTasks.createFailTask,
  failTasks.createRequeueStalledTasks,
  tasks.createReportAndClaim,
  shapes.createGetFlowShape,
  shapes.createNormalizeShapeStep,
  shapes.createCompareFlowShapes,
  shapes.createCreateFlowFromShape,
  shapes.createSyncFlowOptions,
  maintenance.createDeleteFlowAndData,
  shapes.createEnsureFlowCompiled,
  maintenance.createGetRunWithStates,
  maintenance.createStartFlowWithStates,
  maintenance.createMarkWorkerStopped,
  // New functions are executable by PUBLIC by default; the engine grants nothing to anyone.
  'revoke execute on all functions in schema pgflow from public;',
];

const down = [
  `do $$
   declare
     v_flow text;
   begin
     for v_flow in select f.flow_slug from pgflow.flows f loop
       if exists (select 1 from pgmq.list_queues() q where q.queue_name = v_flow) then
         perform pgmq.drop_queue(v_flow);
       end if;
     end loop;
   end;
   $$;`,
  'drop schema pgflow cascade;',
];

export class Engine1764150100000 implements MigrationInterface {
  readonly name = 'Engine1764150100000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await runMigrationSql(queryRunner, this.name, 'up', up);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await runMigrationSql(queryRunner, this.name, 'down', down);
  }
}
