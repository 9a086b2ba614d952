/**
 * `npm run migration:freeze`: records the checksum of every migration that has none yet in
 * migrations/frozen.json (see frozen-migrations.ts). A checksum already recorded never changes: a
 * released migration that differs from it is an error to fix, not to freeze again.
 */
import { currentChecksums, FROZEN_FILE, frozenProblems, readFrozen, writeFrozen } from './frozen-migrations.ts';

const current = currentChecksums();
const frozen = readFrozen();
const frozenNames = new Set(frozen.map((entry) => entry.name));
const added = current.filter((entry) => !frozenNames.has(entry.name));
// In the order of pgflowMigrations: a new migration may sort between released ones (its timestamp).
const next = current.filter((entry) => frozenNames.has(entry.name) || added.includes(entry));
const problems = frozenProblems(current, next);
if (problems.length > 0) {
  for (const problem of problems) console.error(problem);
  process.exitCode = 1;
} else if (added.length === 0) {
  console.log(`Every migration is frozen already (${frozen.length} in ${FROZEN_FILE}).`);
} else {
  writeFrozen(next);
  for (const entry of added) console.log(`Froze ${entry.name} (${entry.checksum.slice(0, 12)}).`);
}
