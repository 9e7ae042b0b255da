import { Migration } from '@mikro-orm/migrations';

export class Migration20261122063021_amendment_approvals extends Migration {

  override async up(): Promise<void> {
    this.addSql(`alter table \`amendment\` add column \`provider_approved_at\` datetime null;`);
    this.addSql(`alter table \`amendment\` add column \`customer_approved_at\` datetime null;`);
  }

}
