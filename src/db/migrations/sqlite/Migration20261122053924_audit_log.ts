import { Migration } from '@mikro-orm/migrations';

export class Migration20261122053924_audit_log extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table \`audit_entry\` (\`id\` text not null, \`at\` datetime not null, \`actor_user_id\` text null, \`actor_role\` text null, \`request_id\` text null, \`entity_type\` text not null, \`entity_id\` text not null, \`action\` text not null, \`before\` json null, \`after\` json null, primary key (\`id\`));`);
    this.addSql(`create index \`audit_entry_at_index\` on \`audit_entry\` (\`at\`);`);
    this.addSql(`create index \`audit_entry_entity_type_entity_id_at_index\` on \`audit_entry\` (\`entity_type\`, \`entity_id\`, \`at\`);`);

    // Append-only, enforced by the database too (hand-written: the generator knows no triggers).
    this.addSql(`create trigger \`audit_entry_no_update\` before update on \`audit_entry\` begin select raise(abort, 'audit_entry is append-only'); end;`);
    this.addSql(`create trigger \`audit_entry_no_delete\` before delete on \`audit_entry\` begin select raise(abort, 'audit_entry is append-only'); end;`);
  }

}
