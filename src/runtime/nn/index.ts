// Public surface of the tfjs layer library used by the lowering (phase 6) and the executor (phase 7).
// Importing this module loads tfjs: only runtime code that is itself loaded lazily may import it.
export * from './init.js';
export * from './params.js';
export * from './layers.js';
export * from './rnn.js';
export * from './lstm-fused.js';
export * from './blocks.js';
export * from './attention.js';
export * from './transformer.js';
