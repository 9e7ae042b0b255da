import { Migration } from '@mikro-orm/migrations';
import { searchTextOf } from '../../../common/codes';

/** Departments, services and metrics get a folded search text (`filter.search`), filled in for existing rows. */
export class Migration20261126033339_search_text extends Migration {
  override async up(): Promise<void> {
    for (const table of ['department', 'metric', 'service']) {
      this.addSql(`alter table \`${table}\` add column \`search_text\` text not null default '';`);
      // Filled in JavaScript: the folding (src/common/codes.ts) is the same on both engines only there.
      const rows = (await this.execute(`select \`id\`, \`code\`, \`name\` from \`${table}\``)) as Array<{ id: string; code: string; name: string }>;
      for (const row of rows) this.addSql(this.getKnex()(table).update({ search_text: searchTextOf(row) }).where({ id: row.id }));
    }
  }
}
