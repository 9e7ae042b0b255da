import { Migration } from '@mikro-orm/migrations';

export class Migration20261122045607_initial extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table \`department\` (\`id\` text not null, \`version\` integer not null default 1, \`created_at\` datetime not null, \`updated_at\` datetime not null, \`code\` text not null, \`name\` text not null, \`parent_id\` text null, \`archived_at\` datetime null, constraint \`department_parent_id_foreign\` foreign key(\`parent_id\`) references \`department\`(\`id\`) on delete restrict on update cascade, primary key (\`id\`));`);
    this.addSql(`create unique index \`department_code_unique\` on \`department\` (\`code\`);`);
    this.addSql(`create index \`department_parent_id_index\` on \`department\` (\`parent_id\`);`);

    this.addSql(`create table \`idempotency_record\` (\`id\` text not null, \`scope\` text not null, \`operation\` text not null, \`key\` text not null, \`request_hash\` text not null, \`result_id\` text not null, \`created_at\` datetime not null, primary key (\`id\`));`);
    this.addSql(`create unique index \`idempotency_record_scope_operation_key_unique\` on \`idempotency_record\` (\`scope\`, \`operation\`, \`key\`);`);

    this.addSql(`create table \`metric\` (\`id\` text not null, \`version\` integer not null default 1, \`created_at\` datetime not null, \`updated_at\` datetime not null, \`code\` text not null, \`name\` text not null, \`unit\` text not null, \`direction\` text check (\`direction\` in ('HIGHER_IS_BETTER', 'LOWER_IS_BETTER')) not null, \`source\` text check (\`source\` in ('MANUAL', 'AUTOMATED')) not null, \`description\` text not null default '', \`min_value\` double null, \`max_value\` double null, \`integer_only\` integer not null default false, \`archived_at\` datetime null, primary key (\`id\`));`);
    this.addSql(`create unique index \`metric_code_unique\` on \`metric\` (\`code\`);`);

    this.addSql(`create table \`service\` (\`id\` text not null, \`version\` integer not null default 1, \`created_at\` datetime not null, \`updated_at\` datetime not null, \`code\` text not null, \`name\` text not null, \`description\` text not null default '', \`provider_id\` text not null, \`archived_at\` datetime null, constraint \`service_provider_id_foreign\` foreign key(\`provider_id\`) references \`department\`(\`id\`) on delete restrict on update cascade, primary key (\`id\`));`);
    this.addSql(`create unique index \`service_code_unique\` on \`service\` (\`code\`);`);
    this.addSql(`create index \`service_provider_id_index\` on \`service\` (\`provider_id\`);`);
  }

}
