/**
 * The event stream as a virtualised list: a fixed pool of row elements over a tall spacer, so a
 * million events cost the DOM of about forty rows. Past a few million pixels the scroll position
 * is scaled (browsers cap an element's height). Clicking a row travels to that event.
 */
import { formatData, formatNs } from '../store/format.js';
import type { FilteredEvents } from '../store/eventFilter.js';
import type { RunData } from '../store/runData.js';

const ROW_PX = 20;
const MAX_SPACER_PX = 8_000_000;

export class EventList {
  private readonly spacer: HTMLElement;
  private readonly rows: HTMLElement[] = [];
  private run: RunData | undefined;
  private filtered: FilteredEvents | undefined;
  private cursorSeq = -1;
  private scheduled = false;
  follow = true;

  constructor(
    private readonly viewport: HTMLElement,
    private readonly onPick: (seq: number) => void,
  ) {
    this.spacer = viewport.querySelector('.spacer-rows') as HTMLElement;
    viewport.addEventListener('scroll', () => this.invalidate());
    new ResizeObserver(() => this.invalidate()).observe(viewport);
    viewport.addEventListener('click', (event) => {
      const row = (event.target as HTMLElement).closest('.row') as HTMLElement | null;
      if (row !== null && row.dataset.seq !== undefined) this.onPick(Number(row.dataset.seq));
    });
  }

  set(run: RunData | undefined, filtered: FilteredEvents | undefined): void {
    this.run = run;
    this.filtered = filtered;
    this.invalidate();
  }

  setCursor(seq: number): void {
    this.cursorSeq = seq;
    if (this.follow) this.reveal(seq);
    this.invalidate();
  }

  /** Scrolls so the row of `seq` (or the listed event before it) is in view. */
  reveal(seq: number): void {
    const filtered = this.filtered;
    if (filtered === undefined) return;
    const row = filtered.rowAtOrBefore(seq);
    if (row < 0) return;
    const { first, visible } = this.window();
    if (row >= first && row < first + visible - 1) return;
    this.scrollToRow(Math.max(0, row - Math.floor(visible / 2)));
  }

  private scrollToRow(row: number): void {
    const count = this.filtered?.length ?? 0;
    // The spacer must be tall enough first, or the browser clamps the scroll position.
    this.spacer.style.height = `${Math.min(count * ROW_PX, MAX_SPACER_PX)}px`;
    const height = this.viewport.clientHeight;
    const visible = Math.ceil(height / ROW_PX);
    const total = count * ROW_PX;
    if (total <= MAX_SPACER_PX) this.viewport.scrollTop = row * ROW_PX;
    else this.viewport.scrollTop = (row / Math.max(1, count - visible)) * (MAX_SPACER_PX - height);
  }

  private window(): { first: number; visible: number; scaled: boolean } {
    const count = this.filtered?.length ?? 0;
    const height = this.viewport.clientHeight;
    const visible = Math.ceil(height / ROW_PX) + 1;
    const total = count * ROW_PX;
    if (total <= MAX_SPACER_PX) return { first: Math.floor(this.viewport.scrollTop / ROW_PX), visible, scaled: false };
    const fraction = this.viewport.scrollTop / Math.max(1, MAX_SPACER_PX - height);
    return { first: Math.floor(fraction * Math.max(0, count - visible + 1)), visible, scaled: true };
  }

  invalidate(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    requestAnimationFrame(() => {
      this.scheduled = false;
      this.draw();
    });
  }

  private draw(): void {
    const run = this.run;
    const filtered = this.filtered;
    const count = filtered?.length ?? 0;
    this.spacer.style.height = `${Math.min(count * ROW_PX, MAX_SPACER_PX)}px`;
    const { first, visible, scaled } = this.window();
    while (this.rows.length < visible) {
      const row = document.createElement('div');
      row.className = 'row';
      for (const name of ['seq', 't', 'src', 'type', 'data']) {
        const cell = document.createElement('span');
        cell.className = name;
        row.append(cell);
      }
      this.spacer.append(row);
      this.rows.push(row);
    }
    for (let index = 0; index < this.rows.length; index++) {
      const row = this.rows[index];
      const listed = first + index;
      if (run === undefined || filtered === undefined || listed >= count || index >= visible) {
        row.style.display = 'none';
        delete row.dataset.seq;
        continue;
      }
      const seq = filtered.seqAt(listed);
      row.style.display = '';
      row.style.top = `${scaled ? this.viewport.scrollTop + index * ROW_PX : listed * ROW_PX}px`;
      if (row.dataset.seq !== String(seq)) {
        row.dataset.seq = String(seq);
        const type = run.typeOf(seq);
        row.dataset.type = type;
        const cells = row.children;
        cells[0].textContent = String(seq);
        cells[1].textContent = formatNs(run.time.get(seq));
        cells[2].textContent = run.srcOf(seq);
        cells[3].textContent = type;
        cells[4].textContent = formatData(run.event(seq).data);
      }
      row.classList.toggle('current', seq === this.cursorSeq);
      row.classList.toggle('future', seq > this.cursorSeq);
    }
  }
}
