#!/usr/bin/env node
/**
 * `npx nestjs-pgflow <command>`: operates the workflows of the database in DATABASE_URL from a
 * shell. The package's `bin`; the work is in cli.ts.
 */
import { runCli } from './cli.ts';

process.exitCode = await runCli(process.argv.slice(2), {
  env: process.env,
  out: (text) => process.stdout.write(`${text}\n`),
  err: (text) => process.stderr.write(`${text}\n`),
});
