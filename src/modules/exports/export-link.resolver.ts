import { Arg, Authorized, Ctx, Field, InputType, Int, Mutation, ObjectType, Resolver } from 'type-graphql';
import type { Context } from '../../common/context';
import { DateTimeScalar } from '../../common/scalars';
import { UserError } from '../../common/user-error';
import { createExportLink, DEFAULT_LINK_TTL_SECONDS, MAX_LINK_TTL_SECONDS } from './export-link';
import { FactFilter } from './exports.resolver';
import { FACT_TABLES } from './fact-tables';

@InputType({ description: 'A CSV export to link to: the table, its filter, and how long the link works.' })
export class CreateExportLinkInput {
  @Field({ description: `The CSV’s name, as in \`/export/<entity>.csv\`: ${FACT_TABLES.map((t) => t.file).join(', ')}.` })
  entity!: string;

  @Field(() => FactFilter)
  filter!: FactFilter;

  @Field(() => Int, { nullable: true, description: `Seconds the link works, 1 to ${MAX_LINK_TTL_SECONDS}; ${DEFAULT_LINK_TTL_SECONDS} when left out.` })
  ttlSeconds?: number | null;
}

@ObjectType({ description: 'A signed, short-lived CSV link: it works without an Authorization header until it expires, or until the token it was made with is revoked.' })
export class ExportLink {
  @Field({ description: 'The absolute URL, on the server’s public base URL (DASHBOARD_URL).' })
  url!: string;

  @Field({ description: 'The same link as a path and query, for a client that knows the server’s address.' })
  path!: string;

  @Field(() => DateTimeScalar)
  expiresAt!: Date;
}

@ObjectType()
export class ExportLinkPayload {
  @Field(() => ExportLink, { nullable: true })
  link!: ExportLink | null;

  @Field(() => [UserError])
  userErrors!: UserError[];
}

@Resolver()
export class ExportLinkResolver {
  @Authorized()
  @Mutation(() => ExportLinkPayload, {
    description: `A signed link to a CSV export (\`/export/<entity>.csv\` with the filter), for tools that cannot send a header: it is bound to the calling token, the table and the filter, and works for \`ttlSeconds\` (at most ${MAX_LINK_TTL_SECONDS}). Any principal that may pull the facts may link to them. Writes nothing.`,
  })
  createExportLink(@Ctx() ctx: Context, @Arg('input') input: CreateExportLinkInput): Promise<ExportLinkPayload> {
    return createExportLink(ctx, input);
  }
}
