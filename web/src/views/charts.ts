/**
 * The run's scheduling and overhead metrics as small canvas charts, computed from the events
 * (so a log file gets the same charts as a run made in the page): CPU time and waiting per VM,
 * exits by reason per VM, physical CPU utilisation, wake-up latency, and exits and interrupts
 * over time. When the page ran the simulation itself, the collector's metrics (the ones
 * `vmmsim compare` prints) are shown below as a table.
 */
import type { RunMetrics } from '../../../src/actors/metrics/collector.js';
import { EXIT_REASONS } from '../../../src/core/events.js';
import { formatNs } from '../store/format.js';
import { MARK_IRQ, type RunData } from '../store/runData.js';
import { t, type MessageKey } from '../i18n.js';
import { MARK_COLORS } from './colors.js';
import { chartsOf, maxOf, type BarChart } from './chartData.js';

/** Above this many events the charts do not follow the cursor (each move would re-index them). */
export const CURSOR_CHARTS_LIMIT = 200_000;

export class Charts {
  private scheduled = false;
  private run: RunData | undefined;
  private metrics: RunMetrics | null = null;
  private lastDrawnCount = -1;
  /** The seq the page's cursor shows, or undefined to follow the run's end. */
  private cursor: number | undefined;
  private atCursor: { readonly seq: number; readonly count: number; readonly data: RunData } | undefined;

  constructor(
    private readonly container: HTMLElement,
    private readonly metricsBox: HTMLElement,
  ) {
    new ResizeObserver(() => this.invalidate(true)).observe(container);
  }

  set(run: RunData | undefined, metrics: RunMetrics | null): void {
    this.run = run;
    this.metrics = metrics;
    this.atCursor = undefined;
    this.invalidate(true);
  }

  /** The charts show the run up to the cursor's event (undefined: up to the last event read). */
  setCursor(seq: number | undefined): void {
    if (seq === this.cursor) return;
    this.cursor = seq;
    this.invalidate(true);
  }

  /**
   * The run as the charts show it: up to the cursor, when the cursor is before the last event
   * (re-indexing that many events; a log longer than CURSOR_CHARTS_LIMIT shows its end instead).
   */
  private view(run: RunData): RunData {
    const cursor = this.cursor;
    if (cursor === undefined || cursor >= run.count - 1 || run.count > CURSOR_CHARTS_LIMIT) return run;
    if (this.atCursor === undefined || this.atCursor.seq !== cursor || this.atCursor.count !== run.count) {
      this.atCursor = { seq: cursor, count: run.count, data: run.upTo(cursor) };
    }
    return this.atCursor.data;
  }

  invalidate(force = false): void {
    if (force) this.lastDrawnCount = -1;
    if (this.scheduled) return;
    this.scheduled = true;
    // Charts are cheap but need not follow every streamed piece: at most a few times a second.
    setTimeout(() => {
      this.scheduled = false;
      this.draw();
    }, 250);
  }

  private draw(): void {
    const run = this.run;
    if (run === undefined) {
      this.container.replaceChildren();
      this.metricsBox.replaceChildren();
      return;
    }
    if (this.lastDrawnCount === run.count && run.finished) return;
    this.lastDrawnCount = run.count;
    const shown = this.view(run);
    const charts = chartsOf(shown);
    const canvases: HTMLElement[] = [];
    const note = document.createElement('p');
    note.className = 'chart-note';
    note.textContent = shown === run ? t('chartsAtEnd') : `${t('chartsAtCursor')} ${shown.count - 1} (${formatNs(shown.lastTime)})`;
    canvases.push(note);
    for (const chart of charts) canvases.push(this.drawBars(chart));
    canvases.push(this.drawRate(shown));
    this.container.replaceChildren(...canvases);
    this.metricsBox.replaceChildren(this.metricsTable());
  }

