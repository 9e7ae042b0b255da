import { Arg, Authorized, Ctx, Field, InputType, Int, Mutation, ObjectType, Resolver } from 'type-graphql';
import type { Context } from '../../common/context';
import { BadUserInputError, UnauthenticatedError } from '../../common/errors';
import { windowMonths } from '../../common/month-window';
import { DateTimeScalar } from '../../common/scalars';
import { UserError, UserErrorCode } from '../../common/user-error';
import { DEFAULT_LINK_TTL_SECONDS, exportLinkSettings, MAX_LINK_TTL_SECONDS, signedPath } from './export-link';
import { FactFilter } from './exports.resolver';
import { FACT_TABLES, factTableOf } from './fact-tables';

@InputType({ description: 'A CSV export to link to: the table, its filter, and how long the link works.' })
export class CreateExportLinkInput {
  @Field({ description: 'The CSV’s name, as in `/export/<entity>.csv`: measurements, handoffs, reports, exclusions, amendments, agreement-versions, escalations, credits, scorecards.' })
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

/** What is wrong with a link request, as user errors (all at once, before any signing). */
function linkProblems(input: CreateExportLinkInput): UserError[] {
  const errors: UserError[] = [];
  if (!factTableOf(input.entity))
    errors.push(new UserError('entity', UserErrorCode.INVALID, `expected one of ${FACT_TABLES.map((t) => t.file).join(', ')}, received ${JSON.stringify(input.entity.slice(0, 100))}`));
  const ttl = input.ttlSeconds ?? DEFAULT_LINK_TTL_SECONDS;
  if (!Number.isInteger(ttl) || ttl < 1 || ttl > MAX_LINK_TTL_SECONDS)
    errors.push(new UserError('ttlSeconds', UserErrorCode.INVALID, `expected 1 to ${MAX_LINK_TTL_SECONDS} seconds, received ${ttl}`));
  try {
    // The months are Month scalars already; the window's order and length are checked here.
    windowMonths(input.filter.from, input.filter.to);
  } catch (e) {
    if (!(e instanceof BadUserInputError)) throw e;
    errors.push(new UserError('filter.to', UserErrorCode.INVALID, e.message));
  }
  return errors;
}

@Resolver()
export class ExportLinkResolver {
  @Authorized()
  @Mutation(() => ExportLinkPayload, {
    description: `A signed link to a CSV export (\`/export/<entity>.csv\` with the filter), for tools that cannot send a header: it is bound to the calling token, the table and the filter, and works for \`ttlSeconds\` (at most ${MAX_LINK_TTL_SECONDS}). Any principal that may pull the facts may link to them. Writes nothing.`,
  })
  async createExportLink(@Ctx() ctx: Context, @Arg('input') input: CreateExportLinkInput): Promise<ExportLinkPayload> {
    if (!ctx.principal) throw new UnauthenticatedError();
    const userErrors = linkProblems(input);
    if (userErrors.length) return { link: null, userErrors };
    const expires = Math.floor(ctx.request.now.getTime() / 1000) + (input.ttlSeconds ?? DEFAULT_LINK_TTL_SECONDS);
    const path = await signedPath(ctx.em, { file: input.entity, filter: input.filter, tokenId: ctx.principal.tokenId, expires });
    return { link: { url: `${exportLinkSettings(ctx.em).baseUrl}${path}`, path, expiresAt: new Date(expires * 1000) }, userErrors: [] };
  }
}
