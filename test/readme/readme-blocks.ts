/** The fenced code blocks of README.md, for the tests that keep them true. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from '../../tools/local-postgres.ts';

export interface CodeBlock {
  readonly language: string;
  readonly code: string;
  /** 1-based line of the opening fence. */
  readonly line: number;
  /** The title of the `## ` section the block is in ('' before the first one). */
  readonly section: string;
}

export function readmeBlocks(): CodeBlock[] {
  const text = readFileSync(join(projectRoot(), 'README.md'), 'utf8');
  const blocks: CodeBlock[] = [];
  const lines = text.split('\n');
  let section = '';
  for (let i = 0; i < lines.length; i++) {
    const heading = /^## (.+)$/.exec(lines[i] as string);
    if (heading) section = heading[1] as string;
    const open = /^```(\w*)\s*$/.exec(lines[i] as string);
    if (!open) continue;
    const start = i;
    const body: string[] = [];
    for (i += 1; i < lines.length && !/^```\s*$/.test(lines[i] as string); i++) body.push(lines[i] as string);
    blocks.push({ language: open[1] ?? '', code: `${body.join('\n')}\n`, line: start + 1, section });
  }
  return blocks;
}
