/**
 * The physical CPUs as lanes on a canvas: each stretch a vCPU ran is a bar in its VM's colour,
 * exits are ticks on the lane's top edge (coloured by reason), injected interrupts ticks on its
 * bottom edge. Drawing walks only the visible stretches (binary search on time) and draws at most
 * one bar and one tick per pixel column, so a run of a million events draws in a few ms.
 */
import { EXIT_REASONS } from '../../../src/core/events.js';
import { lowerBound } from '../store/columns.js';
import { formatNs } from '../store/format.js';
import { MARK_IRQ, type Lane, type RunData } from '../store/runData.js';
import { t } from '../i18n.js';
import { MARK_COLORS, vmColor } from './colors.js';

const AXIS_PX = 22;
const LANE_PX = 34;
const LABEL_PX = 64;
const MIN_SPAN_NS = 200;

export class Timeline {
  private readonly canvas: HTMLCanvasElement;
  private run: RunData | undefined;
  private cursorT = 0;
  private cursorSeq = -1;
  /** The visible window; null: the whole run. */
  private view: { start: number; end: number } | null = null;
  private drag: { x: number; start: number; end: number; moved: boolean } | null = null;
  private scheduled = false;
  private readonly layer = document.createElement('canvas');
  private layerKey = '';
  /** Bumped when what the lanes show changes without the key seeing it (the language). */
  private layerVersion = 0;

  constructor(
    private readonly container: HTMLElement,
    private readonly onPickTime: (timeNs: number) => void,
  ) {
    this.canvas = container.querySelector('canvas') as HTMLCanvasElement;
    new ResizeObserver(() => this.invalidate()).observe(container);
    this.canvas.addEventListener('wheel', (event) => this.wheel(event), { passive: false });
    this.canvas.addEventListener('pointerdown', (event) => this.pointerDown(event));
    this.canvas.addEventListener('pointermove', (event) => this.pointerMove(event));
    this.canvas.addEventListener('pointerup', (event) => this.pointerUp(event));
  }

  setRun(run: RunData | undefined): void {
    this.run = run;
    this.view = null;
    this.invalidate();
  }

  setCursor(seq: number, timeNs: number): void {
    this.cursorSeq = seq;
    this.cursorT = timeNs;
    const window = this.window();
    if (this.view !== null && (timeNs < window.start || timeNs > window.end)) {
      const span = window.end - window.start;
      this.view = { start: Math.max(0, timeNs - span / 2), end: Math.max(0, timeNs - span / 2) + span };
    }
    this.invalidate();
  }

  zoom(factor: number, aroundNs = this.cursorT): void {
    const window = this.window();
    const total = this.totalNs();
    const span = Math.min(total, Math.max(MIN_SPAN_NS, (window.end - window.start) * factor));
    if (span >= total) {
      this.view = null;
    } else {
      const ratio = (aroundNs - window.start) / (window.end - window.start || 1);
      let start = aroundNs - ratio * span;
      start = Math.min(Math.max(0, start), total - span);
      this.view = { start, end: start + span };
    }
    this.invalidate();
  }

  fit(): void {
    this.view = null;
    this.invalidate();
  }

  /** Redraws the lanes too (their labels), not only the cursor. */
  redraw(): void {
    this.layerVersion++;
    this.invalidate();
  }

  /** Redraws at the next animation frame (several changes in one frame draw once). */
  invalidate(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    requestAnimationFrame(() => {
      this.scheduled = false;
      this.draw();
    });
  }

  private totalNs(): number {
    const run = this.run;
    if (run === undefined) return 1;
    const scenarioTime = (run.header?.scenario as { run?: { time?: number } } | undefined)?.run?.time;
    const end = run.finished ? run.endTime : Math.max(run.endTime, typeof scenarioTime === 'number' ? scenarioTime : 0);
    return Math.max(end, 1);
  }

  private window(): { start: number; end: number } {
    return this.view ?? { start: 0, end: this.totalNs() };
  }

  private xOf(timeNs: number, width: number): number {
    const window = this.window();
    return LABEL_PX + ((timeNs - window.start) / (window.end - window.start)) * (width - LABEL_PX);
  }

  private timeOf(x: number): number {
    const window = this.window();
    const width = this.canvas.clientWidth;
    return window.start + ((x - LABEL_PX) / Math.max(1, width - LABEL_PX)) * (window.end - window.start);
  }

