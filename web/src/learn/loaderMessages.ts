/**
 * The loader's messages in the page's language: why a scenario does not load (the YAML parser's
 * errors, the schema's, units and numbers, inputs, workloads), why a trace or workload CSV is
 * refused, why a log file is refused. The loader, the CLI and the log keep their English text; the
 * page matches each English message against a table of templates, takes the variable parts back
 * out (names, numbers, keys, the values found) and renders the Portuguese with them.
 *
 * The loader builds messages from pieces (`expected ${what}, got ${describeValue(input)}`), so the
 * table holds the pieces too: a template's holes say how each part is carried over. `k` keeps it
 * as written (names, numbers, lists of keys, quoted values); `t` translates it with this same
 * table (what was expected, a nested message) and fails when it cannot; `v` is a value as
 * describeValue wrote it (quoted text and numbers kept, "an empty list" translated); `s` is the
 * optional "; did you mean 'x'?"; `p` the plural "s"; `w` one name kept as written; `c` zod's
 * comparison before a bound (`>=`, `exactly `). When any part cannot be translated the
 * whole message stays in English: never half of each.
 *
 * The templates are the skeletons of the literals in the source (`${...}` written `{}`):
 * test/web/loaderMessages.test.ts reads them from src/ (test/web/loaderSources.ts: the scenario
 * loader, the trace, workload-file and log readers, the assembler a guest's source goes through,
 * the page's worker) and fails when one has no template here, and feeds corpora of broken
 * scenarios, programs, traces and logs through the real readers. The yaml library's and zod's own
 * English messages (after "invalid YAML: ", and for the few workload checks that have no message
 * of ours) are in the table as their sources write them, and read from node_modules by the test.
 */
import type { Lang } from '../i18n.js';

/** How a hole's text is carried into the translation (see the module's comment). */
type HoleKind = 'k' | 't' | 'v' | 's' | 'p' | 'w' | 'c' | 'l' | 'q';

export interface LoaderTemplate {
  /** The English skeleton, as in the source: `{}` for each hole. */
  readonly en: string;
  /** Portuguese: `{0}`, `{1}`... for the holes, or a function of the (already translated) parts. */
  readonly pt: string | ((parts: readonly string[]) => string);
  /** One letter per hole; absent holes are kept as written (`k`). */
  readonly holes?: string;
}

const T = (en: string, pt: LoaderTemplate['pt'], holes?: string): LoaderTemplate => (holes === undefined ? { en, pt } : { en, pt, holes });

/** What was expected and what was found ("esperava-se X; encontrado: Y" avoids agreeing in gender with X). */
const GOT = 'encontrado:';

