export { LOG_FORMAT, LOG_VERSION, type LogCheckpoint, type LogEnd, type LogHeader } from './format.js';
export { LogWriter, type ChunkSink } from './writer.js';
export { LogError, readLog, type ParsedLog } from './reader.js';