  private figure(title: MessageKey, height: number): { figure: HTMLElement; context: CanvasRenderingContext2D; width: number } {
    const figure = document.createElement('figure');
    figure.className = 'chart';
    const caption = document.createElement('figcaption');
    caption.textContent = t(title);
    const canvas = document.createElement('canvas');
    figure.append(caption, canvas);
    const width = Math.max(260, Math.min(560, Math.floor(this.container.clientWidth / 2) - 24));
    const ratio = globalThis.devicePixelRatio || 1;
    canvas.width = width * ratio;
    canvas.height = height * ratio;
    canvas.style.width = `${width}px`;
    canvas.style.height = `${height}px`;
    const context = canvas.getContext('2d') as CanvasRenderingContext2D;
    context.setTransform(ratio, 0, 0, ratio, 0, 0);
    context.font = '11px system-ui, sans-serif';
    context.textBaseline = 'middle';
    return { figure, context, width };
  }

  private drawBars(chart: BarChart): HTMLElement {
    const rowPx = chart.stacked ? 20 : 8 * chart.series.length + 8;
    const legendPx = chart.series.length > 1 ? 18 * Math.ceil(chart.series.length / 5) : 0;
    const height = 12 + chart.rows.length * rowPx + legendPx + 8;
    const { figure, context, width } = this.figure(chart.title, height);
    const labelPx = 80;
    const valuePx = 70;
    const plot = width - labelPx - valuePx;
    const max = chart.max ?? Math.max(1e-9, ...chart.rows.map((row) => (chart.stacked ? row.values.reduce((a, b) => a + b, 0) : maxOf(row.values))));
    chart.rows.forEach((row, index) => {
      const top = 8 + index * rowPx;
      context.fillStyle = row.color ?? '#333';
      context.fillText(row.label, 4, top + rowPx / 2 - 2, labelPx - 8);
      if (chart.stacked) {
        let x = labelPx;
        row.values.forEach((value, series) => {
          const w = (value / max) * plot;
          context.fillStyle = chart.series[series]?.color ?? row.color ?? '#888';
          context.fillRect(x, top, w, rowPx - 6);
          x += w;
        });
        context.fillStyle = '#333';
        context.fillText(chart.format(row.values.reduce((a, b) => a + b, 0)), x + 4, top + rowPx / 2 - 2);
      } else {
        row.values.forEach((value, series) => {
          const y = top + series * 8;
          context.fillStyle = chart.series[series]?.color ?? '#888';
          if (!Number.isNaN(value)) context.fillRect(labelPx, y, (value / max) * plot, 6);
        });
        context.fillStyle = '#333';
        // A row without data says so once ("no data"), not once per series.
        const text = row.values.every((value) => Number.isNaN(value)) ? chart.format(Number.NaN) : row.values.map(chart.format).join(' / ');
        context.fillText(text, labelPx + 4 + (maxOf(row.values) / max) * plot, top + 4, valuePx + plot / 2);
      }
    });
    figure.append(dataTable(chart));
    if (legendPx > 0) {
      const top = 12 + chart.rows.length * rowPx;
      chart.series.forEach((series, index) => {
        const x = 4 + (index % 5) * Math.floor((width - 8) / 5);
        const y = top + Math.floor(index / 5) * 18 + 6;
        context.fillStyle = series.color;
        context.fillRect(x, y - 4, 10, 8);
        context.fillStyle = '#333';
        context.fillText(series.name, x + 14, y);
      });
    }
    return figure;
  }

