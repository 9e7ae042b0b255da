import { isUUID } from 'class-validator';
import type { Context } from '../../common/context';

/**
 * A fact filter with its departments as codes, which the fact queries filter by (issue 16: every
 * filter that names a department takes its id or its code). An id becomes its department's code;
 * an unknown id is left as it is, a code no department has, so it matches nothing (as an unknown
 * code always has). Used by the facts connections and the CSV export alike.
 */
export async function byCodes<F extends { provider?: string | null; customer?: string | null }>(ctx: Pick<Context, 'loaders'>, filter: F): Promise<F> {
  const code = async (ref: string | null | undefined): Promise<string | null | undefined> => {
    if (!ref || !isUUID(ref.trim())) return ref;
    return (await ctx.loaders.departmentById.load(ref.trim().toLowerCase()))?.code ?? ref;
  };
  const [provider, customer] = await Promise.all([code(filter.provider), code(filter.customer)]);
  return Object.assign(Object.create(Object.getPrototypeOf(filter) as object) as F, filter, { provider, customer });
}
