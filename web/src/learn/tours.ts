/**
 * Guided tours: a few steps over a bundled scenario each, the cursor moved for the learner to the
 * event a step is about (found in the run, not hard-coded seqs, so a change of the engine moves
 * the steps with it). A step names its scenario (the bundled examples, or web/tours/*.yaml); the
 * page runs it in the worker when it is not the run shown. DOM-free, so a Node test takes every
 * tour over the real runs and checks every step finds its event.
 */
import { EXIT_REASONS, type SimEvent } from '../../../src/core/events.js';
import { Port } from '../../../src/core/platform.js';
import type { RunData } from '../store/runData.js';
import { formatNs } from '../store/format.js';
import type { Lang } from '../i18n.js';

export interface TourContext {
  /** The run of this step's scenario, complete. */
  readonly run: RunData;
  /** The complete runs of the tour's scenarios so far, by scenario name (a step may compare two). */
  readonly runs: ReadonlyMap<string, RunData>;
}

export interface TourStep {
  readonly scenario: string;
  /** The seq the cursor moves to (-1 when the event is not in the run). */
  readonly at: (context: TourContext) => number;
  readonly text: Readonly<Record<Lang, (context: TourContext, seq: number) => string>>;
}

export interface Tour {
  readonly id: string;
  readonly title: Readonly<Record<Lang, string>>;
  readonly steps: readonly TourStep[];
}

/** The first event from `from` on that `test` accepts (-1 if none). */
export function find(run: RunData, test: (event: SimEvent) => boolean, from = 0): number {
  for (let seq = Math.max(0, from); seq < run.count; seq++) if (test(run.event(seq))) return seq;
  return -1;
}

const of = (vm: string) => (event: SimEvent) => event.src === `vm/${vm}` || event.src.startsWith(`vm/${vm}/`);
const last = ({ run }: TourContext) => run.count - 1;

/** A VM's exits so far (or in the whole run), as "12 (io 3, privileged 9)". */
function exitsOf(run: RunData, vm: string, upTo = run.count - 1): string {
  const counts = new Map<string, number>();
  let total = 0;
  for (let seq = 0; seq <= upTo; seq++) {
    const type = run.typeOf(seq);
    if (!type.startsWith('exit.') || !of(vm)({ src: run.srcOf(seq) } as SimEvent)) continue;
    const reason = type.slice(5);
    counts.set(reason, (counts.get(reason) ?? 0) + 1);
    total++;
  }
  const parts = EXIT_REASONS.filter((reason) => counts.has(reason)).map((reason) => `${reason} ${counts.get(reason)}`);
  return `${total} (${parts.join(', ')})`;
}

function stoppedAt(run: RunData | undefined, vm: string): string {
  if (run === undefined) return '?';
  const seq = find(run, (event) => event.type === 'vm.stopped' && event.src === `vm/${vm}`);
  return seq < 0 ? '?' : formatNs(run.time.get(seq));
}

/** The scheduler's quantum, from the log's header (the resolved scenario). */
function quantumOf(run: RunData): string {
  const quantum = (run.header?.scenario as { scheduler?: { quantum?: number } } | undefined)?.scheduler?.quantum;
  return quantum === undefined ? '?' : formatNs(quantum);
}

const consoleLine = (run: RunData, seq: number) => (seq < 0 ? '' : run.consoleText(seq));

