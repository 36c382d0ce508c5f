/**
 * The simulation's reason texts (why a VM crashed or powered off, why a command was not allowed,
 * why a device refused a request) in the page's language. The log keeps its English text; this
 * table maps each English template to a message key and its Portuguese text, and the parameters
 * are taken back out of the English sentence. The templates are the skeletons of the literals in
 * src/ (`${...}` written `{}`): a test reads them from the source and fails when one has no key
 * here, and another translates every reason of the bundled runs.
 *
 * Why a table here and not a key in each event: the log format and the engine stay as they are
 * (no engine version bump, no field added to every reason-carrying event), and the sessions that
 * rework src/actors only ever touch English text; a new or changed sentence shows up as a failing
 * test in web/, where its translation belongs.
 */
import type { Lang } from '../i18n.js';

interface ReasonTemplate {
  readonly key: string;
  /** The English skeleton, as in the source: `{}` for each hole. */
  readonly en: string;
  /** The Portuguese text: `{0}`, `{1}`... for the parameters (translated when they are words this table knows). */
  readonly pt: string;
}

export const REASON_TEMPLATES: readonly ReasonTemplate[] = [
  { key: 'powerOffGuest', en: 'the guest powered off', pt: 'o convidado se desligou' },
  { key: 'powerOffAsked', en: 'the guest asked the monitor to power off', pt: 'o convidado pediu ao monitor para desligar' },
  { key: 'allHalted', en: 'every vCPU halted with interrupts disabled', pt: 'todos os vCPUs pararam com interrupções desabilitadas' },
  { key: 'destroyed', en: 'destroyed', pt: 'destruída' },
  { key: 'saved', en: 'saved', pt: 'salva' },
  { key: 'noCpupools', en: 'the scenario has no cpupools', pt: 'o cenário não tem cpupools' },
  { key: 'unknownCpupool', en: "unknown cpupool '{}' (known: {})", pt: "cpupool desconhecido '{0}' (conhecidos: {1})" },
  { key: 'saveRefused', en: 'VM {} cannot be saved: {}', pt: 'a VM {0} não pode ser salva: {1}' },
  { key: 'saveNotDrained', en: 'its device work did not drain within {} ns; the VM goes on', pt: 'o trabalho dos seus dispositivos não terminou em {0} ns; a VM continua' },
  { key: 'saveWorkload', en: 'it serves a workload (its arrivals come from the scenario, not from the VM)', pt: 'ela atende uma carga de trabalho (as chegadas vêm do cenário, não da VM)' },
  { key: 'saveBalloon', en: 'its balloon holds pages (ballooned-out pages are not carried by images yet)', pt: 'o seu balão retém páginas (páginas cedidas ao balão ainda não vão nas imagens)' },
  { key: 'savePassthrough', en: 'it has a passthrough device (a host device cannot be saved, as with VFIO)', pt: 'ela tem um dispositivo de passagem direta (um dispositivo do hospedeiro não pode ser salvo, como com VFIO)' },
  { key: 'saveUnmapped', en: 'part of its memory is not mapped', pt: 'parte da sua memória não está mapeada' },
  {
    key: 'imageSize',
    en: "the image holds a VM of {} vCPU(s) and {} bytes of memory; set this VM's vcpus: {} and memory: {} (it has {} and {})",
    pt: 'a imagem contém uma VM de {0} vCPU(s) e {1} bytes de memória; dê a esta VM vcpus: {2} e memory: {3} (ela tem {4} e {5})',
  },
  {
    key: 'imageDevices',
    en: "the image's devices are attached block: {}, nic: {}; this VM's are block: {}, nic: {}",
    pt: 'os dispositivos da imagem estão ligados block: {0}, nic: {1}; os desta VM, block: {2}, nic: {3}',
  },
  { key: 'imageWorkload', en: 'a VM restored from an image cannot have a workload', pt: 'uma VM restaurada de uma imagem não pode ter carga de trabalho' },
  { key: 'saveNotRunning', en: 'a VM that is {} cannot save', pt: 'uma VM que está {0} não pode ser salva' },
  { key: 'migrateOneHost', en: 'the scenario has one host: declare several under hosts:', pt: 'o cenário tem um só host: declare vários em hosts:' },
  { key: 'migrateUnknownHost', en: "unknown host '{}' (known: {})", pt: "host desconhecido '{0}' (conhecidos: {1})" },
  { key: 'migrateNotRunning', en: 'a VM that is {} cannot migrate', pt: 'uma VM que está {0} não pode migrar' },
  { key: 'migrateAlready', en: 'VM {} is already migrating', pt: 'a VM {0} já está migrando' },
  { key: 'migrateSameHost', en: 'VM {} is already on host {}', pt: 'a VM {0} já está no host {1}' },
  { key: 'migratePassthrough', en: 'it has a passthrough device (a host device cannot follow the VM, as with VFIO)', pt: 'ela tem um dispositivo de passagem direta (um dispositivo do hospedeiro não pode acompanhar a VM, como com VFIO)' },
  { key: 'migrateBalloon', en: 'its balloon holds pages (ballooned-out pages are not carried yet)', pt: 'o seu balão retém páginas (páginas cedidas ao balão ainda não são levadas)' },
  { key: 'migrateNoLink', en: 'no link between hosts {} and {} (declare one under links:)', pt: 'não há enlace entre os hosts {0} e {1} (declare um em links:)' },
  { key: 'packetNoLink', en: 'no link between hosts {} and {}', pt: 'não há enlace entre os hosts {0} e {1}' },
  { key: 'migrateNoMemory', en: 'host {} has {} bytes of memory free, the VM needs {}', pt: 'o host {0} tem {1} bytes de memória livres, a VM precisa de {2}' },
  { key: 'migrateVmStopped', en: 'the VM is {}', pt: 'a VM está {0}' },
  { key: 'poolMoveHosts', en: 'with several hosts a VM changes host only by migration', pt: 'com vários hosts uma VM só muda de host por migração' },
  { key: 'vmNotAllowed', en: 'a VM that is {} cannot {}', pt: 'uma VM que está {0} não pode {1}' },
  { key: 'vcpuNotAllowed', en: 'a vCPU that is {} cannot {}', pt: 'um vCPU que está {0} não pode {1}' },
  { key: 'eptViolation', en: "{} of guest-physical address 0x{} outside the VM's memory (EPT violation)", pt: '{0} do endereço físico do convidado 0x{1} fora da memória da VM (violação de EPT)' },
  { key: 'cannotEmulate', en: 'cannot emulate privileged opcode {}', pt: 'não é possível emular o opcode privilegiado {0}' },
  { key: 'faultInKernel', en: '{} in kernel mode at pc 0x{}', pt: '{0} em modo núcleo no pc 0x{1}' },
  { key: 'noHandler', en: '{} in {} mode with no handler installed', pt: '{0} em modo {1} sem tratador instalado' },
  { key: 'tripleFault', en: 'triple fault: {} in {} mode{}', pt: 'falta tripla: {0} em modo {1}{2}' },
  { key: 'interruptNoHandler', en: 'interrupt on vector {} with no handler installed', pt: 'interrupção no vetor {0} sem tratador instalado' },
  { key: 'ptbAlign', en: 'page table base 0x{} is not page-aligned', pt: 'a base da tabela de páginas 0x{0} não está alinhada à página' },
  { key: 'ptbOutside', en: "page table at guest-physical 0x{} is outside the VM's memory (EPT violation)", pt: 'a tabela de páginas no endereço físico do convidado 0x{0} está fora da memória da VM (violação de EPT)' },
  {
    key: 'ptMapsOutside',
    en: "the guest's page table maps 0x{} to guest-physical page 0x{}, outside the VM's memory (EPT violation)",
    pt: 'a tabela de páginas do convidado mapeia 0x{0} na página física do convidado 0x{1}, fora da memória da VM (violação de EPT)',
  },
  { key: 'ptAccess', en: 'cannot emulate this access to the page table at pc 0x{}', pt: 'não é possível emular este acesso à tabela de páginas no pc 0x{0}' },
  { key: 'tripleFaultPf', en: 'triple fault: #PF at 0x{} with no handler installed', pt: 'falta tripla: #PF em 0x{0} sem tratador instalado' },
  { key: 'pfNoHandler', en: '#PF (page fault) at 0x{} with no handler installed', pt: '#PF (falta de página) em 0x{0} sem tratador instalado' },
  { key: 'hostOom', en: "host out of memory: no free frame for guest page {}, and nothing of {}'s left to swap out", pt: 'hospedeiro sem memória: nenhum quadro livre para a página {0} do convidado, e nada de {1} resta para mandar ao swap' },
  { key: 'balloonNotMapped', en: "guest page {} is not mapped in the VM's memory", pt: 'a página {0} do convidado não está mapeada na memória da VM' },
  { key: 'balloonFull', en: 'the balloon already holds its target of {} pages', pt: 'o balão já tem sua meta de {0} páginas' },
  { key: 'descriptorRange', en: 'descriptor index {} is not in 0..{}', pt: 'o índice de descritor {0} não está em 0..{1}' },
  { key: 'unknownCommand', en: 'unknown command {}', pt: 'comando desconhecido {0}' },
  { key: 'sectorRange', en: 'sector {} is not on the disk (0..{})', pt: 'o setor {0} não está no disco (0..{1})' },
  { key: 'addressOutside', en: "guest-physical address 0x{} is outside the VM's memory", pt: 'o endereço físico do convidado 0x{0} está fora da memória da VM' },
  { key: 'lengthRange', en: 'length {} is not in 0..{}', pt: 'o comprimento {0} não está em 0..{1}' },
  { key: 'lengthRange1', en: 'length {} is not in 1..{}', pt: 'o comprimento {0} não está em 1..{1}' },
  { key: 'dmaOutside', en: "DMA {} of guest-physical address 0x{} is outside the VM's memory", pt: 'DMA de {0} do endereço físico do convidado 0x{1} está fora da memória da VM' },
  { key: 'nicUnconnected', en: 'the NIC is not connected to a switch', pt: 'a placa de rede não está ligada a um switch' },
  { key: 'macInvalid', en: 'destination MAC {} is not valid', pt: 'o MAC de destino {0} não é válido' },
  { key: 'transmitBuffer', en: 'transmit buffer: {}', pt: 'buffer de transmissão: {0}' },
  { key: 'receiveBuffer', en: 'receive buffer: {}', pt: 'buffer de recepção: {0}' },
  { key: 'receivingNic', en: 'the receiving NIC is {}', pt: 'a placa de rede receptora está {0}' },
  { key: 'queueFull', en: 'the receive queue is full ({} packets)', pt: 'a fila de recepção está cheia ({0} pacotes)' },
  { key: 'queueOutside', en: "the {} queue at guest-physical 0x{} is not inside the VM's memory", pt: 'a fila {0} no endereço físico do convidado 0x{1} não está dentro da memória da VM' },
  { key: 'virtqueueOutside', en: "the queue at guest-physical 0x{} is not inside the VM's memory", pt: 'a fila no endereço físico do convidado 0x{0} não está dentro da memória da VM' },
  { key: 'txDescriptor', en: 'transmit descriptor index {} is not a descriptor', pt: 'o índice de descritor de transmissão {0} não é um descritor' },
  { key: 'noRxBuffer', en: 'no receive buffer posted and {} packets already wait for one', pt: 'nenhum buffer de recepção oferecido e {0} pacotes já esperam por um' },
  { key: 'rxDescriptor', en: 'receive descriptor index {} is not a descriptor', pt: 'o índice de descritor de recepção {0} não é um descritor' },
  { key: 'rxTooSmall', en: 'the receive buffer holds {} words, the packet has {}', pt: 'o buffer de recepção comporta {0} palavras, o pacote tem {1}' },
  { key: 'unknownMac', en: 'unknown destination MAC {}', pt: 'MAC de destino desconhecido {0}' },
  { key: 'requestQueueFull', en: 'the request queue is full ({} requests)', pt: 'a fila de requisições está cheia ({0} requisições)' },
  { key: 'requestQueueState', en: 'the request queue is {}', pt: 'a fila de requisições está {0}' },
  { key: 'tagNotInService', en: 'tag {} is not a request in service', pt: 'a etiqueta {0} não é uma requisição em atendimento' },
  { key: 'completionNotInService', en: 'completion {} is not in service', pt: 'a conclusão {0} não está em atendimento' },
  { key: 'blockDeviceWas', en: 'the block device was {}', pt: 'o dispositivo de bloco estava {0}' },
  { key: 'blockQueueFull', en: 'the block request queue is full ({} requests)', pt: 'a fila de requisições do disco está cheia ({0} requisições)' },
  { key: 'blockDeviceIs', en: 'the block device is {}', pt: 'o dispositivo de bloco está {0}' },
  { key: 'noBlockDevice', en: 'the VM has no block device', pt: 'a VM não tem dispositivo de bloco' },
];