export const LOADER_TEMPLATES: readonly LoaderTemplate[] = [
  // src/core/scenario/load.ts: the file, the YAML.
  T('could not read the YAML: {}', 'não foi possível ler o YAML: {0}', 't'),
  T("the file is empty: expected a map of scenario settings with at least the keys 'name' and 'vms'", "o arquivo está vazio: esperava-se um mapa de configurações do cenário com pelo menos as chaves 'name' e 'vms'"),
  T('expected a list of 1 to {} VMs, got a list of {} items', `esperava-se uma lista de 1 a {0} VMs; ${GOT} uma lista de {1} itens`),
  T('the file is too large: {} characters, at most {} (1 MiB) are read', 'o arquivo é grande demais: {0} caracteres, são lidos no máximo {1} (1 MiB)'),
  T('too many entries: more than {} lines, keys and list items are read', 'entradas demais: são lidos no máximo {0} linhas, chaves e itens de lista'),
  T('nested too deep: more than {} levels of [ ] or { }', 'aninhamento profundo demais: mais de {0} níveis de [ ] ou { }'),
  T('nested too deep: more than {} levels of block list items on one line', 'aninhamento profundo demais: mais de {0} níveis de itens de lista em bloco numa só linha'),
  T('expected a plain key (a name), got {} used as a key', `esperava-se uma chave simples (um nome); ${GOT} {0} no papel de chave`, 't'),
  T('key {} is not allowed (it names a property of every object)', 'a chave {0} não é permitida (ela nomeia uma propriedade de todo objeto)'),
  T("a merge key '<<' takes a map or an alias of one (e.g. <<: *base), or a list of them", "uma chave de mesclagem '<<' recebe um mapa ou um alias de um mapa (por exemplo <<: *base), ou uma lista deles"),
  T('{}: each key may appear only once in a map', '{0}: cada chave pode aparecer só uma vez num mapa', 't'),
  T('duplicate key', 'chave duplicada'),
  T('duplicate key {}', 'chave duplicada {0}'),
  T('unsupported tag {}: a scenario holds only maps, lists, strings, numbers and booleans', 'tag {0} não suportada: um cenário só contém mapas, listas, textos, números e booleanos'),
  T('too many aliases: more than {} (*name) in one file', 'aliases demais: mais de {0} (*nome) num arquivo'),
  T('unknown alias {}: no anchor {} before it', 'alias desconhecido {0}: nenhuma âncora {1} antes dele'),
  T('expected a single YAML document, got more than one (remove the --- separator)', 'esperava-se um único documento YAML, mas há mais de um (remova o separador ---)'),
  T('invalid YAML: tabs are not allowed for indentation, use spaces', 'YAML inválido: tabulações não são permitidas na indentação, use espaços'),
  T('invalid YAML: {}', 'YAML inválido: {0}', 't'),
  T('({} more problem{} not shown)', (p) => `(mais ${p[0]} problema${p[1] === 's' ? 's' : ''} não mostrado${p[1] === 's' ? 's' : ''})`, 'kp'),

  // src/core/scenario/schema.ts: messages.
  T("; did you mean '{}'?", "; você quis dizer '{0}'?"),
  T('unknown key {} (expected one of: {}){}', 'chave desconhecida {0} (esperava-se uma de: {1}){2}', 'kks'),
  T('expected {}, got {} (none are available)', `esperava-se {0}; ${GOT} {1} (nenhum está disponível)`, 'tv'),
  T('expected {}, one of: {}, got {}{}', `esperava-se {0}, dentre: {1}; ${GOT} {2}{3}`, 'tkvs'),
  T('expected {}, got {}', `esperava-se {0}; ${GOT} {1}`, 'tv'),
  T('of at most {}', 'de no máximo {0}'),
  T('from {} to {}', 'de {0} a {1}'),
  T('expected a map of {} (key: value pairs), got {}', `esperava-se um mapa de {0} (pares chave: valor); ${GOT} {1}`, 'tv'),
  T('expected a duration {}, got {}', `esperava-se uma duração {0}; ${GOT} {1}`, 'tv'),
  T('expected a size {}, got {}', `esperava-se um tamanho {0}; ${GOT} {1}`, 'tv'),
  T('expected a multiple of {} (the page size), got {}', `esperava-se um múltiplo de {0} (o tamanho da página); ${GOT} {1}`, 'kv'),
  T('unknown bundled guest {} (no bundled guests are available)', 'convidado embutido desconhecido {0} (não há convidados embutidos disponíveis)'),
  T('unknown bundled guest {} (expected one of: {}){}', 'convidado embutido desconhecido {0} (esperava-se um de: {1}){2}', 'kks'),
  T(
    "invalid parameter name {}: expected upper-case letters, digits and '_', not starting with a digit, and not a register name (R0..R7, SP)",
    "nome de parâmetro inválido {0}: esperavam-se letras maiúsculas, dígitos e '_', sem começar por dígito, e que não seja nome de registrador (R0..R7, SP)",
    'v',
  ),
  T('expected a map of parameters (NAME: integer), got {}', `esperava-se um mapa de parâmetros (NOME: inteiro); ${GOT} {0}`, 'v'),
  T('missing required key {}', 'falta a chave obrigatória {0}'),
  T(
    "missing the guest code: expected exactly one of 'guest' (a bundled guest), 'program' (an assembly file), 'source' (inline assembly), 'trace' (a CSV trace) or 'image' (a saved VM)",
    "falta o código do convidado: esperava-se exatamente um de 'guest' (um convidado embutido), 'program' (um arquivo de assembly), 'source' (assembly no próprio arquivo), 'trace' (um trace CSV) ou 'image' (uma VM salva)",
  ),
  T("expected exactly one of 'guest', 'program', 'source', 'trace' or 'image', got both '{}' and '{}'", "esperava-se exatamente um de 'guest', 'program', 'source', 'trace' ou 'image'; encontrados os dois, '{0}' e '{1}'"),
  T("'sourceLine' is only allowed together with 'source'", "'sourceLine' só é permitido junto com 'source'"),
  T('duplicate VM name {} (already used by vms[{}])', 'nome de VM duplicado {0} (já usado por vms[{1}])'),
  T("the VM name {} is the driver domain's (host.driverDomain): give this VM another name", 'o nome de VM {0} é o do domínio de drivers (host.driverDomain): dê outro nome a esta VM'),
  T('posted interrupts need hardware assistance: give this VM virt: hw (it has virt: {})', 'interrupções postadas precisam de assistência do hardware: dê a esta VM virt: hw (ela tem virt: {0})'),
  T('nested paging needs hardware assistance: give this VM virt: hw (it has virt: {})', 'a paginação aninhada precisa de assistência do hardware: dê a esta VM virt: hw (ela tem virt: {0})'),
  T(
    'host-driven ballooning needs memory overcommit: set host.overcommit: true (without it every page is backed and there is no memory pressure)',
    'o ballooning conduzido pelo hospedeiro precisa de sobrecompromisso de memória: defina host.overcommit: true (sem ele toda página tem quadro reservado e não há pressão de memória)',
  ),
  T('unknown VM {} (expected one of: {}){}', 'VM desconhecida {0} (esperava-se uma de: {1}){2}', 'kks'),
  T('VM {} has {} vCPU(s): vcpu must be below {}', 'a VM {0} tem {1} vCPU(s): vcpu deve ser menor que {2}'),
  T('the budget ({}) must not exceed the period ({})', 'o orçamento ({0}) não pode passar do período ({1})'),
  T('expected a physical CPU index from 0 to {} (host.pcpus - 1), got {}', `esperava-se um índice de CPU física de 0 a {0} (host.pcpus - 1); ${GOT} {1}`, 'kv'),
  T('expected an integer from 0 to {} ({} × host.pcpus), got {}', `esperava-se um inteiro de 0 a {0} ({1} × host.pcpus); ${GOT} {2}`, 'kkv'),
  T(
    "the memory of {} adds up to {}, more than the host's {} (host.memory; or set host.overcommit: true to let them share it)",
    'a memória de {0} soma {1}, mais que os {2} do hospedeiro (host.memory; ou defina host.overcommit: true para que a compartilhem)',
  ),

  // What was expected (schema.ts, units.ts, inputs.ts): the `what` of "expected {what}, got {value}".
  T('an integer from {} to {}', 'um inteiro de {0} a {1}'),
  T('an integer from 2 to 1024 (an instruction and the page it touches need one entry each)', 'um inteiro de 2 a 1024 (uma instrução e a página que ela acessa precisam de uma entrada cada)'),
  T('a duration', 'uma duração'),
  T('a size', 'um tamanho'),
  T('a fraction above 0 and below 1 (such as 0.06) or a percentage (such as 6%)', 'uma fração acima de 0 e abaixo de 1 (como 0.06) ou uma porcentagem (como 6%)'),
  T('true or false', 'true ou false'),
  T('{} or {}', '{0} ou {1}', 'ww'),
  T('scheduling parameters', 'parâmetros de escalonamento'),
  T('an integer from 0 to {} × host.pcpus', 'um inteiro de 0 a {0} × host.pcpus'),
  T('a physical CPU index (an integer from 0 to host.pcpus - 1)', 'um índice de CPU física (um inteiro de 0 a host.pcpus - 1)'),
  T('an attach mode for the {}', 'um modo de conexão para {0}', 't'),
  T('block device', 'o dispositivo de bloco'),
  T('NIC', 'a placa de rede'),
  T('device attach modes', 'modos de conexão dos dispositivos'),
  T('the name of a bundled guest', 'o nome de um convidado embutido'),
  T('VM settings', 'configurações da VM'),
  T('a VM name', 'um nome de VM'),
  T("a VM name: a lowercase letter, then up to 31 lowercase letters, digits or '-'", "um nome de VM: uma letra minúscula, depois até 31 letras minúsculas, dígitos ou '-'"),
  T('the path of an assembly file', 'o caminho de um arquivo de assembly'),
  T('the path of a CSV trace', 'o caminho de um trace CSV'),
  T('the path of a VM image file', 'o caminho de um arquivo de imagem de VM'),
  T('assembly source text', 'o texto-fonte em assembly'),
  T('a line number (an integer from 0)', 'um número de linha (um inteiro a partir de 0)'),
  T('a 32-bit integer (from {} to {})', 'um inteiro de 32 bits (de {0} a {1})'),
  T('a virtualization technique', 'uma técnica de virtualização'),
  T('a paging mode', 'um modo de paginação'),
  T('cost overrides', 'ajustes do modelo de custos'),
  T('a scheduling policy', 'uma política de escalonamento'),
  T('scenario settings', 'configurações do cenário'),
  T('a non-empty string', 'um texto não vazio'),
  T('a string', 'um texto'),
  T('a hypervisor profile', 'um perfil de hipervisor'),
  T('host settings', 'configurações do hospedeiro'),
  T('a hypervisor type', 'um tipo de hipervisor'),
  T('a run queue granularity', 'uma granularidade de fila de execução'),
  T('a scheduling granularity', 'uma granularidade de escalonamento'),
  T('granularity {} is not available with cpupools yet (a pool sees no topology)', 'a granularidade {0} ainda não está disponível com cpupools (um pool não vê a topologia)'),
  T('granularity {} needs host.topology (which threads share a core, which cores a socket)', 'a granularidade {0} precisa de host.topology (quais threads compartilham um núcleo, quais núcleos um soquete)'),
  T('an empty hard affinity would leave the vCPU nowhere to run: name at least one physical CPU', 'uma afinidade rígida vazia deixaria a vCPU sem onde executar: indique ao menos uma CPU física'),
  T('sockets x coresPerSocket x threadsPerCore is {} x {} x {} = {}, but host.pcpus is {}: they must be equal', 'sockets x coresPerSocket x threadsPerCore é {0} x {1} x {2} = {3}, mas host.pcpus é {4}: devem ser iguais'),
  T('give runqueue or runqueueSize, not both (runqueue sets the size from host.topology)', 'indique runqueue ou runqueueSize, não ambos (runqueue define o tamanho a partir de host.topology)'),
  T('the host has no physical CPU {}: expected an index from 0 to {} (host.pcpus - 1)', 'o hospedeiro não tem a CPU física {0}: esperava-se um índice de 0 a {1} (host.pcpus - 1)'),
  T('a number from 0 to 0.9', 'um número de 0 a 0.9'),
  T('a number from 1 to 10', 'um número de 1 a 10'),
  T('NUMA placement', 'posicionamento NUMA'),
  T('{} nodes cannot split {} socket(s) evenly: nodes must divide sockets', '{0} nós não dividem {1} soquete(s) por igual: nodes deve dividir sockets'),
  T('numa needs NUMA nodes: set host.topology.nodes to 2 or more', 'numa precisa de nós NUMA: defina host.topology.nodes como 2 ou mais'),
  T('the host has {} NUMA nodes: expected a node from 0 to {}', 'o hospedeiro tem {0} nós NUMA: esperava-se um nó de 0 a {1}'),
  T('page sharing settings', 'configurações do compartilhamento de páginas'),
  T('ballooning settings', 'configurações do ballooning'),
  T('driver domain settings', 'configurações do domínio de drivers'),
  T('scheduler settings', 'configurações do escalonador'),
  T('frame slot settings', 'configurações da fatia do quadro'),
  T('cpupool settings', 'configurações do cpupool'),
  T('a list of {} to {} slots', 'uma lista de {0} a {1} fatias'),
  T('run settings', 'configurações da execução'),
  T('a positive integer', 'um inteiro positivo'),
  T('a list of {} to {} VMs', 'uma lista de {0} a {1} VMs'),
  // Several hosts (src/core/scenario/hosts.ts, and their keys in schema.ts).
  T('the name of a host', 'o nome de um host'),
  T('host entry settings', 'configurações do host'),
  T('a host name', 'um nome de host'),
  T("a host name: a letter, then up to 31 letters, digits, '-' or '_'", "um nome de host: uma letra, depois até 31 letras, dígitos, '-' ou '_'"),
  T('a list of 1 to {} hosts', 'uma lista de 1 a {0} hosts'),
  T('link settings', 'configurações do enlace'),
  T('two host names', 'dois nomes de host'),
  T('a list of links', 'uma lista de enlaces'),
  T(
    'expected a bandwidth from 1000 B/s to 1000000000000 B/s: bytes per second as an integer, or a number with a unit such as 1Gbit/s, 100Mbit/s, 125MB/s, 64MiB/s; got {}',
    `esperava-se uma largura de banda de 1000 B/s a 1000000000000 B/s: bytes por segundo como inteiro, ou um número com unidade como 1Gbit/s, 100Mbit/s, 125MB/s, 64MiB/s; ${GOT} {0}`,
  ),
  T('the scenario declares no hosts: add a hosts: section naming this host, or leave host out', 'o cenário não declara hosts: acrescente uma seção hosts: que nomeie este host, ou retire host'),
  T('links: join hosts declared under hosts:, and the scenario declares none', 'links: ligam hosts declarados em hosts:, e o cenário não declara nenhum'),
  T('cpupools are not available with several hosts yet: each host is one pool of its own CPUs', 'cpupools ainda não estão disponíveis com vários hosts: cada host é um pool de suas próprias CPUs'),
  T('with hosts:, {}', 'com hosts:, {0}', 't'),
  T('each host names its own pcpus under hosts:', 'cada host indica suas próprias pcpus em hosts:'),
  T('each host names its own memory under hosts:', 'cada host indica sua própria memória (memory) em hosts:'),
  T('each host gives its own topology under hosts: (hosts[].topology)', 'cada host indica sua própria topologia em hosts: (hosts[].topology)'),
  T(
    'NUMA nodes are not available with several hosts yet: give sockets, coresPerSocket and threadsPerCore alone',
    'nós NUMA ainda não estão disponíveis com vários hosts: indique apenas sockets, coresPerSocket e threadsPerCore',
  ),
  T(
    "sockets x coresPerSocket x threadsPerCore is {} x {} x {} = {}, but the host's pcpus is {}: they must be equal",
    'sockets x coresPerSocket x threadsPerCore é {0} x {1} x {2} = {3}, mas as pcpus do host são {4}: devem ser iguais',
  ),
  T(
    "granularity {} needs the host's topology (hosts[].topology: which threads share a core, which cores a socket)",
    'a granularidade {0} precisa da topologia do host (hosts[].topology: quais threads compartilham um núcleo, quais núcleos um soquete)',
  ),
  T(
    "with hosts:, each host's scheduler gives its granularity with its topology (hosts[].scheduler.granularity, hosts[].topology)",
    'com hosts:, o escalonador de cada host indica sua granularidade junto com sua topologia (hosts[].scheduler.granularity, hosts[].topology)',
  ),
  T('page sharing is not available with several hosts yet', 'o compartilhamento de páginas ainda não está disponível com vários hosts'),
  T('memory overcommit is not available with several hosts yet', 'a sobrealocação de memória ainda não está disponível com vários hosts'),
  T('host-driven ballooning is not available with several hosts yet', 'o balonismo comandado pelo host ainda não está disponível com vários hosts'),
  T('a driver domain is not available with several hosts yet', 'um domínio de drivers ainda não está disponível com vários hosts'),
  T('with hosts:, a VM names its host (host:), not a cpupool', 'com hosts:, uma VM indica seu host (host:), não um cpupool'),
  T('with hosts:, a VM changes host only by migration (migrate:), not by a cpupool move', 'com hosts:, uma VM só muda de host por migração (migrate:), não por mudança de cpupool'),
  T("duplicate host name '{}' (already used by hosts[{}])", "nome de host duplicado '{0}' (já usado por hosts[{1}])"),
  T("unknown host '{}' (expected one of: {})", "host desconhecido '{0}' (esperava-se um de: {1})"),
  T(
    'host.type is bare (no hypervisor on any host): leave {} out, or set host.type to type1 or type2',
    'host.type é bare (nenhum hipervisor em host algum): retire {0}, ou defina host.type como type1 ou type2',
  ),
  T("a link joins two different hosts, got '{}' twice", "um enlace liga dois hosts diferentes; '{0}' aparece duas vezes"),
  T("hosts '{}' and '{}' are already linked by links[{}]", "os hosts '{0}' e '{1}' já estão ligados por links[{2}]"),
  T('a migration needs several hosts: declare them under hosts:', 'uma migração precisa de vários hosts: declare-os em hosts:'),
  T("an input needs exactly one of 'console', 'fault', 'balloon', 'save', 'pool' or 'migrate'", "uma entrada precisa de exatamente um de 'console', 'fault', 'balloon', 'save', 'pool' ou 'migrate'"),
  T("'{}' belongs to faults, not to a migration", "'{0}' é de falhas, não de uma migração"),
  T('migration settings', 'configurações da migração'),
  T('expected the name of a host', 'esperava-se o nome de um host'),
  T('expected a migration mode: one of {}', 'esperava-se um modo de migração: um de {0}'),
  T('expected true or false', 'esperava-se true ou false'),
  // cpupools (src/core/scenario/schema.ts, checkCpupools).
  T('a cpupool name', 'um nome de cpupool'),
  T("a cpupool name: a letter, then up to 31 letters, digits, '-' or '_'", "um nome de cpupool: uma letra, depois até 31 letras, dígitos, '-' ou '_'"),
  T('a list of physical CPU indices', 'uma lista de índices de CPUs físicas'),
  T('an empty cpupool has no CPU to run its VMs: name at least one physical CPU', 'um cpupool vazio não tem CPU onde executar suas VMs: indique ao menos uma CPU física'),
  T('a list of 1 to {} cpupools', 'uma lista de 1 a {0} cpupools'),
  T('the name of a cpupool', 'o nome de um cpupool'),
  T('the scenario declares no cpupools: add a cpupools: section naming {}, or leave pool out', 'o cenário não declara cpupools: acrescente uma seção cpupools: que nomeie {0}, ou retire pool'),
  T('unknown cpupool {} (expected one of: {}){}', 'cpupool desconhecido {0} (esperava-se um de: {1}){2}', 'kks'),
  T('duplicate cpupool name {} (already used by cpupools[{}])', 'nome de cpupool duplicado {0} (já usado por cpupools[{1}])'),
  T('physical CPU {} is named twice in this pool', 'a CPU física {0} aparece duas vezes neste pool'),
  T(
    'physical CPU {} is already in cpupool {} (cpupools[{}]): every physical CPU belongs to exactly one pool',
    'a CPU física {0} já está no cpupool {1} (cpupools[{2}]): cada CPU física pertence a exatamente um pool',
  ),
  T(
    'physical CPUs in no pool: {}; every physical CPU of the host (host.pcpus: {}) belongs to exactly one pool',
    'CPUs físicas fora de qualquer pool: {0}; cada CPU física do hospedeiro (host.pcpus: {1}) pertence a exatamente um pool',
  ),
  T('input settings', 'configurações da entrada'),

  // src/core/scenario/units.ts: durations and sizes, and how a value found is described.
  T('a duration such as 500us, 20ms or 1s', 'uma duração como 500us, 20ms ou 1s'),
  T('a size such as 64KiB, 4MiB or 1GiB (units B, KiB, MiB, GiB; a plain integer is bytes)', 'um tamanho como 64KiB, 4MiB ou 1GiB (unidades B, KiB, MiB, GiB; um inteiro sem unidade é em bytes)'),
  T('expected a non-negative {}, got {}', `esperava-se {0} maior ou igual a zero; ${GOT} {1}`, 'tv'),
  T('expected a whole number of {}, got {}', `esperava-se um número inteiro de {0}; ${GOT} {1}`, 'tv'),
  T('expected a {} of at most 2^53 - 1 {}, got {}', `esperava-se {0} de no máximo 2^53 - 1 {1}; ${GOT} {2}`, 'ttv'),
  T('duration', 'uma duração'),
  T('size', 'um tamanho'),
  T('nanoseconds', 'nanossegundos'),
  T('bytes', 'bytes'),
  T('formatDuration: expected a non-negative safe integer, got {}', `formatDuration: esperava-se um inteiro seguro maior ou igual a zero; ${GOT} {0}`),
  T('formatBytes: expected a non-negative safe integer, got {}', `formatBytes: esperava-se um inteiro seguro maior ou igual a zero; ${GOT} {0}`),
  T('an empty string', 'um texto vazio'),
  T('nothing', 'nada'),
  T('an empty value', 'um valor vazio'),
  T('an empty list', 'uma lista vazia'),
  T('a list of {} item{}', (p) => `uma lista de ${p[0]} ${p[1] === 's' ? 'itens' : 'item'}`, 'kp'),
  T('a list', 'uma lista'),
  T('a map', 'um mapa'),
  T('a date', 'uma data'),
  T('a set', 'um conjunto'),
  T('binary data', 'dados binários'),
  T('a value of type {}', 'um valor do tipo {0}'),

  // src/core/scenario/inputs.ts.
  T("unknown VM '{}' (expected one of: {})", "VM desconhecida '{0}' (esperava-se uma de: {1})"),
  T("an input needs exactly one of 'console', 'fault' or 'balloon'", "uma entrada precisa de exatamente um de 'console', 'fault' ou 'balloon'"),
  T("'{}' belongs to faults, not to a balloon target", "'{0}' é de falhas, não de uma meta do balão"),
  T("an input needs exactly one of 'console', 'fault', 'balloon' or 'save'", "uma entrada precisa de exatamente um de 'console', 'fault', 'balloon' ou 'save'"),
  T("'{}' belongs to faults, not to a save", "'{0}' é de falhas, não de um salvamento"),
  T("'{}' belongs to faults, not to a cpupool move", "'{0}' é de falhas, não de uma mudança de cpupool"),
  T("an input needs exactly one of 'console', 'fault', 'balloon', 'save' or 'pool'", "uma entrada precisa de exatamente um de 'console', 'fault', 'balloon', 'save' ou 'pool'"),
  T('expected the name of a cpupool', 'esperava-se o nome de um cpupool'),
  T("an input needs exactly one of 'console' (text to type) or 'fault'", "uma entrada precisa de exatamente um de 'console' (texto a digitar) ou 'fault'"),
  T("'{}' belongs to faults, not to console input", "'{0}' é de falhas, não de entrada do console"),
  T("a vcpu-stall needs 'duration'", "um vcpu-stall precisa de 'duration'"),
  T("VM '{}' has {} vCPU(s); expected 0 to {}, got {}", `a VM '{0}' tem {1} vCPU(s); esperava-se de 0 a {2}; ${GOT} {3}`),
  T("'device' belongs to device faults, not to vcpu-stall", "'device' é de falhas de dispositivo, não de vcpu-stall"),
  T("a {} needs 'device' (one of: {})", "um {0} precisa de 'device' (um de: {1})"),
  T("'{}' belongs to vcpu-stall, not to {}", "'{0}' é de vcpu-stall, não de {1}"),
  T('expected a string of text to type', 'esperava-se um texto a digitar'),
  T('expected the path of the image file to write', 'esperava-se o caminho do arquivo de imagem a gravar'),
  T('expected at most {} characters', 'esperava-se no máximo {0} caracteres'),
  T('expected a fault: one of {}', 'esperava-se uma falha: uma de {0}'),
  T('expected a device: one of {}', 'esperava-se um dispositivo: um de {0}'),
  T('expected a list of inputs', 'esperava-se uma lista de entradas'),
  T('expected at most {} inputs', 'esperava-se no máximo {0} entradas'),

  // src/core/scenario/workload.ts.
  T("expected a size (a number, a duration such as 1ms, or bytes such as 4KiB), got '{}': {}", `esperava-se um tamanho (um número, uma duração como 1ms, ou bytes como 4KiB); ${GOT} '{0}': {1}`, 'kt'),
  T('expected a positive number', 'esperava-se um número positivo'),
  T('expected a size distribution: dist one of {}', 'esperava-se uma distribuição de tamanhos: dist uma de {0}'),
  T('expected an arrival process: process one of {}', 'esperava-se um processo de chegadas: process um de {0}'),
  T('expected a request kind: one of {}', 'esperava-se um tipo de requisição: um de {0}'),
  T('max must be at least min', 'max deve ser pelo menos min'),
  T('at least one state needs a rate above 0', 'pelo menos um estado precisa de uma taxa acima de 0'),

  // Traces and workload files (src/guests/workloads.ts, src/actors/workload/driver.ts) and the page's runs.
  T('expected 2 columns (burst_ns,sleep_ns), got {}', `esperavam-se 2 colunas (burst_ns,sleep_ns); ${GOT} {0}`),
  T("expected {} as an integer from 0 to {}, got '{}'", `esperava-se {0} como um inteiro de 0 a {1}; ${GOT} '{2}'`),
  T('a burst of 0 ns followed by a wait of 0 ns does nothing', 'uma rajada de 0 ns seguida de uma espera de 0 ns não faz nada'),
  T('a trace holds at most {} bursts', 'um trace tem no máximo {0} rajadas'),
  T('the trace has no bursts', 'o trace não tem rajadas'),
  T("expected a number or a value with a unit, got '{}' ({})", `esperava-se um número ou um valor com unidade; ${GOT} '{0}' ({1})`, 'kt'),
  T("expected a value of 0 or more, got '{}'", `esperava-se um valor de 0 ou mais; ${GOT} '{0}'`),
  T('at most {} values', 'no máximo {0} valores'),
  T('the file holds no values', 'o arquivo não tem valores'),
  T('arrival times must not decrease', 'os tempos de chegada não podem diminuir'),
  T('VM {}: no way to read program file {}', 'VM {0}: não há como ler o arquivo de programa {1}'),
  T('VM {}: no way to read trace file {}', 'VM {0}: não há como ler o arquivo de trace {1}'),
  T('VM {}: no way to read workload file {}', 'VM {0}: não há como ler o arquivo de carga {1}'),
  T("unknown scheduling policy '{}' (expected one of: {})", "política de escalonamento desconhecida '{0}' (esperava-se uma de: {1})"),
  T('{}: the page cannot read the guest program {} (use vmmsim compare)', '{0}: a página não consegue ler o programa do convidado {1} (use vmmsim compare)'),

  // The assembler (src/core/isa/assembler.ts): a VM's inline `source:` or `program:` file, refused when the page runs it.
  T('too many errors; stopped after {}', 'erros demais; parou depois de {0}'),
  T('unterminated escape sequence', 'sequência de escape sem fim'),
  T("unknown escape sequence '\\{}' (expected \\n, \\t, \\r, \\0, \\\\, \\' or \\\")", "sequência de escape desconhecida '\\{0}' (esperava-se \\n, \\t, \\r, \\0, \\\\, \\' ou \\\")"),
  T("number too long: {} characters (at most {}): '{}…'", "número longo demais: {0} caracteres (no máximo {1}): '{2}…'"),
  T("invalid number '{}' (expected decimal, 0x hexadecimal or 0b binary)", "número inválido '{0}' (esperava-se decimal, hexadecimal 0x ou binário 0b)"),
  T('unterminated character literal', 'literal de caractere sem fim'),
  T('empty character literal', 'literal de caractere vazio'),
  T('character literal must contain exactly one character', 'um literal de caractere deve conter exatamente um caractere'),
  T('unterminated string', 'texto entre aspas sem fim'),
  T("unexpected character '{}'", "caractere inesperado '{0}'"),
  T('end of line', 'o fim da linha'),
  T('unexpected {} after {}', '{0} inesperado após {1}', 'vt'),
  T('the register', 'o registrador'),
  T('the expression', 'a expressão'),
  T('the memory operand', 'o operando de memória'),
  T('the symbol name', 'o nome do símbolo'),
  T('the string', 'o texto'),
  T('expression nested too deeply', 'expressão aninhada fundo demais'),
  T('expected an expression, got end of line', `esperava-se uma expressão; ${GOT} o fim da linha`),
  T("unexpected register '{}' in an expression", "registrador '{0}' inesperado numa expressão"),
  T("expected ')', got {}", `esperava-se ')'; ${GOT} {0}`, 'v'),
  T('expected an expression, got {}', `esperava-se uma expressão; ${GOT} {0}`, 'v'),
  T('expected a register (r0..r7 or sp), got nothing', `esperava-se um registrador (r0..r7 ou sp); ${GOT} nada`),
  T("unknown register '{}' (expected r0..r7 or sp)", "registrador desconhecido '{0}' (esperava-se r0..r7 ou sp)"),
  T('expected a register (r0..r7 or sp), got {}', `esperava-se um registrador (r0..r7 ou sp); ${GOT} {0}`, 'v'),
  T('expected {}, got nothing', `esperava-se {0}; ${GOT} nada`, 't'),
  T("'{}' expects a memory operand ([rs], [rs + offset] or [address]) as operand {}, got {}", `'{0}' espera um operando de memória ([rs], [rs + offset] ou [address]) como operando {1}; ${GOT} {2}`, 'kkv'),
  T('empty memory operand (expected [rs + offset] or [address])', 'operando de memória vazio (esperava-se [rs + offset] ou [address])'),
  T("expected ']' to close the memory operand, got {}", `esperava-se ']' para fechar o operando de memória; ${GOT} {0}`, 'v'),
  T("unknown instruction '{}'{}", "instrução desconhecida '{0}'{1}", 'ks'),
  T('no operands', 'nenhum operando'),
  T('{} operand{} ({})', (p) => `${p[0]} operando${p[1]} (${p[2]})`, 'kpl'),
  T("'{}' expects {}, got {}", `'{0}' espera {1}; ${GOT} {2}`, 'ktk'),
  T("'{}' expects {}, got {} operand{}", (p) => `'${p[0]}' espera ${p[1]}; ${GOT} ${p[2]} operando${p[3]}`, 'ktkp'),
  T('1 operand ({})', '1 operando ({0})', 't'),
  T('an immediate', 'um imediato'),
  T('a port number', 'um número de porta'),
  T('a target address', 'um endereço de destino'),
  T('a CSR ({} or 0..{})', 'um CSR ({0} ou 0..{1})'),
  T('a name and a value', 'um nome e um valor'),
  T('a value', 'um valor'),
  T('an address', 'um endereço'),
  T('a word count', 'uma contagem de palavras'),
  T('an alignment', 'um alinhamento'),
  T('a string literal', 'um literal de texto'),
  T('register', 'registrador'),
  T('immediate', 'imediato'),
  T('target', 'destino'),
  T('memory', 'memória'),
  T('port', 'porta'),
  T('csr', 'CSR'),
  T('label', 'rótulo'),
  T('constant', 'constante'),
  T("'.equ' expects a symbol name, got {}", `'.equ' espera um nome de símbolo; ${GOT} {0}`, 'v'),
  T("'.word' expects at least 1 value, got 0", `'.word' espera pelo menos 1 valor; ${GOT} 0`),
  T('\'.string\' expects a string literal ("text"), got {}', `'.string' espera um literal de texto ("text"); ${GOT} {0}`, 'v'),
  T("unknown directive '{}'{}", "diretiva desconhecida '{0}'{1}", 'ks'),
  T('expected an instruction, a directive or a label, got {}', `esperava-se uma instrução, uma diretiva ou um rótulo; ${GOT} {0}`, 'v'),
  T("options.symbols: invalid symbol name '{}'", "options.symbols: nome de símbolo inválido '{0}'"),
  T("options.symbols: '{}' is a predefined platform symbol", "options.symbols: '{0}' é um símbolo predefinido da plataforma"),
  T("options.symbols: value of '{}' ({}) is not an integer that fits in 32 bits", "options.symbols: o valor de '{0}' ({1}) não é um inteiro que caiba em 32 bits"),
  T("'{}' is a register name and cannot be used as a {}", "'{0}' é nome de registrador e não pode ser usado como nome de {1}", 'kt'),
  T("'{}' is already defined by the scenario's params", "'{0}' já está definido pelos params do cenário"),
  T("'{}' is a predefined symbol and cannot be redefined", "'{0}' é um símbolo predefinido e não pode ser redefinido"),
  T("duplicate label '{}' (first defined at line {})", "rótulo duplicado '{0}' (definido primeiro na linha {1})"),
  T("'{}' is already defined as a {} at line {}", "'{0}' já está definido como {1} na linha {2}", 'ktk'),
  T('the source is too large: {} characters (at most {})', 'o código-fonte é grande demais: {0} caracteres (no máximo {1})'),
  T('line too long: {} characters (at most {})', 'linha longa demais: {0} caracteres (no máximo {1})'),
  T("undefined symbol '{}'{}", "símbolo indefinido '{0}'{1}", 'ks'),
  T("circular definition of '{}'", "definição circular de '{0}'"),
  T('value {} does not fit in 32 bits', 'o valor {0} não cabe em 32 bits'),
  T("{} uses label '{}' before it is defined (the layout must be known at this point)", "{0} usa o rótulo '{1}' antes de ele ser definido (a disposição na memória precisa ser conhecida neste ponto)"),
  T('the image would exceed {} words (location {})', 'a imagem passaria de {0} palavras (posição {1})'),
  T("'.space' needs a non-negative word count, got {}", `'.space' precisa de uma contagem de palavras maior ou igual a zero; ${GOT} {0}`),
  T("'.align' needs a positive alignment, got {}", `'.align' precisa de um alinhamento positivo; ${GOT} {0}`),
  T("'.org {}' would move the location counter backwards (it is at {})", "'.org {0}' faria o contador de posição voltar (ele está em {1})"),
  T("unknown CSR '{}' (expected {} or 0..{})", "CSR desconhecido '{0}' (esperava-se {1} ou 0..{2})"),
  T('CSR number {} is out of range (expected 0..{})', 'o número de CSR {0} está fora do intervalo (esperava-se 0..{1})'),
  T('target {} is not a multiple of {}', 'o destino {0} não é múltiplo de {1}'),
  T('offset -{} does not fit in 32 bits', 'o deslocamento -{0} não cabe em 32 bits'),
  T("duplicate '.entry' (first at line {})", "'.entry' duplicado (o primeiro na linha {0})"),
  T('entry point {} is not a valid address', 'o ponto de entrada {0} não é um endereço válido'),
  T('entry point {} is not a multiple of {}', 'o ponto de entrada {0} não é múltiplo de {1}'),
  T("entry point '_start' ({}) is not a multiple of {}", "o ponto de entrada '_start' ({0}) não é múltiplo de {1}"),

  // src/core/log/reader.ts: a log file that is not a vmmsim log, or was changed.
  T('not a JSON line', 'não é uma linha JSON'),
  T('line has no checksum "h" (not written by vmmsim, or cut)', 'a linha não tem a soma de verificação "h" (não foi escrita pelo vmmsim, ou foi cortada)'),
  T('checksum mismatch: this line was changed', 'soma de verificação não confere: esta linha foi alterada'),
  T('content after the closing line', 'conteúdo depois da linha de fechamento'),
  T('expected a JSON object', 'esperava-se um objeto JSON'),
  T('expected event seq {}, found {}', `esperava-se o evento seq {0}; ${GOT} {1}`),
  T('time goes back: {} after {}', 'o tempo volta atrás: {0} depois de {1}'),
  T("an event of VM {}, which the header's scenario does not define", 'um evento da VM {0}, que o cenário do cabeçalho não define'),
  T('checkpoint hash does not match the lines before it', 'o hash do checkpoint não confere com as linhas anteriores'),
  T('checkpoint at seq {}, expected {}', 'checkpoint no seq {0}, esperava-se {1}'),
  T('closing line must be { events, t: integers, hash: {} hex digits }', 'a linha de fechamento deve ser { events, t: inteiros, hash: {0} dígitos hexadecimais }'),
  T('closing hash does not match the lines before it', 'o hash de fechamento não confere com as linhas anteriores'),
  T('closing line counts {} events, the log has {}', 'a linha de fechamento conta {0} eventos, o log tem {1}'),
  T('unknown line: expected an event, a checkpoint or the closing line', 'linha desconhecida: esperava-se um evento, um checkpoint ou a linha de fechamento'),
  T('the log starts with a byte order mark (U+FEFF): vmmsim never writes one; the file was changed', 'o log começa com uma marca de ordem de bytes (U+FEFF): o vmmsim nunca escreve uma; o arquivo foi alterado'),
  T('content after the closing line (the log was appended to)', 'conteúdo depois da linha de fechamento (algo foi acrescentado ao log)'),
  T('empty log: expected a header line', 'log vazio: esperava-se uma linha de cabeçalho'),
  T('checkpoint must be { seq, t, line: integers, hash: {} hex digits, state: an object }', 'o checkpoint deve ser { seq, t, line: inteiros, hash: {0} dígitos hexadecimais, state: um objeto }'),
  T('checkpoint says it is on line {}, it is on line {}', 'o checkpoint diz estar na linha {0}, mas está na linha {1}'),
  T('not a vmmsim log: expected "format":"{}"', 'não é um log do vmmsim: esperava-se "format":"{0}"'),
  T('log format version {} is newer than this engine reads ({}); engine {}', 'a versão {0} do formato de log é mais nova do que este motor lê ({1}); motor {2}'),
  T('log format version {}: expected an integer from 1 to {}', 'versão {0} do formato de log: esperava-se um inteiro de 1 a {1}'),
  T('header has no seed', 'o cabeçalho não tem semente'),
  T('header mutation must be a string', 'a mutação do cabeçalho deve ser um texto'),
  T('header policy must be { module: a path, sha256: 64 hex digits, label: a string }', 'a política do cabeçalho deve ser { module: um caminho, sha256: 64 dígitos hexadecimais, label: um texto }'),
  T('event seq must be an integer', 'o seq do evento deve ser um inteiro'),
  T('event t must be a non-negative integer', 'o t do evento deve ser um inteiro maior ou igual a zero'),
  T('event src must be a string', 'o src do evento deve ser um texto'),
  T('unknown event type {}', 'tipo de evento desconhecido {0}'),
  T('event data must be an object', 'o data do evento deve ser um objeto'),
  // Warnings about a log cut short (the log reader's and the page's, web/src/store/runData.ts).
  T('{}:{}: the log ends inside line {} (truncated); read up to line {}', '{0}:{1}: o log termina no meio da linha {2} (cortado); lido até a linha {3}'),
  T('{}:{}: no closing line (the writer stopped early); read {} events', '{0}:{1}: sem linha de fechamento (quem escrevia parou antes); lidos {2} eventos'),
  T('{}:{}: the log ends inside a line (truncated); read {} events', '{0}:{1}: o log termina no meio de uma linha (cortado); lidos {2} eventos'),
  T('empty line', 'linha vazia'),

  // zod's own messages (node_modules/zod/v4/locales/en.js), for the workload checks that have none of ours.
  T('Invalid input: expected {}, received {}', 'Entrada inválida: esperava-se {0}, recebido {1}', 'tt'),
  T('Invalid input: expected {}', 'Entrada inválida: esperava-se {0}'),
  T('Invalid option: expected one of {}', 'Opção inválida: esperava-se uma de {0}'),
  T('Too big: expected {} to have {}{} {}', 'Grande demais: esperava-se {0} com {1}{2} {3}', 'tckt'),
  T('Too big: expected {} to be {}{}', 'Grande demais: esperava-se {0} {1}{2}', 'tck'),
  T('Too small: expected {} to have {}{} {}', 'Pequeno demais: esperava-se {0} com {1}{2} {3}', 'tckt'),
  T('Too small: expected {} to be {}{}', 'Pequeno demais: esperava-se {0} {1}{2}', 'tck'),
  T('Invalid string: must start with "{}"', 'Texto inválido: deve começar com "{0}"'),
  T('Invalid string: must end with "{}"', 'Texto inválido: deve terminar com "{0}"'),
  T('Invalid string: must include "{}"', 'Texto inválido: deve conter "{0}"'),
  T('Invalid string: must match pattern {}', 'Texto inválido: deve seguir o padrão {0}'),
  T('Invalid {}', 'Inválido: {0}', 't'),
  T('Invalid number: must be a multiple of {}', 'Número inválido: deve ser múltiplo de {0}'),
  T('Unrecognized key{}: {}', (p) => `${p[0] === 's' ? 'Chaves não reconhecidas' : 'Chave não reconhecida'}: ${p[1]}`, 'pk'),
  T('Invalid key in {}', 'Chave inválida em {0}', 't'),
  T('Invalid discriminator value. Expected {}', 'Valor discriminante inválido. Esperava-se {0}'),
  T('Invalid input: more than one option matched', 'Entrada inválida: mais de uma opção serve'),
  T('Invalid input', 'Entrada inválida'),
  T('Invalid value in {}', 'Valor inválido em {0}', 't'),
  // zod's type names and units, as those messages write them.
  T('number', 'número'),
  T('int', 'inteiro'),
  T('string', 'texto'),
  T('array', 'lista'),
  T('object', 'mapa'),
  T('record', 'mapa'),
  T('map', 'mapa'),
  T('set', 'conjunto'),
  T('boolean', 'booleano'),
  T('undefined', 'nada'),
  T('null', 'nulo'),
  T('value', 'valor'),
  T('tuple', 'tupla'),
  T('input', 'entrada'),
  T('characters', 'caracteres'),
  T('items', 'itens'),
  T('entries', 'entradas'),
  T('elements', 'elementos'),

  // The yaml library's messages (node_modules/yaml/dist), after "invalid YAML: ".
  T('Implicit map keys need to be followed by map values', 'chaves implícitas de mapa precisam ser seguidas de valores'),
  T('Implicit keys need to be on a single line', 'chaves implícitas precisam estar numa só linha'),
  T('Implicit keys of flow sequence pairs need to be on a single line', 'chaves implícitas de pares de sequência em fluxo precisam estar numa só linha'),
  T('Nested mappings are not allowed in compact mappings', 'mapas aninhados não são permitidos em mapas compactos'),
  T('A block sequence may not be used as an implicit map key', 'uma sequência em bloco não pode ser usada como chave implícita de mapa'),
  T('All mapping items must start at the same column', 'todos os itens do mapa devem começar na mesma coluna'),
  T('All sequence items must start at the same column', 'todos os itens da sequência devem começar na mesma coluna'),
  T('Sequence item without - indicator', 'item de sequência sem o indicador -'),
  T('Block collections are not allowed within flow collections', 'coleções em bloco não são permitidas dentro de coleções em fluxo'),
  T('Block scalar values in collections must be indented', 'escalares em bloco dentro de coleções devem ser indentados'),
  T('Block scalar header not found', 'cabeçalho do escalar em bloco não encontrado'),
  T('Block scalar header includes extra characters: {}', 'o cabeçalho do escalar em bloco tem caracteres a mais: {0}'),
  T('Block scalar lines must not be less indented than their {}', 'as linhas de um escalar em bloco não podem ter indentação menor que a de seu {0}', 't'),
  T('first line', 'primeira linha'),
  T('explicit indentation indicator', 'indicador explícito de indentação'),
  T('Block scalars with more-indented leading empty lines must use an explicit indentation indicator', 'escalares em bloco com linhas vazias iniciais mais indentadas devem usar um indicador explícito de indentação'),
  T('Missing closing "quote', 'falta fechar as aspas "'),
  T("Missing closing 'quote", "falta fechar as aspas '"),
  T('Missing , between {} items', 'falta uma vírgula (,) entre itens de {0}', 't'),
  T('Missing , or : between {} items', 'falta , ou : entre itens de {0}', 't'),
  T('Missing space after : in {}', 'falta espaço depois de : em {0}', 't'),
  T('Unexpected , in {}', 'vírgula (,) inesperada em {0}', 't'),
  T('Unexpected empty item in {}', 'item vazio inesperado em {0}', 't'),
  T('Unexpected {} in {}', '{0} inesperado em {1}', 'kt'),
  T('Unexpected {} token', 'token {0} inesperado'),
  T('Unexpected {} token in YAML stream', 'token {0} inesperado no fluxo YAML'),
  T('Unexpected {} token in YAML document', 'token {0} inesperado no documento YAML'),
  T('Unexpected {} at node end', '{0} inesperado no fim do nó'),
  T('Unexpected block-seq-ind on same line with key', 'block-seq-ind inesperado na mesma linha da chave'),
  T('Unexpected doc-end without preceding document', 'doc-end inesperado sem documento antes'),
  T('{} must end with a {}', '{0} deve terminar com {1}', 'tk'),
  T('{} in block collection must be sufficiently indented and end with a {}', '{0} dentro de coleção em bloco deve ter indentação suficiente e terminar com {1}', 'tk'),
  T('Flow end indicator should be more indented than parent', 'o indicador de fim de fluxo deve ter indentação maior que a do pai'),
  T('flow map', 'mapa em fluxo'),
  T('flow sequence', 'sequência em fluxo'),
  T('collection', 'coleção'),
  T('Flow map', 'O mapa em fluxo'),
  T('Flow sequence', 'A sequência em fluxo'),
  T('Plain value cannot start with {}', 'um valor simples não pode começar com {0}'),
  T('Invalid escape sequence {}', 'sequência de escape inválida {0}'),
  T('Tabs are not allowed as indentation', 'tabulações não são permitidas como indentação'),
  T('Comments must be separated from other tokens by white space characters', 'comentários devem ser separados dos outros tokens por espaços'),
  T('Tags and anchors must be separated from the next token by white space', 'tags e âncoras devem ser separadas do próximo token por espaço'),
  T('Anchors and tags must be after the {} indicator', 'âncoras e tags devem vir depois do indicador {0}'),
  T('A node can have at most one anchor', 'um nó pode ter no máximo uma âncora'),
  T('A node can have at most one tag', 'um nó pode ter no máximo uma tag'),
  T('An alias node must not specify any properties', 'um nó alias não pode ter propriedades'),
  T('Alias cannot be an empty string', 'o alias não pode ser vazio'),
  T('Anchor cannot be an empty string', 'a âncora não pode ser vazia'),
  T('Alias ending in : is ambiguous', 'um alias terminado em : é ambíguo'),
  T('Anchor ending in : is ambiguous', 'uma âncora terminada em : é ambígua'),
  T('Anchor must not contain whitespace or control characters: {}', 'a âncora não pode conter espaços nem caracteres de controle: {0}'),
  T('Unresolved tag: {}', 'tag não resolvida: {0}'),
  T('Unresolved alias (the anchor must be set before the alias): {}', 'alias não resolvido (a âncora deve ser definida antes do alias): {0}'),
  T('Map keys must be unique', 'as chaves de um mapa devem ser únicas'),
  T('Expected a flow scalar value, but found: {}', 'esperava-se um valor escalar em fluxo, mas veio: {0}'),
  T('Not a YAML token: {}', 'não é um token YAML: {0}'),
  T('Missing newline after block sequence props', 'falta quebra de linha depois das propriedades da sequência em bloco'),
  T('Block collection cannot start on same line with directives-end marker', 'uma coleção em bloco não pode começar na mesma linha do marcador de fim de diretivas'),
  T('Missing directives-end indicator line', 'falta a linha do indicador de fim de diretivas'),
  T('Missing directives-end/doc-start indicator line', 'falta a linha do indicador de fim de diretivas/início de documento'),
  T('Excessive alias count indicates a resource exhaustion attack', 'o excesso de aliases indica um ataque de esgotamento de recursos'),
  T('Value may be parsed as either {} or {}', 'o valor pode ser lido como {0} ou como {1}'),
  T('{} used for {} collection, but expects {}', '{0} usada para uma coleção {1}, mas espera {2}'),
  T('Unsupported token (type: {})', 'token não suportado (tipo: {0})'),
  T('With stringKeys, all keys must be strings', 'com stringKeys, todas as chaves devem ser textos'),
  T('With simple keys, collection cannot be used as a key value', 'com chaves simples, uma coleção não pode ser usada como chave'),
  T('Map comment with trailing content', 'comentário de mapa com conteúdo depois dele'),
  T('The : indicator must be at most 1024 chars after the start of an implicit block mapping key', 'o indicador : deve estar a no máximo 1024 caracteres do início de uma chave implícita de mapa em bloco'),
  T('The : indicator must be at most 1024 chars after the start of an implicit flow sequence key', 'o indicador : deve estar a no máximo 1024 caracteres do início de uma chave implícita de sequência em fluxo'),
  T('Unexpected token in block scalar header: {}', 'token inesperado no cabeçalho do escalar em bloco: {0}'),
  T('This should not happen: Alias anchor was not resolved?', 'isto não deveria acontecer: a âncora do alias não foi resolvida?'),
  T('Tried to pop an empty stack', 'tentou-se desempilhar uma pilha vazia'),
  // A lexer's error and the text it is about (`${token.message}: ${JSON.stringify(token.source)}`).
  T('{}: {}', '{0}: {1}', 'tq'),
];

