export * from './state.js';
export { reduce } from './reducers.js';
export { foldEvents, thaw, type FoldEngine, type FoldOptions } from './fold.js';
export { stateFromCheckpoint, CheckpointFormatError } from './checkpoint.js';
export { projectSimulation } from './project.js';
export { sourceOf, type Source } from './sources.js';
