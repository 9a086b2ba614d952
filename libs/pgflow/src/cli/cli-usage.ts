/** What `nestjs-pgflow --help` prints, and the error for a command line the CLI cannot use. */

export const USAGE_LINE =
  'Usage: nestjs-pgflow <command> [arguments] [--json]   (nestjs-pgflow --help lists the commands)';

export const HELP = `nestjs-pgflow: operate the workflows of a nestjs-pgflow database (DATABASE_URL).

Usage: nestjs-pgflow <command> [arguments] [--json]

Commands:
  migrate                          apply the library's pending migrations
  flows                            the flows, paused or not, with their runs counted by status
  runs [--flow <slug>] [--status <status>] [--limit <n>]
                                   the newest runs (status: started, completed, failed, cancelled;
                                   limit: 1 to 1000, default 20)
  run <run-id>                     one run with its steps and their tasks
  cancel <run-id> [--reason <text>]
                                   cancel a run in progress
  retry <run-id> [--from-step <step>]
                                   retry a failed or cancelled run (or a completed one from a step)
  pause <flow>                     stop workers from taking the flow's tasks
  resume <flow>                    let workers take them again
  prune --older-than <days>        delete the runs that ended more than <days> days ago, with their
                                   steps, tasks and queue messages (pgflow.prune_data_older_than)

Options:
  --json                           print JSON for scripts instead of tables
  -h, --help                       print this help

Exit codes: 0 done, 1 refused by the engine (the reason is printed) or failed, 2 bad usage.
`;

/** A command line the CLI cannot use: exit code 2, the message and the usage line. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** An action the engine refused (or a run or flow that does not exist): exit code 1 with the reason. */
export class RefusedError extends Error {
  override readonly name = 'RefusedError';
}