const trap: Tour = {
  id: 'trap',
  title: { en: 'Trap and emulate', 'pt-BR': 'Trap-and-emulate' },
  steps: [
    {
      scenario: 'demo',
      at: ({ run }) => find(run, (e) => e.type === 'exit.privileged' && of('alpha')(e)),
      text: {
        en: () =>
          'VM alpha runs a tiny guest kernel. Its first act in (virtual) kernel mode is to set up a control register with csrw. The real CPU runs the guest without privilege, so the instruction traps: the CPU leaves the guest (a VM exit) and the monitor does what the instruction asked, on the vCPU\'s saved state.',
        'pt-BR': () =>
          'A VM alpha executa um pequeno núcleo convidado. Seu primeiro ato em modo núcleo (virtual) é configurar um registrador de controle com csrw. A CPU real executa o convidado sem privilégio, então a instrução é interceptada: a CPU sai do convidado (uma saída de VM) e o monitor faz o que a instrução pedia, sobre o estado salvo do vCPU.',
      },
    },
    {
      scenario: 'demo',
      at: ({ run }) => find(run, (e) => e.type === 'exit.io' && e.data.port === Port.CONSOLE_DATA && of('alpha')(e)),
      text: {
        en: () => 'Now the kernel prints its boot message, one character at a time, with out to the console port. Each out is privileged too: one exit per character, and the monitor emulates the console (a UART) in software.',
        'pt-BR': () => 'Agora o núcleo imprime sua mensagem de boot, um caractere por vez, com out na porta do console. Cada out também é privilegiado: uma saída por caractere, e o monitor emula o console (uma UART) em software.',
      },
    },
    {
      scenario: 'demo',
      at: ({ run }) => find(run, (e) => e.type === 'console.output' && of('alpha')(e)),
      text: {
        en: ({ run }, seq) => `The line is complete: "${consoleLine(run, seq)}". Look at the event stream: every character before it was an exit.io.`,
        'pt-BR': ({ run }, seq) => `A linha está completa: "${consoleLine(run, seq)}". Veja o fluxo de eventos: cada caractere antes dela foi um exit.io.`,
      },
    },
    {
      scenario: 'demo',
      at: ({ run }) => find(run, (e) => e.type === 'exit.exception' && e.data.mode === 'user' && of('alpha')(e)),
      text: {
        en: () => "A user task of the guest made a system call (syscall) from virtual user mode. The exception exits to the monitor too; the monitor does not handle it, it reflects it into the guest kernel's own handler (the next step).",
        'pt-BR': () => 'Uma tarefa de usuário do convidado fez uma chamada de sistema (syscall) em modo usuário virtual. A exceção também sai para o monitor; o monitor não a trata, ele a reflete para o tratador do próprio núcleo convidado (próximo passo).',
      },
    },
    {
      scenario: 'demo',
      at: ({ run }) => {
        const syscall = find(run, (e) => e.type === 'exit.exception' && e.data.mode === 'user' && of('alpha')(e));
        return find(run, (e) => e.type === 'exception.inject' && of('alpha')(e), syscall);
      },
      text: {
        en: () => 'The monitor injected the exception into the guest: the vCPU re-enters at the guest kernel\'s handler, in virtual kernel mode. The guest believes it is alone on a real machine.',
        'pt-BR': () => 'O monitor injetou a exceção no convidado: o vCPU reentra no tratador do núcleo convidado, em modo núcleo virtual. O convidado acredita estar sozinho numa máquina real.',
      },
    },
    {
      scenario: 'demo',
      at: last,
      text: {
        en: ({ run }) => `The end of the run. Trapping every sensitive instruction works (Popek and Goldberg), but it costs: VM alpha took ${exitsOf(run, 'alpha')} exits. The paravirtualization tour shows how to avoid most of them.`,
        'pt-BR': ({ run }) => `O fim da execução. Interceptar toda instrução sensível funciona (Popek e Goldberg), mas custa: a VM alpha fez ${exitsOf(run, 'alpha')} saídas. A visita de paravirtualização mostra como evitar a maioria delas.`,
      },
    },
  ],
};

const para: Tour = {
  id: 'para',
  title: { en: 'Paravirtualization', 'pt-BR': 'Paravirtualização' },
  steps: [
    {
      scenario: 'tour-para',
      at: ({ run }) => find(run, (e) => e.type === 'exit.io' && e.data.port === Port.CONSOLE_DATA && of('full')(e)),
      text: {
        en: () => 'Two VMs run the same tiny kernel with the same work. VM full runs it unmodified: its console output traps, one exit per character, as in the trap-and-emulate tour.',
        'pt-BR': () => 'Duas VMs executam o mesmo pequeno núcleo com o mesmo trabalho. A VM full o executa sem modificação: a saída no console é interceptada, uma saída por caractere, como na visita de trap-and-emulate.',
      },
    },
    {
      scenario: 'tour-para',
      // The next hypercall after the step before (para's boot line came first: it starts printing sooner).
      at: ({ run }) => find(run, (e) => e.type === 'exit.hypercall' && of('para')(e), find(run, (e) => e.type === 'exit.io' && e.data.port === Port.CONSOLE_DATA && of('full')(e))),
      text: {
        en: () => 'VM para runs the paravirtualized kernel: it knows it is in a VM and calls the monitor directly with a hypercall, handing it a whole string at once instead of trapping on each character.',
        'pt-BR': () => 'A VM para executa o núcleo paravirtualizado: ele sabe que está numa VM e chama o monitor diretamente com uma hiperchamada, entregando uma cadeia inteira de uma vez em vez de ser interceptado a cada caractere.',
      },
    },
    {
      scenario: 'tour-para',
      at: ({ run }) => find(run, (e) => e.type === 'console.output' && e.data.text.includes('round 1') && of('full')(e)),
      text: {
        en: ({ run }, seq) => `Both VMs print the same lines ("${consoleLine(run, seq)}"): the guest's behaviour is the same. Exits so far: full ${exitsOf(run, 'full', seq)}, para ${exitsOf(run, 'para', seq)}.`,
        'pt-BR': ({ run }, seq) => `As duas VMs imprimem as mesmas linhas ("${consoleLine(run, seq)}"): o comportamento do convidado é o mesmo. Saídas até aqui: full ${exitsOf(run, 'full', seq)}, para ${exitsOf(run, 'para', seq)}.`,
      },
    },
    {
      scenario: 'tour-para',
      at: last,
      text: {
        en: ({ run }) => `At the end, side by side: full took ${exitsOf(run, 'full')} exits, para ${exitsOf(run, 'para')}. Same output, a fraction of the exits: that is what changing the guest buys (Xen's original design).`,
        'pt-BR': ({ run }) => `No fim, lado a lado: full fez ${exitsOf(run, 'full')} saídas, para ${exitsOf(run, 'para')}. Mesma saída, uma fração das saídas de VM: é o que modificar o convidado compra (o projeto original do Xen).`,
      },
    },
  ],
};

