/**
 * The command line of `npx nestjs-pgflow <command>` (main.ts runs it): parses it, checks it, runs the
 * command against DATABASE_URL and prints the result. Exit codes: 0 done, 1 refused or failed, 2 bad
 * usage (with the usage line).
 */
import { parseArgs } from 'node:util';
import pg from 'pg';
import { type CommandInput, type CommandOutput, ENGINE_COMMANDS } from './cli-commands.ts';
import { migrate } from './cli-migrate.ts';
import { json } from './cli-output.ts';
import { HELP, RefusedError, USAGE_LINE, UsageError } from './cli-usage.ts';

/** Where the CLI prints, and what it reads (tests pass their own). */
export interface CliIo {
  readonly env: NodeJS.ProcessEnv;
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
}

const OPTIONS = {
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  flow: { type: 'string' },
  status: { type: 'string' },
  limit: { type: 'string' },
  reason: { type: 'string' },
  'from-step': { type: 'string' },
  'older-than': { type: 'string' },
} as const;

/** Runs the command line `args` and returns the exit code. */
export async function runCli(args: readonly string[], io: CliIo): Promise<number> {
  let asJson = args.includes('--json');
  try {
    const { values, positionals } = parse(args);
    asJson = values.json === true;
    const [command, ...rest] = positionals;
    if (values.help === true || command === 'help') {
      io.out(HELP);
      return 0;
    }
    if (command === undefined) throw new UsageError('No command given.');
    const output = await execute(command, rest, values, io.env);
    io.out(asJson ? json(output.json) : output.text);
    return 0;
  } catch (error) {
    const code = error instanceof UsageError ? 2 : 1;
    const message = error instanceof Error ? error.message : String(error);
    if (asJson) io.err(json({ error: message, exitCode: code }));
    else if (error instanceof UsageError || error instanceof RefusedError) io.err(message);
    else io.err(`nestjs-pgflow ${args[0] ?? ''} failed: ${describeFailure(error)}`);
    if (error instanceof UsageError) io.err(USAGE_LINE);
    return code;
  }
}

function parse(args: readonly string[]) {
  try {
    return parseArgs({ args: [...args], options: OPTIONS, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

async function execute(
  command: string,
  positionals: readonly string[],
  options: Record<string, string | boolean | undefined>,
  env: NodeJS.ProcessEnv,
): Promise<CommandOutput> {
  const spec = ENGINE_COMMANDS[command];
  if (spec === undefined && command !== 'migrate') {
    throw new UsageError(
      `Unknown command '${command}'. The commands: migrate, ${Object.keys(ENGINE_COMMANDS).join(', ')}.`,
    );
  }
  const expected = spec?.positionals ?? [];
  if (positionals.length !== expected.length) {
    const wanted = expected.length === 0 ? 'no argument' : expected.map((name) => `<${name}>`).join(' ');
    throw new UsageError(
      `${command} takes ${wanted}; got ${positionals.length === 0 ? 'none' : positionals.join(' ')}.`,
    );
  }
  for (const name of Object.keys(options)) {
    if (name === 'json' || name === 'help' || options[name] === undefined) continue;
    if (!(spec?.options ?? []).includes(name)) throw new UsageError(`${command} takes no --${name} option.`);
  }
  const url = env.DATABASE_URL?.trim();
  if (!url) {
    throw new UsageError(
      'DATABASE_URL is not set: set it to the database, e.g. DATABASE_URL=postgres://user@host:5432/app.',
    );
  }
  if (spec === undefined) return migrate(url);

  let client: pg.Client | undefined;
  const input: CommandInput = {
    positionals,
    options,
    client: async () => {
      if (client === undefined) {
        client = new pg.Client({ connectionString: url, application_name: `nestjs-pgflow ${command}` });
        await client.connect();
      }
      return client;
    },
  };
  try {
    return await spec.run(input);
  } finally {
    await client?.end();
  }
}

/**
 * What went wrong, for a person: the error's message with its SQLSTATE or system code (a connection
 * refused, a database that does not exist); the stack only with NODE_DEBUG=nestjs-pgflow.
 */
function describeFailure(error: unknown): string {
  const { message, code, stack } = (error ?? {}) as { message?: string; code?: string; stack?: string };
  if (process.env.NODE_DEBUG?.includes('nestjs-pgflow') && stack) return stack;
  const text = message || String(error);
  return code && !text.includes(code) ? `${text} (${code})` : text;
}
