/**
 * "What just happened": every event type told in plain words, in English and Brazilian
 * Portuguese, with the concept it shows (a section of docs/concepts.md). The table is keyed by the
 * event types of src/core/events.ts, so a new type without its text fails to compile, and a test
 * renders every type of EVENT_TYPES in both languages.
 */
import type { EventDataMap, EventType, SimEvent } from '../../../src/core/events.js';
import { Hypercall, Port } from '../../../src/core/platform.js';
import type { Lang } from '../i18n.js';
import { translateReason } from './reasons.js';
import type { ConceptId } from './concepts.js';

type Text<K extends EventType> = (data: EventDataMap[K], who: Who) => string;

interface Explanation<K extends EventType> {
  readonly concept: ConceptId;
  readonly en: Text<K>;
  readonly 'pt-BR': Text<K>;
}

/** Who published the event, named in each language. */
interface Who {
  readonly vm: string;
  readonly vcpu: string;
  readonly src: string;
}

const hex = (value: number) => `0x${(value >>> 0).toString(16)}`;
const char = (value: number | null) => (value === null ? '' : value === 10 ? '\\n' : value >= 32 && value < 127 ? String.fromCharCode(value) : `#${value}`);
const ns = (value: number) => (value >= 1_000_000 ? `${(value / 1_000_000).toFixed(2)} ms` : value >= 1_000 ? `${(value / 1_000).toFixed(1)} µs` : `${value} ns`);

const PORT_NAMES: Readonly<Record<number, readonly [string, string]>> = {
  [Port.CONSOLE_DATA]: ['its console', 'seu console'],
  [Port.CONSOLE_STATUS]: ["its console's status", 'o estado do seu console'],
  [Port.TIMER_PERIOD]: ['its timer', 'seu temporizador'],
  [Port.TIMER_ONESHOT]: ['its timer', 'seu temporizador'],
  [Port.TIMER_NOW]: ['its clock', 'seu relógio'],
  [Port.PIC_EOI]: ['its interrupt controller', 'seu controlador de interrupções'],
  [Port.PIC_MASK]: ['its interrupt controller', 'seu controlador de interrupções'],
  [Port.POWER]: ['its power switch', 'seu botão de energia'],
};
const portName = (port: number, lang: 0 | 1) => PORT_NAMES[port]?.[lang] ?? (lang === 0 ? `a device (port ${hex(port)})` : `um dispositivo (porta ${hex(port)})`);

const HYPERCALL_NAMES: Readonly<Record<number, readonly [string, string]>> = {
  [Hypercall.VERSION]: ['asked for the interface version', 'pediu a versão da interface'],
  [Hypercall.CONSOLE_PUTC]: ['asked it to print one character', 'pediu para imprimir um caractere'],
  [Hypercall.POWER_OFF]: ['asked it to power the VM off', 'pediu para desligar a VM'],
  [Hypercall.YIELD]: ['gave up the physical CPU', 'cedeu o processador físico'],
  [Hypercall.TIME_US]: ['asked for the time', 'pediu a hora'],
  [Hypercall.CONSOLE_WRITE]: ['asked it to print a whole string', 'pediu para imprimir uma cadeia inteira'],
  [Hypercall.SET_TIMER]: ['asked it to program the timer', 'pediu para programar o temporizador'],
};
const hypercallName = (nr: number, lang: 0 | 1) => HYPERCALL_NAMES[nr]?.[lang] ?? (lang === 0 ? `asked for service ${nr}` : `pediu o serviço ${nr}`);

const modeEn = (mode: 'kernel' | 'user') => (mode === 'kernel' ? 'kernel mode' : 'user mode');
const modePt = (mode: 'kernel' | 'user') => (mode === 'kernel' ? 'modo núcleo' : 'modo usuário');

const RUNNABLE: Readonly<Record<EventDataMap['vcpu.runnable']['reason'], readonly [string, string]>> = {
  start: ['it has just started', 'acabou de iniciar'],
  preempt: ['its quantum ran out and it goes back to the run queue', 'seu quantum acabou e ele volta para a fila de prontos'],
  wake: ['an interrupt woke it up', 'uma interrupção o acordou'],
  resume: ['its VM was resumed', 'sua VM foi retomada'],
};

const SIM_ENDED: Readonly<Record<EventDataMap['sim.ended']['reason'], readonly [string, string]>> = {
  time: ['its time limit was reached', 'o limite de tempo foi atingido'],
  instructions: ['its instruction limit was reached', 'o limite de instruções foi atingido'],
  idle: ['nothing was left to run', 'não havia mais nada para executar'],
  stopped: ['it was asked to stop', 'pediram para parar'],
};

type Table = { readonly [K in EventType]: Explanation<K> };

