/* `npm run ledger:rebuild [-- --check]`
 * Recomputes the score ledger from the facts (closed months from their close records), in one
 * transaction, and prints what it did. With --check it changes nothing: it compares the kept
 * ledger with a rebuild (rolled back) and exits 1 listing the differences when they are not equal. */
import 'reflect-metadata';
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from '../common/config';
import { openOrm } from '../db/orm';
import { compareWithRebuild, rebuildLedger } from '../modules/ledger/ledger.service';

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { check: { type: 'boolean', default: false } } });
  const { orm } = await openOrm(loadConfig());
  try {
    const started = Date.now();
    const now = new Date();
    if (values.check) {
      const { rows, differences } = await compareWithRebuild(orm.em.fork(), now);
      if (differences.length) {
        process.stdout.write(`the kept ledger differs from a rebuild (${rows} rows kept; first ${differences.length} differences):\n${differences.join('\n')}\n`);
        process.exitCode = 1;
        return;
      }
      process.stdout.write(`the kept ledger equals a rebuild: ${rows} rows compared in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
      return;
    }
    const r = await orm.em.fork().transactional((em) => rebuildLedger(em, now));
    process.stdout.write(
      `rebuilt the score ledger: ${r.months} agreement-months scanned, ${r.written} rows written, ${r.closed} months closed now, in ${((Date.now() - started) / 1000).toFixed(1)} s\n`,
    );
  } finally {
    await orm.close(true);
  }
}

main().catch((e) => {
  process.stderr.write(`${e instanceof ConfigError ? e.message : e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