const isolation: Tour = {
  id: 'isolation',
  title: { en: 'A misbehaving guest crashes alone', 'pt-BR': 'Um convidado mal-comportado falha sozinho' },
  steps: [
    {
      scenario: 'demo',
      at: ({ run }) => find(run, (e) => e.type === 'console.output' && e.data.text.includes('another VM') && of('rogue')(e)),
      text: {
        en: ({ run }, seq) => `VM rogue behaved until ${formatNs(run.time.get(seq))}. Now it announces: "${consoleLine(run, seq)}".`,
        'pt-BR': ({ run }, seq) => `A VM rogue se comportou até ${formatNs(run.time.get(seq))}. Agora ela anuncia: "${consoleLine(run, seq)}".`,
      },
    },
    {
      scenario: 'demo',
      at: ({ run }) => find(run, (e) => e.type === 'exit.page-fault' && of('rogue')(e)),
      text: {
        en: () => "It reads a guest-physical address beyond its own memory. No host memory of this VM backs that address, so the access cannot reach anything: the CPU exits (an EPT violation, reason page-fault).",
        'pt-BR': () => 'Ela lê um endereço físico do convidado além da sua própria memória. Nenhuma memória do hospedeiro desta VM cobre esse endereço, então o acesso não alcança nada: a CPU sai (uma violação de EPT, motivo page-fault).',
      },
    },
    {
      scenario: 'demo',
      at: ({ run }) => find(run, (e) => e.type === 'vm.crashed' && e.src === 'vm/rogue'),
      text: {
        en: () => 'The monitor crashes VM rogue, and only it: its vCPU leaves the physical CPU and its memory is released (zeroed first).',
        'pt-BR': () => 'O monitor derruba a VM rogue, e só ela: seu vCPU deixa o processador físico e sua memória é liberada (zerada antes).',
      },
    },
    {
      scenario: 'demo',
      at: ({ run }) => {
        const crash = find(run, (e) => e.type === 'vm.crashed' && e.src === 'vm/rogue');
        return find(run, (e) => e.type === 'console.output' && !of('rogue')(e), crash);
      },
      text: {
        en: ({ run }, seq) => `The other VMs did not notice: ${run.srcOf(seq).split('/')[1]} prints "${consoleLine(run, seq)}" right after. Isolation means a guest's fault is its own.`,
        'pt-BR': ({ run }, seq) => `As outras VMs nem perceberam: ${run.srcOf(seq).split('/')[1]} imprime "${consoleLine(run, seq)}" logo depois. Isolamento significa que a falha de um convidado é só dele.`,
      },
    },
  ],
};