interface Compiled {
  readonly template: LoaderTemplate;
  readonly pattern: RegExp;
  readonly holes: string;
  readonly leadingChars: number;
  readonly literalChars: number;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

const HOLE_PATTERN: Readonly<Record<HoleKind, string>> = {
  k: '(.*?)',
  t: '(.*?)',
  v: '(.*?)',
  // describeValue's quoted text may hold "'" escaped, so the suggestion is matched to the end.
  s: "((?:; did you mean '.*'\\?)?)",
  p: '(s?)',
  // One name (an enumerated value: `held or guest`), so that "such as 1ms or 1s" is not taken for one.
  w: '([A-Za-z0-9_-]+)',
  // zod's comparison before a bound (`to be >=1`, `to have exactly 2 items`).
  c: '(exactly |<=|>=|<|>)',
  l: '(.*?)',
  // A JSON string (the text a yaml lexer error is about), kept.
  q: '("(?:[^"\\\\]|\\\\.)*")',
};

function compile(template: LoaderTemplate): Compiled {
  const pieces = template.en.split('{}');
  const holes = (template.holes ?? '').padEnd(pieces.length - 1, 'k');
  let source = escapeRegExp(pieces[0]);
  for (let index = 1; index < pieces.length; index++) source += HOLE_PATTERN[holes[index - 1] as HoleKind] + escapeRegExp(pieces[index]);
  return {
    template,
    pattern: new RegExp(`^${source}$`, 's'),
    holes,
    leadingChars: pieces[0].length,
    literalChars: template.en.replace(/\{\}/g, '').length,
  };
}

/**
 * The most literal text first, then the longest literal start: the most specific template wins
 * ("expected {}, one of: {}, got {}{}" before "expected {}, got {}", which matches it too). A
 * template whose parts cannot be translated gives way to the next one that matches.
 */
const COMPILED: readonly Compiled[] = LOADER_TEMPLATES.map(compile).sort((a, b) => b.literalChars - a.literalChars || b.leadingChars - a.leadingChars);

/** Quoted text, numbers and booleans as describeValue writes them: carried over as they are. */
const VERBATIM_VALUE = /^('.*'|-?(\d[\d.e+-]*|Infinity)|NaN|true|false)$/s;

/** Nested messages are at most this deep (a message inside "could not read the YAML: ..."). */
const MAX_DEPTH = 6;

function translatePart(part: string, kind: HoleKind, depth: number): string | null {
  switch (kind) {
    case 'k':
    case 'p':
    case 'w':
    case 'q':
      return part;
    case 'c':
      return part === 'exactly ' ? 'exatamente ' : part;
    case 's':
      if (part === '') return '';
      return translatePortuguese(part, depth + 1);
    case 'v':
      if (VERBATIM_VALUE.test(part)) return part;
      return translatePortuguese(part, depth + 1);
    case 't':
      return translatePortuguese(part, depth + 1);
    case 'l': {
      const items = part.split(', ').map((item) => translatePortuguese(item, depth + 1));
      return items.includes(null) ? null : items.join(', ');
    }
  }
}

/** The Portuguese of one whole message, or null when no template renders all of it. */
function translatePortuguese(text: string, depth = 0): string | null {
  if (depth > MAX_DEPTH || text === '') return null;
  for (const compiled of COMPILED) {
    const match = compiled.pattern.exec(text);
    if (match === null) continue;
    const parts: string[] = [];
    let complete = true;
    for (let index = 1; index < match.length; index++) {
      const part = translatePart(match[index], compiled.holes[index - 1] as HoleKind, depth);
      if (part === null) {
        complete = false;
        break;
      }
      parts.push(part);
    }
    if (!complete) continue;
    const { pt } = compiled.template;
    return typeof pt === 'function' ? pt(parts) : pt.replace(/\{(\d+)\}/g, (_all, index: string) => parts[Number(index)] ?? '');
  }
  return null;
}

/** The template whose English skeleton is exactly `skeleton` (the test's check against the source). */
export function loaderTemplateFor(skeleton: string): LoaderTemplate | undefined {
  return LOADER_TEMPLATES.find((template) => template.en === skeleton);
}

/** One loader message (no file or path in front) in `lang`; the English as it is when no template renders it whole. */
export function translateLoaderMessage(message: string, lang: Lang): string {
  if (lang === 'en') return message;
  return translatePortuguese(message) ?? message;
}

/** A file with its line (and column), or a file name alone: `scenario.yaml:3:5: `, `run.jsonl:12: `, `guest.s: `. */
const LOCATION = /^(?:.+?:\d+(?::\d+)?|[^\s:]+): /;
/** A path in the scenario, as formatPath writes it: `vms[0].memory: `, `params['a b']: `. */
const PATH = /^(?:[A-Za-z_$][\w$-]*|\[[^\]]*\])(?:\.[A-Za-z_$][\w$-]*|\[[^\]]*\])*: /;

/** One line: a whole message, or a message behind a location and/or a path (kept as written). */
function translateLine(line: string): string | null {
  const whole = translatePortuguese(line);
  if (whole !== null) return whole;
  const location = LOCATION.exec(line)?.[0] ?? '';
  const afterLocation = line.slice(location.length);
  if (location !== '') {
    const rest = translatePortuguese(afterLocation);
    if (rest !== null) return location + rest;
  }
  const path = PATH.exec(afterLocation)?.[0];
  if (path === undefined) return null;
  const rest = translatePortuguese(afterLocation.slice(path.length));
  return rest === null ? null : location + path + rest;
}

/**
 * Text the page shows in its status line: one message a line, each perhaps behind a location and a
 * path (`scenario.yaml:3:5: vms[0].memory: expected ...`, a log's `run.jsonl:12: ...`). Only a
 * location or a path in front is kept as written, so no English sentence is left before a
 * translated one; a line that is not a whole message behind them stays English.
 */
export function translateLoaderText(text: string, lang: Lang): string {
  if (lang === 'en') return text;
  return text
    .split('\n')
    .map((line) => translateLine(line) ?? line)
    .join('\n');
}
