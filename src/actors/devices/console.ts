/**
 * The VM's console (a UART reduced to a data and a status register, on ports and MMIO). Output
 * is collected into lines; each complete line is one `console.output` event. Input characters
 * wait in a bounded queue and raise IRQ_CONSOLE.
 */
import type { EventBus } from '../../core/bus.js';
import { Irq, Mmio, Port } from '../../core/platform.js';
import { Device, savedNumbers } from './device.js';
import type { InterruptController } from './pic.js';

const LINE_LIMIT = 160;
const INPUT_LIMIT = 4096;
/** Console lines kept for checkpoints and inspection (the last ones). */
export const RECENT_LINES = 8;

export class Console extends Device {
  readonly ports = [Port.CONSOLE_DATA, Port.CONSOLE_STATUS];
  override readonly mmio = [Mmio.CONSOLE_DATA, Mmio.CONSOLE_STATUS];
  private line = '';
  private readonly input: number[] = [];
  /** Everything written, for summaries and tests (bounded). */
  transcript = '';
  charsWritten = 0;
  /** Lines emitted (`console.output` events) and the last RECENT_LINES of them. */
  linesEmitted = 0;
  readonly recent: string[] = [];

  constructor(
    id: string,
    bus: EventBus,
    private readonly pic: InterruptController,
  ) {
    super(id, 'console', bus);
  }

  read(address: number): number {
    if (address === Port.CONSOLE_DATA || address === Mmio.CONSOLE_DATA) return this.input.shift() ?? -1;
    if (address === Port.CONSOLE_STATUS || address === Mmio.CONSOLE_STATUS) return this.input.length > 0 ? 1 : 0;
    return -1;
  }

  write(address: number, value: number): void {
    if (address !== Port.CONSOLE_DATA && address !== Mmio.CONSOLE_DATA) return;
    this.charsWritten++;
    const code = value & 0xffff;
    if (code === 10) {
      this.emit();
      return;
    }
    if (code === 13) return;
    this.line += code < 32 || code === 127 ? '\ufffd' : String.fromCharCode(code);
    if (this.line.length >= LINE_LIMIT) this.emit();
  }

  /** Queues input characters for the guest. */
  type(text: string): void {
    for (let index = 0; index < text.length && this.input.length < INPUT_LIMIT; index++) this.input.push(text.charCodeAt(index));
    this.pic.raise(Irq.CONSOLE);
    this.bus.publish(this.id, 'irq.raise', { line: Irq.CONSOLE });
  }

  /** Emits a partial last line (when the VM stops or the run ends). */
  /** Forgets the line being written without printing it: it went into an image (saver.ts) and is printed by the restored VM. */
  handOver(): void {
    this.line = '';
  }

  flush(): void {
    if (this.line.length > 0) this.emit();
  }

  protected override onStop(): void {
    this.flush();
  }

  /** A failing UART loses what sat in its buffers. */
  protected override onFail(): void {
    this.line = '';
    this.input.length = 0;
  }

  private emit(): void {
    const text = this.line;
    this.line = '';
    if (this.transcript.length < 1 << 20) this.transcript += text + '\n';
    this.linesEmitted++;
    if (this.recent.push(text) > RECENT_LINES) this.recent.shift();
    this.bus.publish(this.id, 'console.output', { text });
  }

  /** The line being written (not yet printed) and the input the guest has not read yet. */
  override saveState(): Record<string, unknown> {
    return { line: this.line, input: [...this.input] };
  }

  override loadState(state: Readonly<Record<string, unknown>>): void {
    if (typeof state.line !== 'string') throw new RangeError("device state: 'line' is not a string");
    this.line = state.line;
    this.input.length = 0;
    this.input.push(...savedNumbers(state, 'input').slice(0, INPUT_LIMIT));
  }

  snapshot(): Record<string, unknown> {
    return { state: this.lifecycle.state, line: this.line, input: this.input.length, charsWritten: this.charsWritten, lines: this.linesEmitted, recent: [...this.recent] };
  }
}
