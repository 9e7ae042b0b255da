import fs from 'node:fs';
import path from 'node:path';

let root: string | undefined;

/**
 * The folder holding package.json. Code runs from `src/` under vitest and from `dist/src/` when
 * compiled, so paths to sources (migrations, schema.graphql) are resolved from here, not from
 * `__dirname` or the working directory.
 */
export function projectRoot(): string {
  if (root) return root;
  let dir = __dirname;
  while (!fs.existsSync(path.join(dir, 'package.json'))) {
    const up = path.dirname(dir);
    if (up === dir) throw new Error(`package.json not found above ${__dirname}`);
    dir = up;
  }
  root = dir;
  return dir;
}
