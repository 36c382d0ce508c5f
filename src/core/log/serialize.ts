/**
 * Hand-written serialisers for the event types a run produces most (exits, interrupts,
 * scheduling). Each yields exactly what JSON.stringify yields for the same object (a test checks
 * it), at a fraction of the cost. Other types fall back to JSON.stringify.
 */
import type { EventDataMap, SimEvent } from '../events.js';

type Serializer = (data: never) => string;

const SERIALIZERS: Partial<Record<keyof EventDataMap, Serializer>> = {
  'exit.io': (d: EventDataMap['exit.io']) => `{"pc":${d.pc},"port":${d.port},"dir":"${d.dir}","value":${d.value},"reg":${d.reg}}`,
  'exit.mmio': (d: EventDataMap['exit.mmio']) => `{"pc":${d.pc},"addr":${d.addr},"dir":"${d.dir}","value":${d.value},"reg":${d.reg}}`,
  'exit.hlt': (d: EventDataMap['exit.hlt']) => `{"pc":${d.pc},"ie":${d.ie}}`,
  'exit.privileged': (d: EventDataMap['exit.privileged']) => `{"pc":${d.pc},"op":"${d.op}","mode":"${d.mode}"}`,
  'exit.exception': (d: EventDataMap['exit.exception']) => `{"pc":${d.pc},"vector":${d.vector},"mode":"${d.mode}","code":${d.code},"resumePc":${d.resumePc}}`,
  'exit.hypercall': (d: EventDataMap['exit.hypercall']) => `{"pc":${d.pc},"nr":${d.nr},"args":[${d.args.join(',')}]}`,
  'exit.preempt': (d: EventDataMap['exit.preempt']) => d.by === undefined ? `{"pc":${d.pc},"pcpu":${d.pcpu},"ranNs":${d.ranNs}}` : `{"pc":${d.pc},"pcpu":${d.pcpu},"ranNs":${d.ranNs},"by":"${d.by}"}`,
  'exit.interrupt': (d: EventDataMap['exit.interrupt']) => `{"pc":${d.pc},"line":${d.line}}`,
  'exception.inject': (d: EventDataMap['exception.inject']) => `{"vector":${d.vector},"pc":${d.pc}}`,
  'irq.raise': (d: EventDataMap['irq.raise']) => `{"line":${d.line}}`,
  'irq.inject': (d: EventDataMap['irq.inject']) => `{"vector":${d.vector},"line":${d.line}}`,
  'irq.eoi': (d: EventDataMap['irq.eoi']) => `{"line":${d.line}}`,
  'vcpu.running': (d: EventDataMap['vcpu.running']) => `{"pcpu":${d.pcpu}}`,
  'vcpu.runnable': (d: EventDataMap['vcpu.runnable']) => `{"reason":"${d.reason}"}`,
  'vcpu.blocked': (d: EventDataMap['vcpu.blocked']) => `{"pc":${d.pc}}`,
  'vm.blocked': () => '{}',
  'vm.unblocked': () => '{}',
  'pcpu.idle': (d: EventDataMap['pcpu.idle']) => (d.host === undefined ? `{"pcpu":${d.pcpu}}` : `{"pcpu":${d.pcpu},"host":${JSON.stringify(d.host)}}`),
  'timer.armed': (d: EventDataMap['timer.armed']) => `{"mode":"${d.mode}","ns":${d.ns}}`,
};

export function serializeData(event: SimEvent): string {
  const serializer = SERIALIZERS[event.type] as ((data: unknown) => string) | undefined;
  return serializer === undefined ? JSON.stringify(event.data) : serializer(event.data);
}

/** The types with a hand-written serialiser (for the test that compares with JSON.stringify). */
export const HAND_SERIALIZED_TYPES: readonly string[] = Object.keys(SERIALIZERS);