  /** Exits and injected interrupts per time bucket, over the whole run. */
  private drawRate(run: RunData): HTMLElement {
    const height = 120;
    const { figure, context, width } = this.figure('chartRate', height);
    const buckets = Math.max(10, Math.floor((width - 50) / 4));
    const exits = new Float64Array(buckets);
    const irqs = new Float64Array(buckets);
    const end = Math.max(1, run.endTime);
    for (const lane of run.lanes) {
      const times = lane.markTime.array;
      const kinds = lane.markKind.array;
      for (let index = 0; index < lane.markTime.length; index++) {
        const bucket = Math.min(buckets - 1, Math.floor((times[index] / end) * buckets));
        if (kinds[index] < EXIT_REASONS.length) exits[bucket]++;
        else if (kinds[index] === MARK_IRQ) irqs[bucket]++;
      }
    }
    const max = Math.max(1, ...exits, ...irqs);
    const plotTop = 8;
    const plotHeight = height - 34;
    const left = 40;
    const step = (width - left - 8) / buckets;
    context.strokeStyle = '#ccc';
    context.strokeRect(left, plotTop, width - left - 8, plotHeight);
    const line = (values: Float64Array, color: string) => {
      context.strokeStyle = color;
      context.beginPath();
      values.forEach((value, index) => {
        const x = left + (index + 0.5) * step;
        const y = plotTop + plotHeight - (value / max) * plotHeight;
        if (index === 0) context.moveTo(x, y);
        else context.lineTo(x, y);
      });
      context.stroke();
    };
    line(exits, MARK_COLORS[0]);
    line(irqs, MARK_COLORS[MARK_IRQ]);
    context.fillStyle = '#333';
    context.fillText(String(max), 4, plotTop + 4);
    context.fillText('0', 4, plotTop + plotHeight);
    context.fillText(formatNs(end), width - 70, height - 8);
    context.fillStyle = MARK_COLORS[0];
    context.fillText(`■ ${t('exits')}`, left, height - 8);
    context.fillStyle = MARK_COLORS[MARK_IRQ];
    context.fillText(`■ ${t('interrupts')}`, left + 110, height - 8);
    return figure;
  }

  private metricsTable(): HTMLElement {
    const box = document.createElement('div');
    const metrics = this.metrics;
    if (metrics === null) return box;
    const title = document.createElement('h3');
    title.textContent = `${t('runMetrics')}: ${metrics.policy}, seed ${metrics.seed}`;
    const system = metrics.system;
    const summary = document.createElement('p');
    summary.className = 'mono';
    summary.textContent = `${t('utilisation')} ${(system.utilisation * 100).toFixed(1)}% · ${t('fairness')} ${system.jainIndex.toFixed(3)} · ${t('contextSwitches')} ${system.contextSwitches} · ${t('migrations')} ${system.migrations} · ${t('steal')} ${(system.stealFraction * 100).toFixed(1)}%`;
    const table = document.createElement('table');
    table.className = 'metrics';
    const head = ['VM', t('share'), t('steal'), 'p50', 'p95', 'p99', t('contextSwitches'), t('migrations')];
    table.append(tableRow('th', head));
    for (const vm of metrics.vms) {
      table.append(
        tableRow('td', [
          vm.name,
          vm.share.toFixed(3),
          `${(vm.stealFraction * 100).toFixed(1)}%`,
          // A VM that never woke has no wake-up latency: "no data", not 0.
          ...[vm.wakeLatency.p50Us, vm.wakeLatency.p95Us, vm.wakeLatency.p99Us].map((us) => (vm.wakeLatency.count === 0 ? t('noData') : `${us.toFixed(1)} µs`)),
          String(vm.contextSwitches),
          String(vm.migrations),
        ]),
      );
    }
    box.append(title, summary, table);
    return box;
  }
}

/** The chart's figures as a table for screen readers (and tests): the canvas alone says nothing to them. */
function dataTable(chart: BarChart): HTMLTableElement {
  const table = document.createElement('table');
  table.className = 'sr-only chart-data';
  table.dataset.chart = chart.title;
  table.append(tableRow('th', ['', ...chart.series.map((series) => series.name)]));
  for (const row of chart.rows) table.append(tableRow('td', [row.label, ...row.values.map(chart.format)]));
  return table;
}

function tableRow(cell: 'th' | 'td', values: readonly string[]): HTMLTableRowElement {
  const row = document.createElement('tr');
  for (const value of values) {
    const node = document.createElement(cell);
    node.textContent = value;
    row.append(node);
  }
  return row;
}