/** Words that appear as parameters: access kinds, modes, suffixes, queue names. */
const WORDS_PT: Readonly<Record<string, string>> = {
  read: 'leitura',
  write: 'escrita',
  fetch: 'busca',
  kernel: 'núcleo',
  user: 'usuário',
  ' with no handler installed': ' sem tratador instalado',
  transmit: 'de transmissão',
  receive: 'de recepção',
};

/** Lifecycle states (VMs feminine, vCPUs and devices masculine in Portuguese). */
const STATES_PT: Readonly<Record<'vm' | 'vcpu', Readonly<Record<string, string>>>> = {
  vm: { defined: 'definida', running: 'em execução', blocked: 'bloqueada', paused: 'pausada', shutdown: 'desligando', shutoff: 'desligada', crashed: 'com falha' },
  vcpu: { created: 'criado', runnable: 'pronto', running: 'executando', blocked: 'bloqueado', paused: 'pausado', halted: 'parado', crashed: 'com falha', ready: 'pronto', failed: 'com falha', stopped: 'parado' },
};

/** The machines' commands (src/machines), lower-cased as the reasons write them. */
const COMMANDS_PT: Readonly<Record<string, string>> = {
  start: 'iniciar',
  suspend: 'suspender',
  resume: 'retomar',
  block: 'bloquear',
  unblock: 'desbloquear',
  shutdown: 'desligar',
  poweroff: 'desligar',
  crash: 'falhar',
  destroy: 'destruir',
  dispatch: 'ser despachado',
  preempt: 'ser preemptado',
  wake: 'acordar',
  pause: 'pausar',
  halt: 'parar',
};

