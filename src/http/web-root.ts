import fs from 'node:fs';
import path from 'node:path';

/**
 * The project's root: the nearest folder above this module holding package.json. The same from
 * the sources (src/http, under vitest) and from the build (dist/src/http), so the server and the
 * tests find the dashboard's assets in `<root>/dist/web` either way.
 */
export function projectRoot(from: string = __dirname): string {
  let dir = from;
  while (!fs.existsSync(path.join(dir, 'package.json'))) {
    const up = path.dirname(dir);
    if (up === dir) throw new Error(`no package.json above ${from}`);
    dir = up;
  }
  return dir;
}

/** Where `npm run build` writes the dashboard (index.html and hashed assets under assets/). */
export function webDist(): string {
  return path.join(projectRoot(), 'dist', 'web');
}
