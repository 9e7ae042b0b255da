import { Migration } from '@mikro-orm/migrations';

export class Migration20261126115357_fired_notices extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table \`fired_notice\` (\`key\` text not null, \`fired_at\` datetime not null, primary key (\`key\`));`);
  }

}
