/**
 * Hand-written SVG plots (no plotting dependency): a strip-and-box plot of a metric's
 * distribution per policy, and a timeline (Gantt chart) of which VM ran on each physical CPU.
 * Output is plain, deterministic text.
 */

const PALETTE = ['#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f', '#edc948', '#b07aa1', '#ff9da7', '#9c755f', '#bab0ac'];

export function color(index: number): string {
  return PALETTE[index % PALETTE.length];
}

function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function fixed(value: number): string {
  return Number(value.toFixed(2)).toString();
}

function niceTicks(min: number, max: number, count = 5): number[] {
  if (!(max > min)) return [min];
  const raw = (max - min) / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((factor) => factor * power).find((candidate) => candidate >= raw) ?? raw;
  const ticks: number[] = [];
  for (let tick = Math.ceil(min / step) * step; tick <= max + step * 1e-9; tick += step) ticks.push(Number(tick.toPrecision(12)));
  return ticks;
}

function quantile(sorted: readonly number[], fraction: number): number {
  if (sorted.length === 0) return Number.NaN;
  const position = (sorted.length - 1) * fraction;
  const low = Math.floor(position);
  const high = Math.ceil(position);
  return sorted[low] + (sorted[high] - sorted[low]) * (position - low);
}

/** One box per group (quartiles, whiskers at min/max), every value drawn as a dot, the mean as a diamond. */
export function distributionSvg(title: string, unit: string, groups: readonly { label: string; values: readonly number[] }[]): string {
  const width = 120 + groups.length * 110;
  const height = 320;
  const top = 40;
  const bottom = height - 50;
  const left = 70;
  const all = groups.flatMap((group) => group.values).filter(Number.isFinite);
  let min = all.length > 0 ? Math.min(...all) : 0;
  let max = all.length > 0 ? Math.max(...all) : 1;
  if (min === max) {
    min -= Math.abs(min) * 0.1 + 1e-9;
    max += Math.abs(max) * 0.1 + 1e-9;
  }
  const pad = (max - min) * 0.05;
  min -= pad;
  max += pad;
  const y = (value: number): number => bottom - ((value - min) / (max - min)) * (bottom - top);
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`);
  parts.push(`<rect width="${width}" height="${height}" fill="white"/>`);
  parts.push(`<text x="${width / 2}" y="20" text-anchor="middle" font-size="14">${escape(title)}</text>`);
  parts.push(`<line x1="${left}" y1="${top}" x2="${left}" y2="${bottom}" stroke="#333"/>`);
  for (const tick of niceTicks(min, max)) {
    const ty = fixed(y(tick));
    parts.push(`<line x1="${left - 4}" y1="${ty}" x2="${width - 20}" y2="${ty}" stroke="#ddd"/>`);
    parts.push(`<text x="${left - 6}" y="${ty}" text-anchor="end" dominant-baseline="middle">${escape(String(tick))}</text>`);
  }
  parts.push(`<text x="16" y="${(top + bottom) / 2}" transform="rotate(-90 16 ${(top + bottom) / 2})" text-anchor="middle">${escape(unit)}</text>`);
  groups.forEach((group, index) => {
    const cx = left + 60 + index * 110;
    const sorted = [...group.values].filter(Number.isFinite).sort((a, b) => a - b);
    const stroke = color(index);
    if (sorted.length > 0) {
      const q1 = y(quantile(sorted, 0.25));
      const q2 = y(quantile(sorted, 0.5));
      const q3 = y(quantile(sorted, 0.75));
      parts.push(`<line x1="${cx}" y1="${fixed(y(sorted[0]))}" x2="${cx}" y2="${fixed(y(sorted[sorted.length - 1]))}" stroke="${stroke}"/>`);
      parts.push(`<rect x="${cx - 25}" y="${fixed(q3)}" width="50" height="${fixed(Math.max(0.5, q1 - q3))}" fill="${stroke}" fill-opacity="0.25" stroke="${stroke}"/>`);
      parts.push(`<line x1="${cx - 25}" y1="${fixed(q2)}" x2="${cx + 25}" y2="${fixed(q2)}" stroke="${stroke}" stroke-width="2"/>`);
      sorted.forEach((value, dot) => {
        const jitter = ((dot * 7919) % 21) - 10;
        parts.push(`<circle cx="${fixed(cx + jitter)}" cy="${fixed(y(value))}" r="2.5" fill="${stroke}"/>`);
      });
      const mean = sorted.reduce((sum, value) => sum + value, 0) / sorted.length;
      const my = y(mean);
      parts.push(`<path d="M ${cx + 32} ${fixed(my)} l 5 -5 l 5 5 l -5 5 z" fill="black"/>`);
    }
    parts.push(`<text x="${cx}" y="${bottom + 18}" text-anchor="middle">${escape(group.label)}</text>`);
  });
  parts.push(`<text x="${width - 20}" y="${height - 8}" text-anchor="end" fill="#666">box: quartiles; whiskers: min-max; dots: runs; diamond: mean</text>`);
  parts.push('</svg>');
  return parts.join('\n') + '\n';
}

export interface TimelineInterval {
  readonly pcpu: number;
  readonly startNs: number;
  readonly endNs: number;
  readonly vm: string;
}

/** Which VM ran on each physical CPU between `fromNs` and `toNs`. */
export function timelineSvg(title: string, pcpus: number, vms: readonly string[], intervals: readonly TimelineInterval[], fromNs: number, toNs: number): string {
  const width = 900;
  const rowHeight = 22;
  const left = 60;
  const right = width - 20;
  const top = 40;
  const legendTop = top + pcpus * rowHeight + 30;
  const height = legendTop + Math.ceil(vms.length / 5) * 18 + 20;
  const x = (ns: number): number => left + ((Math.min(Math.max(ns, fromNs), toNs) - fromNs) / (toNs - fromNs)) * (right - left);
  const vmIndex = new Map(vms.map((name, index) => [name, index]));
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`);
  parts.push(`<rect width="${width}" height="${height}" fill="white"/>`);
  parts.push(`<text x="${width / 2}" y="20" text-anchor="middle" font-size="14">${escape(title)}</text>`);
  for (let pcpu = 0; pcpu < pcpus; pcpu++) {
    const ry = top + pcpu * rowHeight;
    parts.push(`<text x="${left - 6}" y="${ry + rowHeight / 2}" text-anchor="end" dominant-baseline="middle">pCPU ${pcpu}</text>`);
    parts.push(`<rect x="${left}" y="${ry + 2}" width="${right - left}" height="${rowHeight - 4}" fill="#f4f4f4"/>`);
  }
  for (const interval of intervals) {
    if (interval.endNs <= fromNs || interval.startNs >= toNs) continue;
    const x1 = x(interval.startNs);
    const x2 = x(interval.endNs);
    const ry = top + interval.pcpu * rowHeight;
    parts.push(`<rect x="${fixed(x1)}" y="${ry + 2}" width="${fixed(Math.max(0.3, x2 - x1))}" height="${rowHeight - 4}" fill="${color(vmIndex.get(interval.vm) ?? 0)}"/>`);
  }
  const axisY = top + pcpus * rowHeight + 4;
  for (const tick of niceTicks(fromNs / 1e6, toNs / 1e6, 8)) {
    const tx = fixed(x(tick * 1e6));
    parts.push(`<line x1="${tx}" y1="${axisY}" x2="${tx}" y2="${axisY + 4}" stroke="#333"/>`);
    parts.push(`<text x="${tx}" y="${axisY + 16}" text-anchor="middle">${escape(`${tick} ms`)}</text>`);
  }
  vms.forEach((name, index) => {
    const lx = left + (index % 5) * 160;
    const ly = legendTop + Math.floor(index / 5) * 18;
    parts.push(`<rect x="${lx}" y="${ly}" width="12" height="12" fill="${color(index)}"/>`);
    parts.push(`<text x="${lx + 16}" y="${ly + 10}">${escape(name)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n') + '\n';
}
