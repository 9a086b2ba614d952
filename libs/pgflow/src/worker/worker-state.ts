/**
 * The worker's lifecycle as an explicit state machine: the allowed transitions are this table, and
 * any other transition is a bug that throws.
 */
export type WorkerState = 'created' | 'starting' | 'running' | 'stopping' | 'stopped';

const TRANSITIONS: Readonly<Record<WorkerState, readonly WorkerState[]>> = {
  created: ['starting', 'stopped'],
  // stopping: a shutdown during startup; stopped: startup failed.
  starting: ['running', 'stopping', 'stopped'],
  running: ['stopping'],
  stopping: ['stopped'],
  stopped: [],
};

export class WorkerStateMachine {
  private current: WorkerState = 'created';

  get state(): WorkerState {
    return this.current;
  }

  is(...states: WorkerState[]): boolean {
    return states.includes(this.current);
  }

  transition(to: WorkerState): void {
    if (!TRANSITIONS[this.current].includes(to)) {
      throw new Error(`Illegal pgflow worker transition from '${this.current}' to '${to}'.`);
    }
    this.current = to;
  }
}
