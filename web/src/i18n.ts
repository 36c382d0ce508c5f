/**
 * The page's words in English and Brazilian Portuguese (the glossary of docs/concepts.md:
 * hipervisor, máquina virtual, modo núcleo / modo usuário...). The language comes from `?lang=`,
 * then the switch (remembered), then the browser's language.
 */
export type Lang = 'en' | 'pt-BR';

const en = {
  title: 'vmmsim: a hypervisor at work',
  subtitle: 'hypervisor simulation: physical CPUs, virtual machines, exits, interrupts',
  scenario: 'Scenario',
  seed: 'Seed',
  policy: 'Scheduling policy',
  run: 'Run',
  stop: 'Stop',
  openLog: 'Open a log…',
  downloadLog: 'Download the log',
  dropHere: 'Drop a vmmsim event log (.jsonl) here',
  play: 'Play',
  pause: 'Pause',
  stepBack: 'Step one event back',
  stepForward: 'Step one event forward',
  toStart: 'To the start',
  toEnd: 'To the end',
  speed: 'Speed',
  speedUnit: 'of virtual time per second',
  goTo: 'Go to',
  goToHint: 'seq (123) or time (5ms, 250us)',
  badPoint: 'Type a seq (an integer) or a time with a unit (5ms, 250us).',
  position: 'event',
  of: 'of',
  time: 'time',
  timeline: 'Physical CPUs (pCPU): which vCPU ran when',
  timelineHelp: 'Wheel or +/− to zoom, drag to pan, click to travel to that time. Ticks: exits (top), interrupts (bottom).',
  zoomIn: 'Zoom in',
  zoomOut: 'Zoom out',
  zoomFit: 'Whole run',
  idle: 'idle',
  vms: 'Virtual machines',
  vmState: 'Lifecycle',
  vcpus: 'vCPUs',
  console: 'Console',
  counters: 'Counters',
  exits: 'exits',
  interrupts: 'interrupts',
  exceptions: 'exceptions',
  dispatches: 'dispatches',
  consoleLines: 'console lines',
  timerFired: 'timer expiries',
  on: 'on',
  lastExit: 'last exit',
  kernelMode: 'kernel mode',
  userMode: 'user mode',
  memory: 'memory',
  guest: 'guest',
  onHost: 'on host {host}',
  migrating: 'migrating {from} → {to}, round {round}',
  stopAndCopy: 'stop-and-copy {from} → {to}',
  migrated: 'migrated from {from}: {total}, downtime {downtime}, {pages} pages ({resent} re-sent)',
  migrationRefused: 'migration to {to} {state}: {reason}',
  events: 'Event stream',
  filterVm: 'VM',
  filterType: 'Type',
  filterFrom: 'from',
  filterTo: 'to',
  all: 'all',
  hostAndMonitor: 'host and monitor',
  follow: 'follow the cursor',
  shown: 'shown',
  charts: 'Scheduling and overhead',
  chartsAtEnd: 'Up to the last event read.',
  chartsAtCursor: 'Up to the cursor: event',
  chartCpu: 'CPU time and waiting (steal) per VM',
  chartExits: 'Exits per VM, by reason',
  chartPcpu: 'Physical CPU utilisation',
  chartLatency: 'Wake-up latency per VM (p50, p95, max)',
  chartRate: 'Exits and interrupts over time',
  running: 'running',
  waiting: 'waiting',
  runMetrics: 'Run metrics (from the simulation)',
  fairness: "Jain's fairness index",
  utilisation: 'utilisation',
  contextSwitches: 'context switches',
  migrations: 'migrations',
  share: 'share',
  steal: 'steal',
  stateJson: 'State at the cursor (the fold, as vmmsim inspect --at shows it)',
  status: 'Status',
  statusIdle: 'Choose a scenario and press Run, or open a log.',
  statusRunning: 'simulating in the browser…',
  statusDone: 'run complete',
  statusLoaded: 'log loaded',
  statusLoading: 'reading the log…',
  statusError: 'error',
  runQueue: 'run queue',
  ended: 'ended',
  language: 'Language',
  hypervisor: 'Hypervisor',
  vm: 'virtual machine',
  defaultSeed: "scenario's",
  defaultPolicy: "scenario's",
  whatHappened: 'What just happened',
  concept: 'Concept',
  keysHelp: 'Keys: space play/pause, ← → step one event, n next exit.',
  tours: 'Guided tours',
  tourPrev: 'Back',
  tourNext: 'Next',
  tourClose: 'End the tour',
  tourStep: 'step',
  conceptFrom: 'From docs/concepts.md',
  close: 'Close',
  nextExit: 'next exit',
  nextExitTitle: 'Jump to the next VM exit (n)',
  introTrap:
    'A VM running: the demo is paused at its first trapped instruction. The guest kernel of VM {vm} ran a privileged instruction and the CPU left the guest for the monitor. Press space (or ▶) to play, and watch the physical CPUs: each coloured bar is a vCPU running, each tick on top an exit to the monitor.',
  noEvent: 'Nothing yet: the cursor is before the first event.',
  noData: 'no data',
  sliderLabel: 'Event at the cursor',
  stillRunning: 'running',
  compareTitle: 'Compare: Type 1 and Type 2, full, para and hardware-assisted',
  compareHelp: 'Runs the scenario on the bare machine and under each architecture and technique (seven runs, in your browser): the numbers of vmmsim compare examples/SCENARIO.yaml --arch type1,type2 --virt full,para,hw --json.',
  compareRun: 'Compare',
  compareRunning: 'running 7 simulations…',
  compareDone: 'done',
  compareConfig: 'configuration',
  compareExitsPerK: 'exits/1k instr.',
  compareByReason: 'exits by reason',
  comparePerChar: 'per console char',
  compareInstrPerUs: 'instr./µs',
  compareCompleted: 'completed',
  compareVsBare: 'vs bare machine',
  compareChart: 'Completion time against the bare machine (1.00× = no overhead), per VM',
  editScenario: 'Edit the scenario (YAML)',
  editorHelp: "Edit, then Run (or Ctrl-Enter). Completion: Ctrl-Space. Errors show at their line, checked as vmmsim run checks them and against the scenario's JSON Schema.",
  editorLabel: 'Scenario YAML',
  runEdited: 'Run this scenario',
  line: 'line',
  eventsWord: 'events',
  seqLabel: 'event',
} as const;

