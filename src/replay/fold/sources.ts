/**
 * What an event's `src` names: its VM, vCPU index or device kind. Parsed once per distinct
 * source (a run has few) and remembered, so a fold does not split strings per event.
 */
export interface Source {
  /** The VM's name, or '' for host, monitor and pcpu sources. */
  readonly vm: string;
  /** The vCPU's index (vm/NAME/vcpu/N), else -1. */
  readonly vcpu: number;
  /** The device's kind (vm/NAME/KIND), else ''. */
  readonly device: string;
}

const cache = new Map<string, Source>();
const CACHE_LIMIT = 100_000;

export function sourceOf(src: string): Source {
  let source = cache.get(src);
  if (source !== undefined) return source;
  source = parse(src);
  if (cache.size >= CACHE_LIMIT) cache.clear();
  cache.set(src, source);
  return source;
}

function parse(src: string): Source {
  if (!src.startsWith('vm/')) return { vm: '', vcpu: -1, device: '' };
  const parts = src.split('/');
  const vm = parts[1] ?? '';
  if (parts.length === 4 && parts[2] === 'vcpu') return { vm, vcpu: Number(parts[3]), device: '' };
  if (parts.length === 3) return { vm, vcpu: -1, device: parts[2] };
  return { vm, vcpu: -1, device: '' };
}
