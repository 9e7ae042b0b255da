/* Builds the dashboard (issue 17): bundles web/src with esbuild into dist/web/assets under
 * content-hashed names, and writes dist/web/index.html naming them. Run by `npm run build`; the
 * browser tests call `buildWeb` so they always test the current sources. */
import fs from 'node:fs';
import path from 'node:path';
import { build } from 'esbuild';
import { projectRoot, webDist } from '../http/web-root';

/**
 * Bundles the dashboard into `outdir` (default dist/web), replacing what was there; returns the
 * asset names. Built aside and swapped in by two renames, so a server starting meanwhile finds
 * the old build, the new one or none, never half of one.
 */
export async function buildWeb(outdir: string = webDist()): Promise<{ script: string; style: string }> {
  const root = projectRoot();
  const building = `${outdir}-building-${process.pid}`;
  const assets = path.join(building, 'assets');
  fs.rmSync(building, { recursive: true, force: true });
  const result = await build({
    entryPoints: { app: path.join(root, 'web', 'src', 'main.ts') },
    bundle: true,
    minify: true,
    sourcemap: 'linked',
    format: 'esm',
    target: ['chrome110', 'firefox110', 'safari16'],
    outdir: assets,
    entryNames: '[name]-[hash]',
    assetNames: '[name]-[hash]',
    metafile: true,
    logLevel: 'warning',
    tsconfig: path.join(root, 'web', 'tsconfig.json'),
  });
  const outputs = Object.keys(result.metafile.outputs).map((f) => path.basename(f));
  const script = outputs.find((f) => /^app-.*\.js$/.test(f));
  const style = outputs.find((f) => /^app-.*\.css$/.test(f));
  if (!script || !style) throw new Error(`esbuild wrote no app script or stylesheet: ${outputs.join(', ')}`);
  const template = fs.readFileSync(path.join(root, 'web', 'index.html'), 'utf8');
  const html = template.replace('%SCRIPT%', `/assets/${script}`).replace('%STYLE%', `/assets/${style}`);
  fs.writeFileSync(path.join(building, 'index.html'), html);
  const old = `${outdir}-old-${process.pid}`;
  if (fs.existsSync(outdir)) fs.renameSync(outdir, old);
  fs.renameSync(building, outdir);
  fs.rmSync(old, { recursive: true, force: true });
  return { script, style };
}

if (require.main === module) {
  buildWeb().then(
    ({ script, style }) => process.stdout.write(`dashboard built: dist/web/assets/${script}, ${style}\n`),
    (e: unknown) => {
      // As the other CLIs do: the message on stderr (esbuild's own report is printed as it fails).
      process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
      process.exit(1);
    },
  );
}