export type MessageKey = keyof typeof en;

const ptBR: Record<MessageKey, string> = {
  title: 'vmmsim: um hipervisor em ação',
  subtitle: 'simulação de hipervisor: processadores físicos, máquinas virtuais, saídas, interrupções',
  scenario: 'Cenário',
  seed: 'Semente',
  policy: 'Política de escalonamento',
  run: 'Executar',
  stop: 'Parar',
  openLog: 'Abrir um log…',
  downloadLog: 'Baixar o log',
  dropHere: 'Solte aqui um registro de eventos do vmmsim (.jsonl)',
  play: 'Reproduzir',
  pause: 'Pausar',
  stepBack: 'Voltar um evento',
  stepForward: 'Avançar um evento',
  toStart: 'Ao início',
  toEnd: 'Ao fim',
  speed: 'Velocidade',
  speedUnit: 'de tempo virtual por segundo',
  goTo: 'Ir para',
  goToHint: 'seq (123) ou tempo (5ms, 250us)',
  badPoint: 'Digite um seq (inteiro) ou um tempo com unidade (5ms, 250us).',
  position: 'evento',
  of: 'de',
  time: 'tempo',
  timeline: 'Processadores físicos (pCPU): qual vCPU executou quando',
  timelineHelp: 'Roda do mouse ou +/− para zoom, arraste para deslocar, clique para viajar até aquele tempo. Marcas: saídas (em cima), interrupções (embaixo).',
  zoomIn: 'Aproximar',
  zoomOut: 'Afastar',
  zoomFit: 'Execução inteira',
  idle: 'ocioso',
  vms: 'Máquinas virtuais',
  vmState: 'Ciclo de vida',
  vcpus: 'vCPUs',
  console: 'Console',
  counters: 'Contadores',
  exits: 'saídas de VM',
  interrupts: 'interrupções',
  exceptions: 'exceções',
  dispatches: 'despachos',
  consoleLines: 'linhas no console',
  timerFired: 'disparos do temporizador',
  on: 'em',
  lastExit: 'última saída',
  kernelMode: 'modo núcleo',
  userMode: 'modo usuário',
  memory: 'memória',
  guest: 'convidado',
  onHost: 'no hospedeiro {host}',
  migrating: 'migrando {from} → {to}, rodada {round}',
  stopAndCopy: 'parar e copiar {from} → {to}',
  migrated: 'migrada de {from}: {total}, parada {downtime}, {pages} páginas ({resent} reenviadas)',
  migrationRefused: 'migração para {to} {state}: {reason}',
  events: 'Fluxo de eventos',
  filterVm: 'MV',
  filterType: 'Tipo',
  filterFrom: 'de',
  filterTo: 'até',
  all: 'todos',
  hostAndMonitor: 'hospedeiro e monitor',
  follow: 'seguir o cursor',
  shown: 'exibidos',
  charts: 'Escalonamento e sobrecarga',
  chartsAtEnd: 'Até o último evento lido.',
  chartsAtCursor: 'Até o cursor: evento',
  chartCpu: 'Tempo de CPU e espera (steal) por MV',
  chartExits: 'Saídas de VM por MV, por motivo',
  chartPcpu: 'Utilização dos processadores físicos',
  chartLatency: 'Latência de despertar por MV (p50, p95, máx.)',
  chartRate: 'Saídas e interrupções ao longo do tempo',
  running: 'executando',
  waiting: 'esperando',
  runMetrics: 'Métricas da execução (da simulação)',
  fairness: 'índice de justiça de Jain',
  utilisation: 'utilização',
  contextSwitches: 'trocas de contexto',
  migrations: 'migrações',
  share: 'fatia',
  steal: 'steal',
  stateJson: 'Estado no cursor (o fold, como vmmsim inspect --at mostra)',
  status: 'Estado',
  statusIdle: 'Escolha um cenário e clique em Executar, ou abra um log.',
  statusRunning: 'simulando no navegador…',
  statusDone: 'execução concluída',
  statusLoaded: 'log carregado',
  statusLoading: 'lendo o log…',
  statusError: 'erro',
  runQueue: 'fila de prontos',
  ended: 'terminou',
  language: 'Idioma',
  hypervisor: 'Hipervisor',
  vm: 'máquina virtual',
  defaultSeed: 'do cenário',
  defaultPolicy: 'do cenário',
  whatHappened: 'O que acabou de acontecer',
  concept: 'Conceito',
  keysHelp: 'Teclas: espaço reproduz/pausa, ← → um evento, n próxima saída.',
  tours: 'Visitas guiadas',
  tourPrev: 'Voltar',
  tourNext: 'Próximo',
  tourClose: 'Encerrar a visita',
  tourStep: 'passo',
  conceptFrom: 'De docs/concepts.md',
  close: 'Fechar',
  nextExit: 'próxima saída',
  nextExitTitle: 'Ir para a próxima saída de VM (n)',
  introTrap:
    'Uma VM executando: a demonstração está pausada na primeira instrução interceptada. O núcleo do convidado da VM {vm} executou uma instrução privilegiada e a CPU saiu do convidado para o monitor. Tecle espaço (ou ▶) para reproduzir e observe os processadores físicos: cada barra colorida é um vCPU executando, cada marca em cima uma saída para o monitor.',
  noEvent: 'Nada ainda: o cursor está antes do primeiro evento.',
  noData: 'sem dados',
  sliderLabel: 'Evento no cursor',
  stillRunning: 'executando',
  compareTitle: 'Comparar: Tipo 1 e Tipo 2, total, para e assistida por hardware',
  compareHelp: 'Executa o cenário na máquina nua e sob cada arquitetura e técnica (sete execuções, no seu navegador): os números de vmmsim compare examples/CENÁRIO.yaml --arch type1,type2 --virt full,para,hw --json.',
  compareRun: 'Comparar',
  compareRunning: 'executando 7 simulações…',
  compareDone: 'pronto',
  compareConfig: 'configuração',
  compareExitsPerK: 'saídas/1k instr.',
  compareByReason: 'saídas por motivo',
  comparePerChar: 'por caractere no console',
  compareInstrPerUs: 'instr./µs',
  compareCompleted: 'concluída em',
  compareVsBare: 'vs. máquina nua',
  compareChart: 'Tempo de conclusão contra a máquina nua (1,00× = sem sobrecarga), por VM',
  editScenario: 'Editar o cenário (YAML)',
  editorHelp: 'Edite e depois Executar (ou Ctrl-Enter). Completar: Ctrl-Espaço. Os erros aparecem na sua linha, verificados como o vmmsim run verifica (completar e as dicas vêm do JSON Schema do cenário, em inglês).',
  editorLabel: 'YAML do cenário',
  runEdited: 'Executar este cenário',
  line: 'linha',
  eventsWord: 'eventos',
  seqLabel: 'evento',
};