const types: Tour = {
  id: 'types',
  title: { en: 'Type 1 against Type 2', 'pt-BR': 'Tipo 1 contra Tipo 2' },
  steps: [
    {
      scenario: 'tour-type1',
      at: ({ run }) => find(run, (e) => e.type === 'vm.stopped'),
      text: {
        en: ({ run }) => `A Type 1 (bare-metal) hypervisor owns the hardware. The tiny kernel runs three rounds and powers off at ${stoppedAt(run, 'guest')}.`,
        'pt-BR': ({ run }) => `Um hipervisor Tipo 1 (bare-metal) controla o hardware. O pequeno núcleo executa três rodadas e desliga em ${stoppedAt(run, 'guest')}.`,
      },
    },
    {
      scenario: 'tour-type2',
      at: ({ run }) => find(run, (e) => e.type === 'host.process'),
      text: {
        en: () => "Now the same guest, same seed, under a Type 2 (hosted) hypervisor: the monitor is a process of a host OS. Here the host's own processes take the physical CPU (host.process); the vCPU is pushed off and waits.",
        'pt-BR': () => 'Agora o mesmo convidado, mesma semente, sob um hipervisor Tipo 2 (hospedado): o monitor é um processo de um SO hospedeiro. Aqui os processos do próprio hospedeiro tomam o processador físico (host.process); o vCPU é tirado e espera.',
      },
    },
    {
      scenario: 'tour-type2',
      at: ({ run }) => find(run, (e) => e.type === 'vm.stopped'),
      text: {
        en: ({ run, runs }) =>
          `Under Type 2 the same guest powers off at ${stoppedAt(run, 'guest')}, against ${stoppedAt(runs.get('tour-type1'), 'guest')} under Type 1: every exit also crosses the host OS, and the host's processes share the CPU. The compare panel measures this for several guests.`,
        'pt-BR': ({ run, runs }) =>
          `Sob o Tipo 2 o mesmo convidado desliga em ${stoppedAt(run, 'guest')}, contra ${stoppedAt(runs.get('tour-type1'), 'guest')} sob o Tipo 1: cada saída também atravessa o SO hospedeiro, e os processos do hospedeiro dividem a CPU. O painel de comparação mede isso para vários convidados.`,
      },
    },
  ],
};

const scheduling: Tour = {
  id: 'scheduling',
  title: { en: 'A scheduler sharing two pCPUs', 'pt-BR': 'Um escalonador dividindo dois pCPUs' },
  steps: [
    {
      scenario: 'demo',
      at: ({ run }) => find(run, (e) => e.type === 'vcpu.running' && e.data.pcpu === 1),
      text: {
        en: () => 'Four VMs, one vCPU each, and only two physical CPUs. The round-robin scheduler puts a vCPU on each pCPU; the others wait in the run queue (see the two lanes above).',
        'pt-BR': () => 'Quatro VMs, um vCPU cada, e só dois processadores físicos. O escalonador round-robin coloca um vCPU em cada pCPU; os outros esperam na fila de prontos (veja as duas faixas acima).',
      },
    },
    {
      scenario: 'demo',
      at: ({ run }) => find(run, (e) => e.type === 'exit.preempt'),
      text: {
        en: ({ run }, seq) => `After its quantum (${quantumOf(run)} here) a vCPU is preempted: ${run.srcOf(seq)} leaves pCPU ${(run.event(seq).data as { pcpu: number }).pcpu} though it still has work, because another vCPU is waiting.`,
        'pt-BR': ({ run }, seq) => `Depois do seu quantum (${quantumOf(run)} aqui) um vCPU é preemptado: ${run.srcOf(seq)} deixa o pCPU ${(run.event(seq).data as { pcpu: number }).pcpu} embora ainda tenha trabalho, porque outro vCPU está esperando.`,
      },
    },
    {
      scenario: 'demo',
      at: ({ run }) => {
        const preempt = find(run, (e) => e.type === 'exit.preempt');
        const pcpu = preempt < 0 ? -1 : (run.event(preempt).data as { pcpu: number }).pcpu;
        return find(run, (e) => e.type === 'vcpu.running' && e.data.pcpu === pcpu, preempt);
      },
      text: {
        en: ({ run }, seq) => `The scheduler gives that pCPU to the next vCPU in the queue: ${run.srcOf(seq)}. The preempted one goes to the back of the queue.`,
        'pt-BR': ({ run }, seq) => `O escalonador dá aquele pCPU ao próximo vCPU da fila: ${run.srcOf(seq)}. O preemptado vai para o fim da fila.`,
      },
    },
    {
      scenario: 'demo',
      at: ({ run }) => find(run, (e) => e.type === 'pcpu.idle'),
      text: {
        en: ({ run }, seq) => `At ${formatNs(run.time.get(seq))} a pCPU goes idle: VMs have finished (or crashed), and no vCPU is waiting any more.`,
        'pt-BR': ({ run }, seq) => `Em ${formatNs(run.time.get(seq))} um pCPU fica ocioso: VMs terminaram (ou falharam), e nenhum vCPU espera mais.`,
      },
    },
    {
      scenario: 'demo',
      at: last,
      text: {
        en: () => 'The whole run: the charts below show each VM\'s CPU time next to its waiting (steal) time, what sharing two pCPUs among four vCPUs costs each of them.',
        'pt-BR': () => 'A execução inteira: os gráficos abaixo mostram o tempo de CPU de cada VM ao lado do seu tempo de espera (steal), o quanto dividir dois pCPUs entre quatro vCPUs custa a cada uma.',
      },
    },
  ],
};

export const TOURS: readonly Tour[] = [trap, para, isolation, types, scheduling];
