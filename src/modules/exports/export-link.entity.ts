import { Entity, PrimaryKey, Property } from '@mikro-orm/core';

/**
 * The key that signs export links when no `EXPORT_LINK_SECRET` is configured: generated once per
 * database (the first link made), so every instance on the database and every restart verifies
 * the links the others signed (docs/decisions.md, "Issue 16: signed export links").
 */
@Entity({ tableName: 'export_link_secret' })
export class ExportLinkSecret {
  @PrimaryKey({ type: 'integer', autoincrement: false })
  id!: number;

  /** 32 random bytes, base64url. */
  @Property({ type: 'string', length: 100 })
  secret!: string;

  @Property({ type: 'Date' })
  createdAt!: Date;
}
