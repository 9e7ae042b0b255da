/* The handoff chain Marketing → Sales → Customer Service as a funnel: each stage's volume,
 * acceptance, response time and conversion, rejection reasons, and the bottleneck. */
import { gql } from '../api';
import { h, num, pct, replace } from '../dom';
import { addMonths, monthLabel } from '../months';

interface Stage {
  position: number;
  volume: number;
  qualified: number;
  accepted: number;
  rejected: number;
  converted: number;
  acceptanceRate: number | null;
  conversionRate: number | null;
  responseMedianHours: number | null;
  responseP90Hours: number | null;
  score: number | null;
  rejectionReasons: Array<{ reason: string; count: number }>;
  agreement: { key: string };
  provider: { name: string } | null;
  customer: { name: string } | null;
}
interface ChainData {
  handoffChain: { endToEndConversion: number | null; bottleneck: { position: number } | null; stages: Stage[] };
}

const QUERY = `query DashboardHandoffs($from: ID!, $to: ID!, $start: Month!, $end: Month!) {
  handoffChain(from: $from, to: $to, start: $start, end: $end) {
    endToEndConversion
    bottleneck { position }
    stages { position volume qualified accepted rejected converted acceptanceRate conversionRate responseMedianHours responseP90Hours score
      rejectionReasons { reason count } agreement { key } provider { name } customer { name } }
  }
}`;

/** Renders the funnel from department `from` to `to` over the twelve months ending `end`. */
export async function handoffsView(main: HTMLElement, from: string, to: string, end: string): Promise<void> {
  const start = addMonths(end, -11);
  const { handoffChain: c } = await gql<ChainData>(QUERY, { from, to, start, end });
  const widest = Math.max(1, ...c.stages.map((s) => s.volume));
  replace(
    main,
    h('h1', {}, 'Handoff chain'),
    h('p', { class: 'lede' }, `${from} → ${to}, ${monthLabel(start)} – ${monthLabel(end)}; end-to-end conversion ${pct(c.endToEndConversion === null ? null : c.endToEndConversion / 100)}`),
    c.stages.length
      ? h(
          'ol',
          { class: 'funnel', id: 'funnel' },
          c.stages.map((s) => {
            const bottleneck = c.bottleneck?.position === s.position;
            // The bar's width is a class in steps of 10 % (the CSP forbids inline styles).
            const width = Math.max(1, Math.round((s.volume / widest) * 10));
            return h(
              'li',
              { class: `stage${bottleneck ? ' bottleneck' : ''}`, 'data-volume': s.volume, 'data-position': s.position },
              h('h2', {}, `${s.provider?.name ?? '?'} → ${s.customer?.name ?? '?'}`, bottleneck ? h('span', { class: 'badge st-breached' }, 'bottleneck') : null),
              h('div', { class: `bar w${width}`, 'aria-hidden': 'true' }),
              h(
                'p',
                {},
                `${s.volume} handed over, ${s.accepted} accepted (${pct(s.acceptanceRate === null ? null : s.acceptanceRate / 100)}), ${s.rejected} rejected, ${s.converted} converted (${pct(s.conversionRate === null ? null : s.conversionRate / 100)}); response median ${num(s.responseMedianHours)} h, p90 ${num(s.responseP90Hours)} h; score ${num(s.score)}`,
              ),
              s.rejectionReasons.length ? h('p', { class: 'note' }, `Rejections: ${s.rejectionReasons.map((r) => `${r.reason} ${r.count}`).join(', ')}`) : null,
            );
          }),
        )
      : h('p', {}, 'No handoffs flowed along this chain in the window.'),
  );
}
