export { LOG_FORMAT, LOG_VERSION, type LogCheckpoint, type LogEnd, type LogHeader, type LogFork, type LogPolicyModule } from './format.js';
export { EventSerializer, LogWriter, type ChunkSink } from './writer.js';
export { LineChecker, LogError, checkHeader, readLog, type LogRecord, type ParsedLog } from './reader.js';
