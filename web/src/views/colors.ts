/** Colours: one per VM (cards, timeline stretches, charts), one per exit reason. */
const VM_PALETTE = ['#4e79a7', '#f28e2b', '#59a14f', '#b07aa1', '#edc948', '#76b7b2', '#ff9da7', '#9c755f', '#e15759', '#bab0ac'];

export function vmColor(index: number): string {
  if (index < VM_PALETTE.length) return VM_PALETTE[index];
  const hue = (index * 137.508) % 360;
  return `hsl(${hue.toFixed(0)} 55% 55%)`;
}

/** Indexed like EXIT_REASONS, then interrupt, exception, crash (the mark kinds). */
export const MARK_COLORS = [
  '#1f77b4', // io
  '#17becf', // mmio
  '#7f7f7f', // hlt
  '#2ca02c', // hypercall
  '#d62728', // privileged
  '#8c564b', // page-fault
  '#e377c2', // exception
  '#000000', // shutdown
  '#bcbd22', // preempt
  '#aec7e8', // interrupt (external-interrupt exit)
  '#ff7f0e', // interrupt injected
  '#9467bd', // exception injected
  '#d62728', // crash
];