  private wheel(event: WheelEvent): void {
    event.preventDefault();
    this.zoom(event.deltaY > 0 ? 1.25 : 0.8, this.timeOf(event.offsetX));
  }

  private pointerDown(event: PointerEvent): void {
    const window = this.window();
    this.drag = { x: event.offsetX, start: window.start, end: window.end, moved: false };
    this.canvas.setPointerCapture(event.pointerId);
  }

  private pointerMove(event: PointerEvent): void {
    const drag = this.drag;
    if (drag === null) return;
    const dx = event.offsetX - drag.x;
    if (Math.abs(dx) > 3) drag.moved = true;
    if (!drag.moved || this.view === null) return;
    const nsPerPx = (drag.end - drag.start) / Math.max(1, this.canvas.clientWidth - LABEL_PX);
    const span = drag.end - drag.start;
    const start = Math.min(Math.max(0, drag.start - dx * nsPerPx), this.totalNs() - span);
    this.view = { start, end: start + span };
    this.invalidate();
  }

  private pointerUp(event: PointerEvent): void {
    const drag = this.drag;
    this.drag = null;
    if (drag !== null && !drag.moved && event.offsetX >= LABEL_PX) this.onPickTime(Math.max(0, Math.round(this.timeOf(event.offsetX))));
  }

  private draw(): void {
    const run = this.run;
    const lanes = run?.lanes.length ?? 0;
    const ratio = globalThis.devicePixelRatio || 1;
    const width = this.container.clientWidth;
    const height = AXIS_PX + Math.max(1, lanes) * LANE_PX + 4;
    if (this.canvas.width !== Math.round(width * ratio) || this.canvas.height !== Math.round(height * ratio)) {
      this.canvas.width = Math.round(width * ratio);
      this.canvas.height = Math.round(height * ratio);
      this.canvas.style.width = `${width}px`;
      this.canvas.style.height = `${height}px`;
    }
    // A hidden or not yet laid out container has no width: nothing to draw, and drawImage of a
    // canvas of width 0 throws (seen in CI when a frame came before the layout).
    if (this.canvas.width === 0 || this.canvas.height === 0) return;
    const context = this.canvas.getContext('2d');
    if (context === null) return;
    // The lanes are drawn into a layer kept until the window, the size or the data change; a
    // cursor move (every frame of playback) only copies it and draws the cursor.
    const window = this.window();
    const key = `${window.start}:${window.end}:${width}:${height}:${ratio}:${run?.count ?? -1}:${run?.finished ?? false}:${this.layerVersion}`;
    if (key !== this.layerKey) {
      this.layerKey = key;
      this.layer.width = this.canvas.width;
      this.layer.height = this.canvas.height;
      const layer = this.layer.getContext('2d') as CanvasRenderingContext2D;
      layer.setTransform(ratio, 0, 0, ratio, 0, 0);
      layer.clearRect(0, 0, width, height);
      layer.font = '11px system-ui, sans-serif';
      this.drawAxis(layer, width);
      if (run !== undefined) for (let pcpu = 0; pcpu < lanes; pcpu++) this.drawLane(layer, run, run.lanes[pcpu], pcpu, width);
    }
    context.setTransform(1, 0, 0, 1, 0, 0);
    context.clearRect(0, 0, this.canvas.width, this.canvas.height);
    context.drawImage(this.layer, 0, 0);
    context.setTransform(ratio, 0, 0, ratio, 0, 0);
    if (run === undefined) return;
    // The cursor, and the future dimmed.
    const x = this.xOf(this.cursorT, width);
    if (this.cursorSeq >= 0 && x >= LABEL_PX) {
      context.fillStyle = 'rgba(255,255,255,0.55)';
      context.fillRect(Math.min(width, x), AXIS_PX, Math.max(0, width - x), height - AXIS_PX);
      context.fillStyle = '#d00';
      context.fillRect(Math.round(x) - 1, AXIS_PX - 6, 2, height - AXIS_PX + 6);
    }
  }

