/* Line charts over months (uPlot, bundled: no CDN). The data each chart was given is also written
 * to its `data-chart` attribute as JSON, for tests and for anyone who reads rather than looks. */
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { h } from './dom';
import { monthLabel } from './months';

export interface ChartSeries {
  label: string;
  values: Array<number | null>;
  /** A CSS colour for the line. */
  stroke: string;
  dash?: number[];
}

let firstChartMarked = false;

/** The epoch seconds of a month's first day (uPlot's x axis is time). */
function monthSeconds(month: string): number {
  const [y, m] = month.split('-').map(Number);
  return Date.UTC(y, m - 1, 1) / 1000;
}

/**
 * A figure holding a line chart of `series` over `months`, with a caption and, for screen readers
 * and tests, the same figures as JSON in `data-chart`. The first chart of the page sets the
 * performance mark `first-chart`.
 */
export function lineChart(options: { id: string; title: string; months: string[]; series: ChartSeries[]; yLabel?: string; height?: number }): HTMLElement {
  const { months, series } = options;
  const holder = h('div', { class: 'chart-canvas', 'aria-hidden': 'true' });
  const summary = series.map((s) => `${s.label}: ${s.values.map((v, i) => `${monthLabel(months[i])} ${v === null ? 'no data' : Math.round(v * 100) / 100}`).join(', ')}`).join('. ');
  const figure = h(
    'figure',
    { class: 'chart', id: options.id, 'data-chart': JSON.stringify({ months, series: Object.fromEntries(series.map((s) => [s.label, s.values])) }) },
    h('figcaption', {}, options.title),
    holder,
    h('p', { class: 'sr-only' }, summary),
  );
  // Drawn once the figure is in the page (uPlot measures its container).
  requestAnimationFrame(() => {
    const width = Math.max(280, holder.clientWidth || 600);
    new uPlot(
      {
        width,
        height: options.height ?? 220,
        scales: { x: { time: true } },
        axes: [{ values: (_u, ticks) => ticks.map((t) => monthLabel(new Date(t * 1000).toISOString().slice(0, 7))) }, { label: options.yLabel, size: 50 }],
        series: [{}, ...series.map((s) => ({ label: s.label, stroke: s.stroke, width: 2, dash: s.dash, spanGaps: false, points: { show: true, size: 6 } }))],
      },
      [months.map(monthSeconds), ...series.map((s) => s.values)] as uPlot.AlignedData,
      holder,
    );
    figure.setAttribute('data-rendered', 'true');
    if (!firstChartMarked) {
      firstChartMarked = true;
      performance.mark('first-chart');
    }
  });
  return figure;
}
