/**
 * The bar charts' data (no DOM, so tests can check it under Node): CPU time and waiting per VM,
 * exits by reason per VM, physical CPU utilisation, wake-up latency, from a run's index.
 */
import { EXIT_REASONS } from '../../../src/core/events.js';
import { formatNs } from '../store/format.js';
import type { RunData } from '../store/runData.js';
import { t, type MessageKey } from '../i18n.js';
import { MARK_COLORS, vmColor } from './colors.js';

export interface BarRow {
  readonly label: string;
  readonly color?: string;
  /** NaN where there is no data (a VM that never woke has no wake-up latency): shown as "no data", never as 0. */
  readonly values: readonly number[];
}

export interface BarChart {
  readonly title: MessageKey;
  readonly rows: readonly BarRow[];
  readonly series: readonly { readonly name: string; readonly color: string }[];
  readonly format: (value: number) => string;
  /** Stacked (sum per row) or grouped (each value its own thin bar). */
  readonly stacked: boolean;
  readonly max?: number;
}

/** The bar charts' data, from the run's totals. Exported for tests. */
export function chartsOf(run: RunData): BarChart[] {
  const end = run.endTime;
  const vmRows = run.vms.map((name, vm) => {
    let cpu = 0;
    let wait = 0;
    const latencies: number[] = [];
    run.vcpus.forEach((vcpu, index) => {
      if (vcpu.vm !== vm) return;
      cpu += run.cpuNsOf(index, end);
      wait += run.totals[index].waitNs;
      latencies.push(...run.totals[index].wakeLatenciesNs);
    });
    latencies.sort((a, b) => a - b);
    const at = (fraction: number) => (latencies.length === 0 ? Number.NaN : latencies[Math.min(latencies.length - 1, Math.floor(fraction * latencies.length))]);
    return { name, vm, cpu, wait, latency: [at(0.5), at(0.95), latencies.length === 0 ? Number.NaN : latencies[latencies.length - 1]] };
  });
  const usedReasons = EXIT_REASONS.map((_, reason) => reason).filter((reason) => run.exitsByVm.some((counts) => counts[reason] > 0));
  return [
    {
      title: 'chartCpu',
      stacked: true,
      series: [
        { name: t('running'), color: '#4e79a7' },
        { name: t('waiting'), color: '#e8a33d' },
      ],
      rows: vmRows.map((row) => ({ label: row.name, color: vmColor(row.vm), values: [row.cpu, row.wait] })),
      format: formatNs,
    },
    {
      title: 'chartExits',
      stacked: true,
      series: usedReasons.map((reason) => ({ name: EXIT_REASONS[reason], color: MARK_COLORS[reason] })),
      rows: run.vms.map((name, vm) => ({ label: name, color: vmColor(vm), values: usedReasons.map((reason) => run.exitsByVm[vm][reason]) })),
      format: (value) => String(value),
    },
    {
      title: 'chartPcpu',
      stacked: true,
      series: [{ name: t('utilisation'), color: '#59a14f' }],
      rows: run.lanes.map((_, pcpu) => ({ label: `pCPU ${pcpu}`, values: [end > 0 ? run.busyNsOf(pcpu, end) / end : 0] })),
      format: (value) => `${(value * 100).toFixed(1)}%`,
      max: 1,
    },
    {
      title: 'chartLatency',
      stacked: false,
      series: [
        { name: 'p50', color: '#76b7b2' },
        { name: 'p95', color: '#f28e2b' },
        { name: 'max', color: '#e15759' },
      ],
      rows: vmRows.map((row) => ({ label: row.name, color: vmColor(row.vm), values: row.latency })),
      format: orNoData(formatNs),
    },
  ];
}

/** A formatter that shows "no data" (in the page's language) for NaN, the charts' mark for a figure that does not exist. */
export function orNoData(format: (value: number) => string): (value: number) => string {
  return (value) => (Number.isNaN(value) ? t('noData') : format(value));
}

/** The largest value of a chart that has data (NaN ignored); 0 when none has. */
export function maxOf(values: readonly number[]): number {
  let max = 0;
  for (const value of values) if (value > max) max = value;
  return max;
}