/** Lifecycle state names (libvirt's vocabulary for VMs) as the page shows them. */
const STATES: Record<Lang, Record<string, string>> = {
  en: {},
  'pt-BR': {
    defined: 'definida',
    running: 'em execução',
    blocked: 'bloqueada',
    paused: 'pausada',
    shutdown: 'desligando',
    shutoff: 'desligada',
    crashed: 'falhou',
    created: 'criado',
    runnable: 'pronto',
    halted: 'parado',
    ready: 'pronto',
    failed: 'com falha',
    stopped: 'parado',
  },
};

/** vCPU states are masculine in Portuguese (o processador); VM states feminine (a máquina). */
const VCPU_STATES_PT: Record<string, string> = {
  running: 'executando',
  blocked: 'bloqueado',
  paused: 'pausado',
  crashed: 'falhou',
};

const MESSAGES: Record<Lang, Record<MessageKey, string>> = { en, 'pt-BR': ptBR };

let current: Lang = 'en';
const listeners: (() => void)[] = [];

export function detectLanguage(search: string, stored: string | null, browser: readonly string[]): Lang {
  const asked = new URLSearchParams(search).get('lang');
  for (const candidate of [asked, stored, ...browser]) {
    if (candidate === null || candidate === undefined) continue;
    const lower = candidate.toLowerCase();
    if (lower.startsWith('pt')) return 'pt-BR';
    if (lower.startsWith('en')) return 'en';
  }
  return 'en';
}

export function language(): Lang {
  return current;
}

export function setLanguage(lang: Lang): void {
  current = lang;
  for (const listener of listeners) listener();
}

export function onLanguage(listener: () => void): void {
  listeners.push(listener);
}

export function t(key: MessageKey, params: Readonly<Record<string, string | number>> = {}): string {
  return MESSAGES[current][key].replace(/\{(\w+)\}/g, (all, name: string) => (name in params ? String(params[name]) : all));
}

export function stateName(state: string, of: 'vm' | 'vcpu' | 'device' = 'vm'): string {
  if (current === 'en') return state;
  if (of === 'vcpu' && VCPU_STATES_PT[state] !== undefined) return VCPU_STATES_PT[state];
  return STATES[current][state] ?? state;
}

export function modeName(mode: 'kernel' | 'user'): string {
  return mode === 'kernel' ? t('kernelMode') : t('userMode');
}

/** Every key has a message in every language (a test checks it). */
export function missingMessages(): string[] {
  const missing: string[] = [];
  for (const lang of Object.keys(MESSAGES) as Lang[]) {
    for (const key of Object.keys(en) as MessageKey[]) if (!MESSAGES[lang][key]) missing.push(`${lang}:${key}`);
  }
  return missing;
}