  private drawAxis(context: CanvasRenderingContext2D, width: number): void {
    const window = this.window();
    const span = window.end - window.start;
    const target = span / Math.max(1, (width - LABEL_PX) / 110);
    const step = niceStep(target);
    context.fillStyle = '#555';
    context.strokeStyle = '#ddd';
    context.textBaseline = 'middle';
    for (let tick = Math.ceil(window.start / step) * step; tick <= window.end; tick += step) {
      const x = this.xOf(tick, width);
      context.fillRect(Math.round(x), AXIS_PX - 5, 1, 5);
      context.fillText(formatNs(tick), x + 3, AXIS_PX / 2);
    }
  }

  private drawLane(context: CanvasRenderingContext2D, run: RunData, lane: Lane, pcpu: number, width: number): void {
    const top = AXIS_PX + pcpu * LANE_PX;
    const barTop = top + 6;
    const barHeight = LANE_PX - 12;
    context.fillStyle = pcpu % 2 === 0 ? '#f6f7f9' : '#eef0f3';
    context.fillRect(0, top, width, LANE_PX);
    context.fillStyle = '#333';
    context.textBaseline = 'middle';
    // With several hosts each lane names its host, and a rule parts one host's lanes from the next.
    const hosts = run.pcpuHosts;
    const host = hosts?.[pcpu];
    context.fillText(host === undefined ? `pCPU ${pcpu}` : `${host} · pCPU ${pcpu}`, 6, top + LANE_PX / 2);
    if (hosts !== undefined && pcpu > 0 && hosts[pcpu - 1] !== host) {
      context.fillStyle = '#5b6472';
      context.fillRect(0, top, width, 2);
    }
    context.save();
    context.beginPath();
    context.rect(LABEL_PX, top, width - LABEL_PX, LANE_PX);
    context.clip();
    const window = this.window();
    const now = run.finished ? run.endTime : run.lastTime;
    // Stretches sorted by start; the first visible is at most one before the first starting after the window's start.
    const count = lane.start.length;
    let index = Math.max(0, lowerBound(lane.start.array, count, window.start) - 1);
    let lastColumn = -1;
    for (; index < count; index++) {
      const start = lane.start.get(index);
      if (start > window.end) break;
      const endValue = lane.end.get(index);
      const end = Number.isNaN(endValue) ? now : endValue;
      if (end < window.start) continue;
      const x0 = this.xOf(start, width);
      const x1 = this.xOf(end, width);
      const column = Math.floor(x1);
      if (column === lastColumn && x1 - x0 < 1) continue;
      lastColumn = column;
      const vcpu = run.vcpus[lane.vcpu.get(index)];
      context.fillStyle = vmColor(vcpu.vm);
      context.fillRect(x0, barTop, Math.max(1, x1 - x0), barHeight);
      if (x1 - x0 > 60) {
        context.fillStyle = '#fff';
        const label = `${run.vms[vcpu.vm]}/${vcpu.index}`;
        context.fillText(label, Math.max(x0, LABEL_PX) + 4, barTop + barHeight / 2);
      }
    }
    // Marks: exits on the top edge, interrupts and exceptions on the bottom edge.
    const marks = lane.markTime.length;
    let mark = lowerBound(lane.markTime.array, marks, window.start);
    let lastTop = -1;
    let lastBottom = -1;
    for (; mark < marks; mark++) {
      const time = lane.markTime.get(mark);
      if (time > window.end) break;
      const kind = lane.markKind.get(mark);
      const x = Math.floor(this.xOf(time, width));
      const isExit = kind < EXIT_REASONS.length;
      if (isExit ? x === lastTop : x === lastBottom) continue;
      if (isExit) lastTop = x;
      else lastBottom = x;
      context.fillStyle = MARK_COLORS[kind] ?? '#000';
      if (isExit) context.fillRect(x, top + 1, 1, 6);
      else context.fillRect(x, top + LANE_PX - (kind === MARK_IRQ ? 7 : 9), kind === MARK_IRQ ? 1 : 2, kind === MARK_IRQ ? 6 : 8);
    }
    context.restore();
    if (lane.start.length === 0) {
      context.fillStyle = '#999';
      context.fillText(t('idle'), LABEL_PX + 6, top + LANE_PX / 2);
    }
  }
}

function niceStep(target: number): number {
  const power = 10 ** Math.floor(Math.log10(Math.max(1, target)));
  for (const multiple of [1, 2, 5, 10]) if (power * multiple >= target) return power * multiple;
  return power * 10;
}
