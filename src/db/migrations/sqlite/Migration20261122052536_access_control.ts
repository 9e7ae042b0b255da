import { Migration } from '@mikro-orm/migrations';

export class Migration20261122052536_access_control extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table \`app_user\` (\`id\` text not null, \`version\` integer not null default 1, \`created_at\` datetime not null, \`updated_at\` datetime not null, \`name\` text not null, \`email\` text not null, \`role\` text not null, \`department_id\` text null, \`deactivated_at\` datetime null, constraint \`app_user_department_id_foreign\` foreign key(\`department_id\`) references \`department\`(\`id\`) on delete restrict on update cascade, primary key (\`id\`));`);
    this.addSql(`create unique index \`app_user_email_unique\` on \`app_user\` (\`email\`);`);
    this.addSql(`create index \`app_user_department_id_index\` on \`app_user\` (\`department_id\`);`);

    this.addSql(`create table \`api_token\` (\`id\` text not null, \`version\` integer not null default 1, \`created_at\` datetime not null, \`updated_at\` datetime not null, \`user_id\` text not null, \`name\` text not null, \`prefix\` text not null, \`secret_hash\` text not null, \`expires_at\` datetime null, \`last_used_at\` datetime null, \`revoked_at\` datetime null, constraint \`api_token_user_id_foreign\` foreign key(\`user_id\`) references \`app_user\`(\`id\`) on delete restrict on update cascade, primary key (\`id\`));`);
    this.addSql(`create index \`api_token_user_id_index\` on \`api_token\` (\`user_id\`);`);
    this.addSql(`create unique index \`api_token_secret_hash_unique\` on \`api_token\` (\`secret_hash\`);`);
  }

}
