/**
 * Compare in the page: the rows `vmmsim compare --arch type1,type2 --virt full,para,hw --json`
 * prints, made by the worker from runs in the browser (src/cli/archRuns.ts, the CLI's code), as a
 * table and a chart of each VM's completion time against the bare machine. The rows are kept on
 * the table (`data-rows`) as the CLI prints them, so a test compares them with the CLI's JSON.
 */
import type { ArchRow } from '../../../src/cli/archRuns.js';
import { formatNs } from '../store/format.js';
import { t } from '../i18n.js';
import { vmColor } from './colors.js';

/** The table's cells for a row's VM (the CLI's table, in the page's units and words). */
export function archCells(row: ArchRow, index: number): string[] {
  const vm = row.vms[index];
  const reasons = Object.entries(vm.exitsByReason).map(([reason, count]) => `${reason}=${count}`);
  return [
    index === 0 ? row.config : '',
    `${vm.vm} (${vm.guest})`,
    String(vm.exits),
    vm.exitsPerKiloInstruction.toFixed(1),
    reasons.length === 0 ? '—' : reasons.join(' '),
    vm.nsPerConsoleChar === null ? t('noData') : formatNs(Math.round(vm.nsPerConsoleChar)),
    vm.instructionsPerUs.toFixed(1),
    vm.completionNs === null ? t('stillRunning') : formatNs(vm.completionNs),
    vm.slowdown === null ? '1.00×' : `${vm.slowdown.toFixed(2)}×`,
  ];
}

export class CompareView {
  private rows: readonly ArchRow[] = [];

  constructor(
    private readonly table: HTMLTableElement,
    private readonly chart: HTMLElement,
  ) {}

  set(rows: readonly ArchRow[]): void {
    this.rows = rows;
    this.render();
  }

  render(): void {
    const rows = this.rows;
    this.table.dataset.rows = JSON.stringify(rows);
    const head = document.createElement('tr');
    for (const key of ['compareConfig', 'filterVm', 'exits', 'compareExitsPerK', 'compareByReason', 'comparePerChar', 'compareInstrPerUs', 'compareCompleted', 'compareVsBare'] as const) {
      const cell = document.createElement('th');
      cell.scope = 'col';
      cell.textContent = t(key);
      head.append(cell);
    }
    const body = rows.flatMap((row) =>
      row.vms.map((_, index) => {
        const tr = document.createElement('tr');
        tr.dataset.config = row.config;
        tr.dataset.vm = row.vms[index].vm;
        for (const text of archCells(row, index)) {
          const cell = document.createElement('td');
          cell.textContent = text;
          tr.append(cell);
        }
        return tr;
      }),
    );
    this.table.replaceChildren(head, ...body);
    this.renderChart();
  }

  /** Per configuration, each VM's slowdown against the bare machine, as bars (one colour per VM). */
  private renderChart(): void {
    const rows = this.rows.filter((row) => row.arch !== 'bare');
    const max = Math.max(1, ...rows.flatMap((row) => row.vms.map((vm) => vm.slowdown ?? 1)));
    const figure = document.createElement('figure');
    figure.className = 'compare-chart';
    const caption = document.createElement('figcaption');
    caption.textContent = t('compareChart');
    figure.append(caption);
    for (const row of rows) {
      const line = document.createElement('div');
      line.className = 'compare-bars';
      const label = document.createElement('span');
      label.className = 'compare-label';
      label.textContent = row.config;
      line.append(label);
      const bars = document.createElement('span');
      bars.className = 'compare-bar-group';
      row.vms.forEach((vm, index) => {
        // One line per VM: its bar, then its name and figure right after it.
        const item = document.createElement('span');
        item.className = 'compare-bar-line';
        const bar = document.createElement('span');
        bar.className = 'compare-bar';
        bar.style.width = `${(((vm.slowdown ?? 1) / max) * 80).toFixed(1)}%`;
        bar.style.background = vmColor(index);
        const text = document.createElement('span');
        text.className = 'compare-bar-text';
        text.textContent = `${vm.vm} ${(vm.slowdown ?? 1).toFixed(2)}×`;
        item.append(bar, text);
        bars.append(item);
      });
      line.append(bars);
      figure.append(line);
    }
    this.chart.replaceChildren(figure);
  }
}