const TABLE: Table = {
  'sim.started': {
    concept: 'actors',
    en: (d) => `The simulation started: ${d.vms} VMs on ${d.pcpus} physical CPUs, seed ${d.seed}. The same scenario and seed always give the same events.`,
    'pt-BR': (d) => `A simulação começou: ${d.vms} VMs em ${d.pcpus} processadores físicos, semente ${d.seed}. O mesmo cenário e a mesma semente sempre dão os mesmos eventos.`,
  },
  'sim.ended': {
    concept: 'determinism',
    en: (d) => `The simulation ended because ${SIM_ENDED[d.reason][0]}, after ${d.instructions} guest instructions.`,
    'pt-BR': (d) => `A simulação terminou porque ${SIM_ENDED[d.reason][1]}, depois de ${d.instructions} instruções do convidado.`,
  },
  'vm.defined': {
    concept: 'actors',
    en: (d, w) => `The monitor created VM ${w.vm}: ${d.vcpus} virtual CPU(s), ${d.memoryBytes} bytes of memory, running the guest "${d.guest}". It is defined but not running yet.`,
    'pt-BR': (d, w) => `O monitor criou a VM ${w.vm}: ${d.vcpus} CPU(s) virtual(is), ${d.memoryBytes} bytes de memória, executando o convidado "${d.guest}". Ela está definida, mas ainda não executa.`,
  },
  'vm.started': {
    concept: 'actors',
    en: (_d, w) => `VM ${w.vm} started: its vCPUs can now be scheduled on the physical CPUs.`,
    'pt-BR': (_d, w) => `A VM ${w.vm} iniciou: seus vCPUs agora podem ser escalonados nos processadores físicos.`,
  },
  'vm.suspended': {
    concept: 'actors',
    en: (_d, w) => `VM ${w.vm} was paused by the operator: its vCPUs leave the physical CPUs until it is resumed.`,
    'pt-BR': (_d, w) => `A VM ${w.vm} foi pausada pelo operador: seus vCPUs deixam os processadores físicos até ela ser retomada.`,
  },
  'vm.resumed': {
    concept: 'actors',
    en: (_d, w) => `VM ${w.vm} was resumed: its vCPUs are runnable again.`,
    'pt-BR': (_d, w) => `A VM ${w.vm} foi retomada: seus vCPUs voltam a ficar prontos.`,
  },
  'vm.blocked': {
    concept: 'hlt',
    en: (_d, w) => `Every vCPU of VM ${w.vm} is waiting (hlt) for an interrupt: the VM is blocked and uses no physical CPU.`,
    'pt-BR': (_d, w) => `Todos os vCPUs da VM ${w.vm} esperam (hlt) por uma interrupção: a VM está bloqueada e não usa processador físico.`,
  },
  'vm.unblocked': {
    concept: 'hlt',
    en: (_d, w) => `An interrupt woke a vCPU of VM ${w.vm}: the VM is no longer blocked.`,
    'pt-BR': (_d, w) => `Uma interrupção acordou um vCPU da VM ${w.vm}: a VM não está mais bloqueada.`,
  },
  'vm.shutdown': {
    concept: 'actors',
    en: (d, w) => `VM ${w.vm} is shutting down: ${translateReason(d.reason, 'en')}.`,
    'pt-BR': (d, w) => `A VM ${w.vm} está desligando: ${translateReason(d.reason, 'pt-BR')}.`,
  },
  'vm.stopped': {
    concept: 'actors',
    en: (d, w) => `VM ${w.vm} is off (${translateReason(d.reason, 'en')}). The monitor took its memory back.`,
    'pt-BR': (d, w) => `A VM ${w.vm} está desligada (${translateReason(d.reason, 'pt-BR')}). O monitor recuperou sua memória.`,
  },
  'vm.crashed': {
    concept: 'memory',
    en: (d, w) => `VM ${w.vm} crashed: ${translateReason(d.reason, 'en')} (vCPU ${d.vcpu}, pc ${hex(d.pc)}). Only this VM stops: the monitor isolates the others, which keep running.`,
    'pt-BR': (d, w) => `A VM ${w.vm} falhou: ${translateReason(d.reason, 'pt-BR')} (vCPU ${d.vcpu}, pc ${hex(d.pc)}). Só esta VM para: o monitor isola as outras, que continuam executando.`,
  },
  'vm.not-allowed': {
    concept: 'actors',
    en: (d, w) => `VM ${w.vm} refused the command "${d.command}": ${translateReason(d.reason, 'en')}. A command that is illegal in the current state is answered, never dropped silently.`,
    'pt-BR': (d, w) => `A VM ${w.vm} recusou o comando "${d.command}": ${translateReason(d.reason, 'pt-BR')}. Um comando ilegal no estado atual é respondido, nunca descartado em silêncio.`,
  },
  'vm.pool-moved': {
    concept: 'scheduling',
    en: (d, w) => `VM ${w.vm} moved from cpupool ${d.from} to cpupool ${d.to}: from now on its vCPUs run only on the CPUs of ${d.to}, under that pool's scheduler (Xen's sched_move_domain).`,
    'pt-BR': (d, w) => `A VM ${w.vm} passou do cpupool ${d.from} para o cpupool ${d.to}: daqui em diante seus vCPUs rodam só nas CPUs de ${d.to}, sob o escalonador desse pool (sched_move_domain do Xen).`,
  },
  'migration.started': {
    concept: 'memory',
    en: (d, w) =>
      d.mode === 'postcopy'
        ? `VM ${w.vm} starts migrating live from host ${d.from} to host ${d.to} (post-copy): it pauses while its vCPU and device state cross the link, then runs on ${d.to}; its ${d.pages} touched pages follow, pulled when it touches them and pushed meanwhile.`
        : `VM ${w.vm} starts migrating live from host ${d.from} to host ${d.to} (pre-copy): round 0 sends its ${d.pages} touched pages, ${d.pageNs} ns each on the link, while it keeps running; its pages are write-protected so every write shows which to send again.`,
    'pt-BR': (d, w) =>
      d.mode === 'postcopy'
        ? `A VM ${w.vm} começa a migrar ao vivo do host ${d.from} para o host ${d.to} (pós-cópia): ela pausa enquanto o estado dos vCPUs e dispositivos atravessa o enlace, depois executa em ${d.to}; suas ${d.pages} páginas tocadas seguem, puxadas quando ela as toca e empurradas nesse meio-tempo.`
        : `A VM ${w.vm} começa a migrar ao vivo do host ${d.from} para o host ${d.to} (pré-cópia): a rodada 0 envia suas ${d.pages} páginas tocadas, ${d.pageNs} ns cada no enlace, enquanto ela continua executando; suas páginas ficam protegidas contra escrita para que cada escrita mostre o que reenviar.`,
  },
  'migration.round': {
    concept: 'memory',
    en: (d, w) => `Migration of VM ${w.vm}, round ${d.round}: ${d.pagesSent} pages sent in ${d.durationNs} ns, ${d.pagesDirtied} pages written meanwhile (to send again).`,
    'pt-BR': (d, w) => `Migração da VM ${w.vm}, rodada ${d.round}: ${d.pagesSent} páginas enviadas em ${d.durationNs} ns, ${d.pagesDirtied} páginas escritas nesse meio-tempo (a reenviar).`,
  },
  'migration.stopped-copy': {
    concept: 'memory',
    en: (d, w) => `VM ${w.vm} pauses for the stop-and-copy: its last ${d.pages} dirty pages and its vCPU and device state cross the link (${d.trigger === 'converged' ? 'they fit in the downtime limit' : 'the maximum number of rounds was reached'}).`,
    'pt-BR': (d, w) => `A VM ${w.vm} pausa para a cópia final: suas últimas ${d.pages} páginas sujas e o estado dos vCPUs e dispositivos atravessam o enlace (${d.trigger === 'converged' ? 'cabem no limite de indisponibilidade' : 'o número máximo de rodadas foi atingido'}).`,
  },
  'migration.completed': {
    concept: 'memory',
    en: (d, w) => `VM ${w.vm} now runs on host ${d.to}: the migration took ${d.totalNs} ns in ${d.rounds} rounds, with ${d.downtimeNs} ns of downtime; ${d.pagesSent} pages sent, ${d.pagesResent} of them again.`,
    'pt-BR': (d, w) => `A VM ${w.vm} agora executa no host ${d.to}: a migração levou ${d.totalNs} ns em ${d.rounds} rodadas, com ${d.downtimeNs} ns de indisponibilidade; ${d.pagesSent} páginas enviadas, ${d.pagesResent} delas de novo.`,
  },
  'migration.refused': {
    concept: 'actors',
    en: (d, w) => `The migration of VM ${w.vm} to host ${d.to} was refused before it started (nothing changed; the VM goes on): ${d.reason}.`,
    'pt-BR': (d, w) => `A migração da VM ${w.vm} para o host ${d.to} foi recusada antes de começar (nada mudou; a VM continua): ${d.reason}.`,
  },
  'migration.cancelled': {
    concept: 'actors',
    en: (d, w) => `The migration of VM ${w.vm} to host ${d.to} was given up (${d.reason}); the VM stays on its host.`,
    'pt-BR': (d, w) => `A migração da VM ${w.vm} para o host ${d.to} foi abandonada (${d.reason}); a VM fica em seu host.`,
  },
  'vcpu.runnable': {
    concept: 'scheduling',
    en: (d, w) => `${w.vcpu} is runnable: ${RUNNABLE[d.reason][0]}. It waits in the run queue for a physical CPU.`,
    'pt-BR': (d, w) => `${w.vcpu} está pronto: ${RUNNABLE[d.reason][1]}. Ele espera na fila de prontos por um processador físico.`,
  },
  'vcpu.running': {
    concept: 'scheduling',
    en: (d, w) => `The scheduler put ${w.vcpu} on physical CPU ${d.pcpu}: the monitor entered the guest (VM entry) and its instructions run directly until the next exit.`,
    'pt-BR': (d, w) => `O escalonador colocou ${w.vcpu} no processador físico ${d.pcpu}: o monitor entrou no convidado (entrada na VM) e suas instruções executam diretamente até a próxima saída.`,
  },
  'vcpu.blocked': {
    concept: 'hlt',
    en: (d, w) => `${w.vcpu} executed hlt at ${hex(d.pc)}: it has nothing to do until an interrupt, so it leaves the physical CPU to others.`,
    'pt-BR': (d, w) => `${w.vcpu} executou hlt em ${hex(d.pc)}: não tem nada a fazer até uma interrupção, então cede o processador físico aos outros.`,
  },
  'vcpu.paused': {
    concept: 'actors',
    en: (_d, w) => `${w.vcpu} is paused with its VM.`,
    'pt-BR': (_d, w) => `${w.vcpu} está pausado junto com sua VM.`,
  },
  'vcpu.halted': {
    concept: 'hlt',
    en: (d, w) => `${w.vcpu} halted for good at ${hex(d.pc)} (hlt with interrupts disabled): nothing can wake it.`,
    'pt-BR': (d, w) => `${w.vcpu} parou de vez em ${hex(d.pc)} (hlt com interrupções desabilitadas): nada pode acordá-lo.`,
  },
  'vcpu.crashed': {
    concept: 'memory',
    en: (d, w) => `${w.vcpu} crashed at ${hex(d.pc)}: ${translateReason(d.reason, 'en')}.`,
    'pt-BR': (d, w) => `${w.vcpu} falhou em ${hex(d.pc)}: ${translateReason(d.reason, 'pt-BR')}.`,
  },
  'vcpu.not-allowed': {
    concept: 'actors',
    en: (d, w) => `${w.vcpu} refused the command "${d.command}": ${translateReason(d.reason, 'en')}.`,
    'pt-BR': (d, w) => `${w.vcpu} recusou o comando "${d.command}": ${translateReason(d.reason, 'pt-BR')}.`,
  },
  'pcpu.idle': {
    concept: 'scheduling',
    en: (d) => `Physical CPU ${d.pcpu} is idle: no vCPU is waiting for it.`,
    'pt-BR': (d) => `O processador físico ${d.pcpu} está ocioso: nenhum vCPU espera por ele.`,
  },
  'host.process': {
    concept: 'types',
    en: (d) => `Type 2: the host operating system ran one of its own processes on physical CPU ${d.pcpu} for ${ns(d.ns)}. The VMs wait; a Type 1 hypervisor has no host OS to share the CPU with.`,
    'pt-BR': (d) => `Tipo 2: o sistema operacional hospedeiro executou um processo seu no processador físico ${d.pcpu} por ${ns(d.ns)}. As VMs esperam; um hipervisor Tipo 1 não tem SO hospedeiro com quem dividir a CPU.`,
  },
  'exit.io': {
    concept: 'trap',
    en: (d, w) =>
      `The guest's kernel on ${w.vcpu} ${d.dir === 'out' ? `wrote ${d.port === Port.CONSOLE_DATA ? `the character '${char(d.value)}'` : d.value} to ${portName(d.port, 0)} with out` : `read ${portName(d.port, 0)} with in`}. In a VM this instruction is privileged, so the CPU left the guest (a VM exit, reason io) and the monitor emulated the device. This is full virtualization by trap and emulate.`,
    'pt-BR': (d, w) =>
      `O núcleo do convidado em ${w.vcpu} ${d.dir === 'out' ? `escreveu ${d.port === Port.CONSOLE_DATA ? `o caractere '${char(d.value)}'` : d.value} em ${portName(d.port, 1)} com out` : `leu ${portName(d.port, 1)} com in`}. Numa VM essa instrução é privilegiada, então a CPU saiu do convidado (uma saída de VM, motivo io) e o monitor emulou o dispositivo. Isto é virtualização total por trap-and-emulate.`,
  },
  'exit.mmio': {
    concept: 'io',
    en: (d, w) => `${w.vcpu} ${d.dir === 'read' ? 'read' : 'wrote'} the memory-mapped device register at ${hex(d.addr)}. No memory backs that address, so the access trapped (a VM exit, reason mmio) and the monitor emulated the device.`,
    'pt-BR': (d, w) => `${w.vcpu} ${d.dir === 'read' ? 'leu' : 'escreveu'} o registrador de dispositivo mapeado em memória em ${hex(d.addr)}. Nenhuma memória cobre esse endereço, então o acesso foi interceptado (saída de VM, motivo mmio) e o monitor emulou o dispositivo.`,
  },
  'exit.hlt': {
    concept: 'hlt',
    en: (d, w) => `The guest on ${w.vcpu} executed hlt (interrupts ${d.ie ? 'enabled' : 'disabled'}): it has nothing to do. The CPU left the guest (a VM exit, reason hlt) so the monitor can give the physical CPU to another vCPU.`,
    'pt-BR': (d, w) => `O convidado em ${w.vcpu} executou hlt (interrupções ${d.ie ? 'habilitadas' : 'desabilitadas'}): não tem nada a fazer. A CPU saiu do convidado (saída de VM, motivo hlt) para o monitor dar o processador físico a outro vCPU.`,
  },
  'exit.hypercall': {
    concept: 'para',
    en: (d, w) => `The paravirtualized guest on ${w.vcpu} knows it runs in a VM: instead of touching a device it called the monitor directly (hypercall ${d.nr}) and ${hypercallName(d.nr, 0)}. One deliberate exit replaces the traps full virtualization would take. This is paravirtualization.`,
    'pt-BR': (d, w) => `O convidado paravirtualizado em ${w.vcpu} sabe que executa numa VM: em vez de acessar um dispositivo, chamou o monitor diretamente (hiperchamada ${d.nr}) e ${hypercallName(d.nr, 1)}. Uma saída deliberada substitui os traps que a virtualização total faria. Isto é paravirtualização.`,
  },
  'exit.privileged': {
    concept: 'trap',
    en: (d, w) => `The guest's kernel on ${w.vcpu} executed the privileged instruction ${d.op} in ${modeEn(d.mode)}. The guest's "kernel mode" is only virtual: the real CPU runs it unprivileged, so the instruction trapped (a VM exit, reason privileged) and the monitor emulated it on the vCPU's state. This is trap and emulate.`,
    'pt-BR': (d, w) => `O núcleo do convidado em ${w.vcpu} executou a instrução privilegiada ${d.op} em ${modePt(d.mode)}. O "modo núcleo" do convidado é só virtual: a CPU real o executa sem privilégio, então a instrução foi interceptada (saída de VM, motivo privileged) e o monitor a emulou sobre o estado do vCPU. Isto é trap-and-emulate.`,
  },
  'exit.page-fault': {
    concept: 'memory',
    en: (d, w) =>
      d.cause === undefined
        ? `${w.vcpu} tried to ${d.access} guest-physical address ${hex(d.addr)}, which no memory of its VM backs (an EPT violation): a VM exit, reason page-fault. The monitor does not let a VM reach memory that is not its own.`
        : `${w.vcpu} took a page fault at ${hex(d.addr)} (${d.access}, cause ${d.cause}): the monitor keeps the guest's page tables virtual and handles it before the guest resumes.`,
    'pt-BR': (d, w) =>
      d.cause === undefined
        ? `${w.vcpu} tentou ${d.access === 'read' ? 'ler' : d.access === 'write' ? 'escrever' : 'buscar'} o endereço físico do convidado ${hex(d.addr)}, que nenhuma memória da sua VM cobre (violação de EPT): saída de VM, motivo page-fault. O monitor não deixa uma VM alcançar memória que não é dela.`
        : `${w.vcpu} sofreu uma falta de página em ${hex(d.addr)} (${d.access}, causa ${d.cause}): o monitor mantém virtuais as tabelas de páginas do convidado e a trata antes de o convidado continuar.`,
  },
  'exit.exception': {
    concept: 'reflected',
    en: (d, w) => `The guest on ${w.vcpu} raised exception vector ${d.vector} in ${modeEn(d.mode)} (a system call or a fault). It exited to the monitor (reason exception), which reflects it into the guest's own handler: the guest kernel handles its tasks' system calls, the monitor only passes them on.`,
    'pt-BR': (d, w) => `O convidado em ${w.vcpu} levantou a exceção de vetor ${d.vector} em ${modePt(d.mode)} (uma chamada de sistema ou uma falta). Saiu para o monitor (motivo exception), que a reflete para o tratador do próprio convidado: o núcleo do convidado trata as chamadas de sistema de suas tarefas, o monitor só as repassa.`,
  },
  'exit.shutdown': {
    concept: 'exitReasons',
    en: (d, w) => `${w.vcpu} exited because its guest shut down (${translateReason(d.reason, 'en')}).`,
    'pt-BR': (d, w) => `${w.vcpu} saiu porque seu convidado desligou (${translateReason(d.reason, 'pt-BR')}).`,
  },
  'exit.preempt': {
    concept: 'scheduling',
    en: (d, w) => `${w.vcpu} ran ${ns(d.ranNs)} on physical CPU ${d.pcpu} and its quantum ran out while another vCPU waited: the scheduler preempted it (a VM exit, reason preempt). The guest did nothing wrong; it just has to share.`,
    'pt-BR': (d, w) => `${w.vcpu} executou ${ns(d.ranNs)} no processador físico ${d.pcpu} e seu quantum acabou enquanto outro vCPU esperava: o escalonador o preemptou (saída de VM, motivo preempt). O convidado não fez nada errado; só precisa dividir.`,
  },
  'exit.interrupt': {
    concept: 'injection',
    en: (d, w) => `An interrupt (line ${d.line}) for the VM arrived while ${w.vcpu} ran guest code: the CPU left the guest (a VM exit, reason interrupt) so the monitor can inject it at the next entry.`,
    'pt-BR': (d, w) => `Uma interrupção (linha ${d.line}) para a VM chegou enquanto ${w.vcpu} executava código do convidado: a CPU saiu do convidado (saída de VM, motivo interrupt) para o monitor injetá-la na próxima entrada.`,
  },
  'irq.raise': {
    concept: 'pic',
    en: (d, w) => `A device of VM ${w.vm} raised interrupt line ${d.line} on the VM's virtual interrupt controller.`,
    'pt-BR': (d, w) => `Um dispositivo da VM ${w.vm} levantou a linha de interrupção ${d.line} no controlador de interrupções virtual da VM.`,
  },
  'irq.inject': {
    concept: 'injection',
    en: (d, w) => `The monitor injected interrupt line ${d.line} (vector ${d.vector}) into ${w.vcpu} as it entered the guest: the guest jumps to its own interrupt handler, as on a real machine.`,
    'pt-BR': (d, w) => `O monitor injetou a linha de interrupção ${d.line} (vetor ${d.vector}) em ${w.vcpu} ao entrar no convidado: o convidado pula para seu próprio tratador de interrupção, como numa máquina real.`,
  },
  'irq.posted': {
    concept: 'hw',
    en: (d, w) => `Interrupt line ${d.line} was posted to ${w.vcpu} while it ran: hardware assistance delivers it without a VM exit.`,
    'pt-BR': (d, w) => `A linha de interrupção ${d.line} foi postada para ${w.vcpu} enquanto ele executava: a assistência de hardware a entrega sem saída de VM.`,
  },
  'irq.ipi': {
    concept: 'pic',
    en: (d, w) => `${w.vcpu} sent an inter-processor interrupt to vCPU ${d.to} of the same VM.`,
    'pt-BR': (d, w) => `${w.vcpu} enviou uma interrupção entre processadores ao vCPU ${d.to} da mesma VM.`,
  },
  'irq.eoi': {
    concept: 'pic',
    en: (d, w) => `The guest on VM ${w.vm} signalled the end of interrupt line ${d.line} (EOI): the controller can deliver that line again.`,
    'pt-BR': (d, w) => `O convidado da VM ${w.vm} sinalizou o fim da interrupção da linha ${d.line} (EOI): o controlador pode entregar essa linha de novo.`,
  },
  'exception.inject': {
    concept: 'reflected',
    en: (d, w) => `The monitor reflected exception vector ${d.vector} into ${w.vcpu}: the guest continues in its own handler (from pc ${hex(d.pc)}), in virtual kernel mode.`,
    'pt-BR': (d, w) => `O monitor refletiu a exceção de vetor ${d.vector} para ${w.vcpu}: o convidado continua em seu próprio tratador (a partir do pc ${hex(d.pc)}), em modo núcleo virtual.`,
  },
  'console.output': {
    concept: 'io',
    en: (d, w) => `VM ${w.vm}'s console printed a line: "${d.text}". The characters came one exit (or one hypercall) at a time.`,
    'pt-BR': (d, w) => `O console da VM ${w.vm} imprimiu uma linha: "${d.text}". Os caracteres vieram uma saída (ou uma hiperchamada) de cada vez.`,
  },
  'timer.armed': {
    concept: 'timer',
    en: (d, w) => (d.mode === 'off' ? `VM ${w.vm}'s timer was stopped.` : `VM ${w.vm}'s guest programmed its virtual timer (${d.mode}, every ${ns(d.ns)}): the monitor will raise its interrupt in virtual time.`),
    'pt-BR': (d, w) => (d.mode === 'off' ? `O temporizador da VM ${w.vm} foi parado.` : `O convidado da VM ${w.vm} programou seu temporizador virtual (${d.mode === 'periodic' ? 'periódico' : 'único'}, a cada ${ns(d.ns)}): o monitor levantará sua interrupção em tempo virtual.`),
  },
  'memory.scan': {
    concept: 'memory',
    en: (d) => `The host scanned ${d.scanned} pages for identical content and merged ${d.merged}: ${d.savedFrames} frames saved by sharing (copy on write keeps the VMs apart).`,
    'pt-BR': (d) => `O hospedeiro examinou ${d.scanned} páginas em busca de conteúdo idêntico e uniu ${d.merged}: ${d.savedFrames} quadros economizados por compartilhamento (a cópia na escrita mantém as VMs separadas).`,
  },
  'memory.freed': {
    concept: 'memory',
    en: (d, w) => `VM ${w.vm} ended and the host took back its ${d.frames} frames (and ${d.swapped} swapped pages).`,
    'pt-BR': (d, w) => `A VM ${w.vm} terminou e o hospedeiro recuperou seus ${d.frames} quadros (e ${d.swapped} páginas em swap).`,
  },
  'memory.swap-out': {
    concept: 'memory',
    en: (d, w) => `The host was short of memory: it wrote page ${d.page} of VM ${w.vm} to swap and took its frame. The guest does not know.`,
    'pt-BR': (d, w) => `O hospedeiro ficou sem memória: gravou a página ${d.page} da VM ${w.vm} em swap e tomou seu quadro. O convidado não sabe.`,
  },
  'memory.balloon': {
    concept: 'memory',
    en: (d) => `The host had ${d.freeFrames} free frames (below ${d.thresholdFrames}): it asked ${d.vms} VMs' balloon drivers for ${d.pages} pages back.`,
    'pt-BR': (d) => `O hospedeiro tinha ${d.freeFrames} quadros livres (abaixo de ${d.thresholdFrames}): pediu aos drivers de balão de ${d.vms} VMs ${d.pages} páginas de volta.`,
  },
  'dma.done': {
    concept: 'io',
    en: (d, w) => `VM ${w.vm}'s DMA engine copied ${d.words} words from ${hex(d.src)} to ${hex(d.dst)}, inside the VM's own memory.`,
    'pt-BR': (d, w) => `O motor de DMA da VM ${w.vm} copiou ${d.words} palavras de ${hex(d.src)} para ${hex(d.dst)}, dentro da memória da própria VM.`,
  },
  'dma.blocked': {
    concept: 'memory',
    en: (d, w) => `VM ${w.vm}'s DMA transfer was blocked: ${translateReason(d.reason, 'en')}. A device cannot reach another VM's memory either.`,
    'pt-BR': (d, w) => `A transferência DMA da VM ${w.vm} foi bloqueada: ${translateReason(d.reason, 'pt-BR')}. Um dispositivo também não alcança a memória de outra VM.`,
  },
  'iommu.fault': {
    concept: 'memory',
    en: (d, w) => `VM ${w.vm}'s IOMMU blocked device ${d.device}: ${translateReason(d.reason, 'en')}.`,
    'pt-BR': (d, w) => `A IOMMU da VM ${w.vm} bloqueou o dispositivo ${d.device}: ${translateReason(d.reason, 'pt-BR')}.`,
  },
  'blk.done': {
    concept: 'io',
    en: (d, w) => `VM ${w.vm}'s disk (${d.mode}) completed ${d.requests} request(s)${d.refused > 0 ? `, ${d.refused} refused` : ''} and raised its interrupt.`,
    'pt-BR': (d, w) => `O disco da VM ${w.vm} (${d.mode}) concluiu ${d.requests} requisição(ões)${d.refused > 0 ? `, ${d.refused} recusada(s)` : ''} e levantou sua interrupção.`,
  },
  'blk.refused': {
    concept: 'io',
    en: (d, w) => `VM ${w.vm}'s disk refused a request (sector ${d.sector}): ${translateReason(d.reason, 'en')}.`,
    'pt-BR': (d, w) => `O disco da VM ${w.vm} recusou uma requisição (setor ${d.sector}): ${translateReason(d.reason, 'pt-BR')}.`,
  },
  'balloon.target': {
    concept: 'memory',
    en: (d, w) => `The monitor asked VM ${w.vm}'s balloon driver to give back ${d.target} pages in all.`,
    'pt-BR': (d, w) => `O monitor pediu ao driver de balão da VM ${w.vm} que devolva ${d.target} páginas no total.`,
  },
  'balloon.released': {
    concept: 'memory',
    en: (d, w) => `VM ${w.vm}'s guest gave page ${d.page} back to the host (frame ${d.frame} freed).`,
    'pt-BR': (d, w) => `O convidado da VM ${w.vm} devolveu a página ${d.page} ao hospedeiro (quadro ${d.frame} liberado).`,
  },
  'balloon.refused': {
    concept: 'memory',
    en: (d, w) => `VM ${w.vm}'s balloon refused page ${d.page}: ${translateReason(d.reason, 'en')}.`,
    'pt-BR': (d, w) => `O balão da VM ${w.vm} recusou a página ${d.page}: ${translateReason(d.reason, 'pt-BR')}.`,
  },
  'net.sent': {
    concept: 'io',
    en: (d) => `A NIC sent a packet of ${d.length} words from MAC ${d.src} to MAC ${d.dst} through the virtual switch.`,
    'pt-BR': (d) => `Uma placa de rede enviou um pacote de ${d.length} palavras do MAC ${d.src} para o MAC ${d.dst} pelo switch virtual.`,
  },
  'net.delivered': {
    concept: 'io',
    en: (d) => `The virtual switch delivered a packet of ${d.length} words from MAC ${d.src} to MAC ${d.dst}.`,
    'pt-BR': (d) => `O switch virtual entregou um pacote de ${d.length} palavras do MAC ${d.src} para o MAC ${d.dst}.`,
  },
  'net.dropped': {
    concept: 'io',
    en: (d) => `A packet from MAC ${d.src} to MAC ${d.dst} was dropped: ${translateReason(d.reason, 'en')}.`,
    'pt-BR': (d) => `Um pacote do MAC ${d.src} para o MAC ${d.dst} foi descartado: ${translateReason(d.reason, 'pt-BR')}.`,
  },
  'device.ready': {
    concept: 'actors',
    en: (d, w) => `Device ${w.src} (${d.kind}) is ready.`,
    'pt-BR': (d, w) => `O dispositivo ${w.src} (${d.kind}) está pronto.`,
  },
  'device.stopped': {
    concept: 'actors',
    en: (d, w) => `Device ${w.src} (${d.kind}) stopped.`,
    'pt-BR': (d, w) => `O dispositivo ${w.src} (${d.kind}) parou.`,
  },
  'device.failed': {
    concept: 'actors',
    en: (d, w) => `Device ${w.src} (${d.kind}) failed: a fault was injected into it.`,
    'pt-BR': (d, w) => `O dispositivo ${w.src} (${d.kind}) falhou: uma falha foi injetada nele.`,
  },
  'device.reset': {
    concept: 'actors',
    en: (d, w) => `Device ${w.src} (${d.kind}) was reset.`,
    'pt-BR': (d, w) => `O dispositivo ${w.src} (${d.kind}) foi reiniciado.`,
  },
  'input.console': {
    concept: 'determinism',
    en: (d, w) => `Input from outside the simulation: "${d.text}" typed on VM ${w.vm}'s console. It is recorded so that a replay gets the same input.`,
    'pt-BR': (d, w) => `Entrada de fora da simulação: "${d.text}" digitado no console da VM ${w.vm}. Ela é registrada para que a reprodução receba a mesma entrada.`,
  },
  'input.fault': {
    concept: 'determinism',
    en: (d) => `A fault injected from outside: ${d.fault} on ${d.target} for ${ns(d.durationNs)}. It is recorded so that a replay injects it again.`,
    'pt-BR': (d) => `Uma falha injetada de fora: ${d.fault} em ${d.target} por ${ns(d.durationNs)}. Ela é registrada para que a reprodução a injete de novo.`,
  },
  'input.save': {
    concept: 'determinism',
    en: (d, w) => `The operator asked for VM ${w.vm} to be saved to ${d.file}.`,
    'pt-BR': (d, w) => `O operador pediu que a VM ${w.vm} fosse salva em ${d.file}.`,
  },
  'vm.restored': {
    concept: 'actors',
    en: (d, w) => `VM ${w.vm} starts from the image ${d.file}, saved at ${d.savedAtNs} ns of another run: its memory, vCPUs and devices are back as they were, and it goes on from there.`,
    'pt-BR': (d, w) => `A VM ${w.vm} parte da imagem ${d.file}, salva em ${d.savedAtNs} ns de outra execução: memória, vCPUs e dispositivos voltam como estavam, e ela continua dali.`,
  },
  'vm.saved': {
    concept: 'actors',
    en: (d, w) => `VM ${w.vm} was saved to ${d.file} (${d.bytes} bytes, ${d.pages} memory pages): paused, its device work drained, its state written. It is shut off now; a scenario restores it with image:.`,
    'pt-BR': (d, w) => `A VM ${w.vm} foi salva em ${d.file} (${d.bytes} bytes, ${d.pages} páginas de memória): pausada, o trabalho dos dispositivos concluído, o estado gravado. Agora está desligada; um cenário a restaura com image:.`,
  },
  'input.stop': {
    concept: 'determinism',
    en: () => 'The operator stopped the run here.',
    'pt-BR': () => 'O operador parou a execução aqui.',
  },
  'req.started': {
    concept: 'io',
    en: (d, w) => `VM ${w.vm} started serving request ${d.id}${d.worker >= 0 ? ` on worker ${d.worker}` : ''} (${d.serviceNs} ns of service asked for).`,
    'pt-BR': (d, w) => `A VM ${w.vm} começou a atender a requisição ${d.id}${d.worker >= 0 ? ` no trabalhador ${d.worker}` : ''} (${d.serviceNs} ns de serviço pedidos).`,
  },
  'req.done': {
    concept: 'io',
    en: (d, w) => `VM ${w.vm} completed request ${d.id}: its response time runs from its arrival to now.`,
    'pt-BR': (d, w) => `A VM ${w.vm} concluiu a requisição ${d.id}: seu tempo de resposta vai da chegada até agora.`,
  },
  'req.refused': {
    concept: 'io',
    en: (d, w) => `VM ${w.vm} refused request ${d.id} on arrival: ${translateReason(d.reason, 'en')}.`,
    'pt-BR': (d, w) => `A VM ${w.vm} recusou a requisição ${d.id} na chegada: ${translateReason(d.reason, 'pt-BR')}.`,
  },
  'req.invalid': {
    concept: 'io',
    en: (d, w) => `VM ${w.vm}'s guest completed tag ${d.tag}, which is not in service; nothing changed (${translateReason(d.reason, 'en')}).`,
    'pt-BR': (d, w) => `O convidado da VM ${w.vm} concluiu a etiqueta ${d.tag}, que não está em atendimento; nada mudou (${translateReason(d.reason, 'pt-BR')}).`,
  },
  'backend.queued': {
    concept: 'io',
    en: (d) => `A paravirtual device of VM ${d.vm} completed (line ${d.line}); the completion #${d.id} waits for the driver domain's backend, and dom0's event channel is raised.`,
    'pt-BR': (d) => `Um dispositivo paravirtual da VM ${d.vm} concluiu (linha ${d.line}); a conclusão #${d.id} espera o backend do domínio de drivers, e o canal de eventos do dom0 é acionado.`,
  },
  'backend.taken': {
    concept: 'io',
    en: (d) => `dom0's vCPU took completion #${d.id} of VM ${d.vm}: its backend work starts.`,
    'pt-BR': (d) => `O vCPU do dom0 pegou a conclusão #${d.id} da VM ${d.vm}: o trabalho do backend começa.`,
  },
  'backend.done': {
    concept: 'io',
    en: (d) => `dom0's backend finished completion #${d.id}: VM ${d.vm}'s interrupt line ${d.line} is raised only now.`,
    'pt-BR': (d) => `O backend do dom0 terminou a conclusão #${d.id}: a linha de interrupção ${d.line} da VM ${d.vm} só agora é acionada.`,
  },
  'backend.invalid': {
    concept: 'io',
    en: (d) => `dom0 signalled completion #${d.id}, which is not in service; nothing changed (${translateReason(d.reason, 'en')}).`,
    'pt-BR': (d) => `O dom0 sinalizou a conclusão #${d.id}, que não está em atendimento; nada mudou (${translateReason(d.reason, 'pt-BR')}).`,
  },
  'input.request': {
    concept: 'determinism',
    en: (d, w) => `A request arrived from outside for VM ${w.vm}: #${d.id}, ${d.kind} of size ${d.size}. Arrivals are inputs, drawn from the VM's seeded stream and logged, so the run replays.`,
    'pt-BR': (d, w) => `Chegou de fora uma requisição para a VM ${w.vm}: #${d.id}, ${d.kind} de tamanho ${d.size}. Chegadas são entradas, sorteadas do fluxo semeado da VM e registradas no log, então a execução se repete igual.`,
  },
  'input.balloon': {
    concept: 'memory',
    en: (d, w) => `The operator set VM ${w.vm}'s balloon target to ${d.pages} pages.`,
    'pt-BR': (d, w) => `O operador definiu a meta do balão da VM ${w.vm} em ${d.pages} páginas.`,
  },
  'input.migrate': {
    concept: 'memory',
    en: (d, w) => `The operator asked for VM ${w.vm} to migrate live (${d.mode}) to host ${d.to}.`,
    'pt-BR': (d, w) => `O operador pediu que a VM ${w.vm} migre ao vivo (${d.mode}) para o host ${d.to}.`,
  },
  'input.cpupool': {
    concept: 'scheduling',
    en: (d, w) => `The operator asked for VM ${w.vm} to move to cpupool ${d.pool} (xl cpupool-migrate).`,
    'pt-BR': (d, w) => `O operador pediu que a VM ${w.vm} passe para o cpupool ${d.pool} (xl cpupool-migrate).`,
  },
};