/** How each parameter of a template is translated (by position); a word, else a nested reason. */
const PARAM_KINDS: Readonly<Record<string, readonly ('vm-state' | 'vcpu-state' | 'command')[]>> = {
  vmNotAllowed: ['vm-state', 'command'],
  vcpuNotAllowed: ['vcpu-state', 'command'],
  receivingNic: ['vcpu-state'],
};

interface Compiled {
  readonly template: ReasonTemplate;
  readonly pattern: RegExp;
  readonly leadingChars: number;
  readonly literalChars: number;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * The longest literal start first, then the most literal text: the most specific template wins
 * ("triple fault: {} in {} mode{}" before "{} in {} mode with no handler installed", which would
 * also match a triple fault's sentence).
 */
const COMPILED: readonly Compiled[] = REASON_TEMPLATES.map((template) => ({
  template,
  pattern: new RegExp(`^${template.en.split('{}').map(escapeRegExp).join('(.*?)')}$`, 's'),
  leadingChars: template.en.split('{}')[0].length,
  literalChars: template.en.replace(/\{\}/g, '').length,
})).sort((a, b) => b.leadingChars - a.leadingChars || b.literalChars - a.literalChars);

/** The template an English reason was made from, and its parameters; null when none matches. */
export function matchReason(text: string): { readonly key: string; readonly params: readonly string[] } | null {
  for (const compiled of COMPILED) {
    const match = compiled.pattern.exec(text);
    if (match !== null) return { key: compiled.template.key, params: match.slice(1) };
  }
  return null;
}

/** The template whose English skeleton is exactly `skeleton` (the test's check against the source). */
export function templateFor(skeleton: string): ReasonTemplate | undefined {
  return REASON_TEMPLATES.find((template) => template.en === skeleton);
}

function translateParam(param: string, kind: 'vm-state' | 'vcpu-state' | 'command' | undefined): string {
  const lower = param.toLowerCase();
  if (kind === 'vm-state') return STATES_PT.vm[lower] ?? param;
  if (kind === 'vcpu-state') return STATES_PT.vcpu[lower] ?? param;
  if (kind === 'command') return COMMANDS_PT[lower] ?? param;
  const word = WORDS_PT[param];
  if (word !== undefined) return word;
  return matchReason(param) === null ? param : translateReason(param, 'pt-BR');
}

/** A reason in `lang`: English as logged, Portuguese from its template (the English text when no template matches). */
export function translateReason(text: string, lang: Lang): string {
  if (lang === 'en') return text;
  const match = matchReason(text);
  if (match === null) return text;
  const template = REASON_TEMPLATES.find((entry) => entry.key === match.key) as ReasonTemplate;
  return template.pt.replace(/\{(\d+)\}/g, (_all, index: string) => translateParam(match.params[Number(index)] ?? '', PARAM_KINDS[match.key]?.[Number(index)]));
}
