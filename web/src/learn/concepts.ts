/**
 * The sections of docs/concepts.md the page links to, by the anchor GitHub gives each heading. The
 * page bundles the document itself (as text), so a link opens its section in the page, offline; a
 * test checks that every anchor named here is a heading of the document.
 */
import type { Lang } from '../i18n.js';

export type ConceptId =
  | 'hypervisor'
  | 'actors'
  | 'modes'
  | 'trap'
  | 'exitReasons'
  | 'reflected'
  | 'para'
  | 'hw'
  | 'memory'
  | 'io'
  | 'pic'
  | 'injection'
  | 'hlt'
  | 'timer'
  | 'scheduling'
  | 'types'
  | 'determinism';

export interface Concept {
  /** The anchor of the section in docs/concepts.md. */
  readonly slug: string;
  readonly title: Readonly<Record<Lang, string>>;
}

export const CONCEPTS: Readonly<Record<ConceptId, Concept>> = {
  hypervisor: { slug: '1-what-a-hypervisor-is', title: { en: 'What a hypervisor is', 'pt-BR': 'O que é um hipervisor' } },
  actors: { slug: 'the-actors', title: { en: 'The actors: host, monitor, VMs, vCPUs, devices', 'pt-BR': 'Os atores: hospedeiro, monitor, VMs, vCPUs, dispositivos' } },
  modes: { slug: '2-virtual-kernel-mode-and-virtual-user-mode', title: { en: 'Virtual kernel mode and virtual user mode', 'pt-BR': 'Modo núcleo virtual e modo usuário virtual' } },
  trap: { slug: '3-trap-and-emulate-full-virtualization', title: { en: 'Trap and emulate (full virtualization)', 'pt-BR': 'Trap-and-emulate (virtualização total)' } },
  exitReasons: { slug: 'exit-reasons', title: { en: 'Exit reasons', 'pt-BR': 'Motivos de saída de VM' } },
  reflected: { slug: 'exceptions-and-system-calls-are-reflected', title: { en: 'Exceptions and system calls are reflected', 'pt-BR': 'Exceções e chamadas de sistema são refletidas' } },
  para: { slug: '4-paravirtualization', title: { en: 'Paravirtualization', 'pt-BR': 'Paravirtualização' } },
  hw: { slug: '5-hardware-assisted-virtualization', title: { en: 'Hardware-assisted virtualization', 'pt-BR': 'Virtualização assistida por hardware' } },
  memory: { slug: '6-memory-isolation', title: { en: 'Memory isolation', 'pt-BR': 'Isolamento de memória' } },
  io: { slug: '7-io-and-interrupts', title: { en: 'I/O and interrupts', 'pt-BR': 'E/S e interrupções' } },
  pic: { slug: 'the-virtual-interrupt-controller', title: { en: 'The virtual interrupt controller', 'pt-BR': 'O controlador de interrupções virtual' } },
  injection: { slug: 'injection-at-vm-entry', title: { en: 'Injection at VM entry', 'pt-BR': 'Injeção na entrada da VM' } },
  hlt: { slug: 'hlt-blocking-and-waking', title: { en: 'hlt: blocking and waking', 'pt-BR': 'hlt: bloquear e acordar' } },
  timer: { slug: 'the-timer-and-its-seeded-jitter', title: { en: 'The timer', 'pt-BR': 'O temporizador' } },
  scheduling: { slug: '8-scheduling-vcpus-on-physical-cpus', title: { en: 'Scheduling vCPUs on physical CPUs', 'pt-BR': 'Escalonamento de vCPUs nos processadores físicos' } },
  types: { slug: '9-type-1-and-type-2-hypervisors', title: { en: 'Type 1 and Type 2 hypervisors', 'pt-BR': 'Hipervisores Tipo 1 e Tipo 2' } },
  determinism: { slug: '11-determinism-and-the-event-log', title: { en: 'Determinism and the event log', 'pt-BR': 'Determinismo e o registro de eventos' } },
};

/** GitHub's anchor for a Markdown heading: lower case, punctuation dropped, spaces to hyphens. */
export function headingSlug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

/** Every heading's anchor in a Markdown document (fenced code skipped). */
export function headingSlugs(markdown: string): Set<string> {
  const slugs = new Set<string>();
  let fenced = false;
  for (const line of markdown.split('\n')) {
    if (line.startsWith('```')) fenced = !fenced;
    const match = fenced ? null : /^#{1,6}\s+(.*)$/.exec(line);
    if (match !== null) slugs.add(headingSlug(match[1]));
  }
  return slugs;
}

/** The text of the section whose heading has `slug`: from its heading to the next heading of the same or a higher level. */
export function sectionText(markdown: string, slug: string): string {
  const lines = markdown.split('\n');
  let fenced = false;
  let start = -1;
  let level = 0;
  for (let index = 0; index < lines.length; index++) {
    const line = lines[index];
    if (line.startsWith('```')) fenced = !fenced;
    const match = fenced ? null : /^(#{1,6})\s+(.*)$/.exec(line);
    if (match === null) continue;
    if (start < 0 && headingSlug(match[2]) === slug) {
      start = index;
      level = match[1].length;
    } else if (start >= 0 && match[1].length <= level) {
      return lines.slice(start, index).join('\n').trim();
    }
  }
  return start < 0 ? '' : lines.slice(start).join('\n').trim();
}
