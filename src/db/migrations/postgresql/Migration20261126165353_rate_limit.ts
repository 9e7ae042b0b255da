import { Migration } from '@mikro-orm/migrations';

/**
 * Shared rate limits (issue 18): the buckets of rate-limiter-flexible's PostgreSQL store
 * (src/http/rate-limit.ts), one row per bucket (`req:token:<hash>`, `req:addr:<address>`,
 * `fail:addr:<address>`) with its points and when its window ends (epoch ms), in the library's
 * own layout. Unlogged: a charge writes no WAL, and a crash only hands every caller a fresh
 * minute. No entity maps it, so the schema diff skips it (`schemaGenerator.skipTables`). Written
 * by hand: the migration generator knows no unlogged tables.
 */
export class Migration20261126165353_rate_limit extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create unlogged table "rate_limit" ("key" varchar(255) not null primary key, "points" integer not null default 0, "expire" bigint null);`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "rate_limit";`);
  }

}
