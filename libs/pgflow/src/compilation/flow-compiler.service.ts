import { Inject, Injectable, Logger } from '@nestjs/common';
import { sql } from '../db/engine.sql.ts';
import { MigrationsCheck } from '../db/migrations.check.ts';
import { PgflowDatabase } from '../db/pgflow-database.ts';
import { EngineSqlState, sqlStateOf } from '../db/sql-state.ts';
import type { FlowDefinition } from '../definition/flow-definition.ts';
import { toFlowShape } from '../definition/flow-shape.ts';
import { FlowShapeMismatchError } from '../errors/flow-shape-mismatch.error.ts';
import { InvalidFlowDefinitionError } from '../errors/invalid-flow-definition.error.ts';
import { InvalidOptionsError } from '../errors/invalid-options.error.ts';
import { PGFLOW_MODULE_OPTIONS } from '../pgflow.constants.ts';
import type { ResolvedPgflowOptions } from '../pgflow-options.ts';
import { PgflowRegistrations } from '../registration/pgflow-registrations.ts';
import { toScheduleRows } from '../schedules/schedule-definition.ts';

type CompileStatus = 'compiled' | 'verified' | 'recompiled' | 'mismatch';

/**
 * Puts the application's flows in the database at bootstrap (pgflow.ensure_flow_compiled, which
 * holds an advisory lock, so that many processes starting at once compile each flow once), in the
 * module's compilation mode: 'verify' refuses to boot on a flow whose structure changed,
 * 'recompile' replaces it (deleting its runs), false leaves the database alone.
 */
@Injectable()
export class FlowCompiler {
  private readonly logger = new Logger('PgflowCompiler');
  private compiled: Promise<void> | undefined;

  constructor(
    @Inject(PGFLOW_MODULE_OPTIONS) private readonly options: ResolvedPgflowOptions,
    private readonly registrations: PgflowRegistrations,
    private readonly database: PgflowDatabase,
    private readonly migrations: MigrationsCheck,
  ) {}

  /**
   * Checks that the library's migrations are applied, then compiles (or verifies) every flow of this
   * registration's database, once; later calls return the same promise.
   */
  compileAll(): Promise<void> {
    this.compiled ??= this.migrations
      .verify()
      .then(() => this.compileEach(this.registrations.flowsOf(this.options.dataSource)));
    return this.compiled;
  }

  private async compileEach(flows: readonly FlowDefinition[]): Promise<void> {
    const mode = this.options.compilation;
    if (mode === false) return;
    if (mode === 'recompile' && process.env.NODE_ENV === 'production' && !this.options.forceRecompileInProduction) {
      throw new InvalidOptionsError(
        'compilation',
        mode,
        "'verify' in production: NODE_ENV is 'production', and 'recompile' deletes the runs of every flow whose " +
          'definition changed. Use it in development only, or, if you really mean to delete production runs, also ' +
          'set forceRecompileInProduction: true',
      );
    }
    for (const flow of flows) {
      const [row] = await this.database
        .query<{
          result: { status: CompileStatus; differences: string[]; options_changed?: string[] };
        }>(sql.ensureFlowCompiled, [flow.slug, JSON.stringify(toFlowShape(flow)), mode === 'recompile'])
        .catch((error: unknown) => {
          throw nameTakenError(flow, error) ?? error;
        });
      const { status, differences } = row?.result ?? { status: 'mismatch', differences: [] };
      if (status === 'mismatch') throw new FlowShapeMismatchError(flow.slug, differences);
      if (status === 'compiled') this.logger.log(`Flow '${flow.slug}' created in the database.`);
      const changed = row?.result.options_changed ?? [];
      if (changed.length > 0) {
        this.logger.log(`Flow '${flow.slug}': options updated in the database to the code's: ${changed.join('; ')}.`);
      }
      if (status === 'recompiled') {
        this.logger.warn(
          `Flow '${flow.slug}' recompiled (compilation: 'recompile'): its previous definition and runs were ` +
            `deleted. Differences: ${differences.join(' ')}`,
        );
      }
      await this.syncSchedules(flow);
    }
    // The engine's static statements for the flows' queues, up to date with the database's flows
    // (pgflow._write_queue_statements): create_flow writes them too, but skips that while another
    // transaction is writing them, as another application booting at the same moment may be.
    await this.database.query(sql.writeQueueStatements);
  }

  /** Makes the flow's schedules in the database its @FlowSchedule() ones: created, changed, removed. */
  private async syncSchedules(flow: FlowDefinition): Promise<void> {
    const [row] = await this.database
      .query<{ result: { created: string[]; updated: string[]; removed: string[] } }>(sql.syncSchedules, [
        flow.slug,
        JSON.stringify(toScheduleRows(flow.schedules)),
      ])
      .catch((error: unknown) => {
        throw scheduleNameTakenError(flow, error) ?? error;
      });
    const { created = [], updated = [], removed = [] } = row?.result ?? {};
    for (const [names, what] of [
      [created, 'created'],
      [updated, 'updated to the code'],
      [removed, 'removed (no @FlowSchedule() declares it any more)'],
    ] as const) {
      if (names.length > 0) this.logger.log(`Flow '${flow.slug}': schedule(s) ${names.join(', ')} ${what}.`);
    }
  }
}

/** The database refused a schedule name: another flow's schedule has it (PF021; the engine's message names both). */
function scheduleNameTakenError(flow: FlowDefinition, error: unknown): InvalidFlowDefinitionError | undefined {
  if (sqlStateOf(error) !== EngineSqlState.ScheduleNameTaken) return undefined;
  const refused = new InvalidFlowDefinitionError(flow.className, flow.slug, [
    { code: 'SCHEDULE_NAME_TAKEN', message: `the database refused a schedule: ${(error as Error).message}` },
  ]);
  return Object.assign(refused, { cause: error });
}

/**
 * The database refused the flow's slug or alias because another flow there has it as its alias or
 * slug (PF016; flows of other applications, or removed from this one): the engine's message names both.
 */
function nameTakenError(flow: FlowDefinition, error: unknown): InvalidFlowDefinitionError | undefined {
  if (sqlStateOf(error) !== EngineSqlState.FlowNameTaken) return undefined;
  const refused = new InvalidFlowDefinitionError(flow.className, flow.slug, [
    { code: 'FLOW_NAME_TAKEN', message: `the database refused it: ${(error as Error).message}` },
  ]);
  return Object.assign(refused, { cause: error });
}