function whoOf(src: string, lang: Lang): Who {
  const parts = src.split('/');
  const vm = parts[0] === 'vm' ? parts[1] : src;
  const vcpu = parts[0] === 'vm' && parts[2] === 'vcpu' ? (lang === 'en' ? `vCPU ${parts[3]} of VM ${vm}` : `o vCPU ${parts[3]} da VM ${vm}`) : src;
  return { vm, vcpu, src };
}

export interface Explained {
  readonly text: string;
  readonly concept: ConceptId;
}

/** The event in plain words, in `lang`, and the concept it shows. */
export function explain(event: SimEvent, lang: Lang): Explained {
  const entry = TABLE[event.type] as Explanation<EventType> | undefined;
  if (entry === undefined) throw new RangeError(`no explanation for event type '${event.type}'`);
  let text = entry[lang](event.data as never, whoOf(event.src, lang));
  // Portuguese contracts a preposition with the article of the vCPU's name: "em o vCPU" is "no vCPU".
  if (lang === 'pt-BR') text = text.replace(/\b(em|de|a) o (vCPU)/g, (_all, preposition: string, noun: string) => `${{ em: 'no', de: 'do', a: 'ao' }[preposition]} ${noun}`);
  // A sentence starts with a capital letter even when it starts with a vCPU's name.
  return { text: text.charAt(0).toUpperCase() + text.slice(1), concept: entry.concept };
}

/** The event types that have a text in each language (a test compares them with EVENT_TYPES). */
export function explainedTypes(lang: Lang): string[] {
  return Object.entries(TABLE)
    .filter(([, entry]) => typeof (entry as Explanation<EventType>)[lang] === 'function')
    .map(([type]) => type);
}
