// Public surface of the tfjs BERT: config parsing, model construction, no-grad helper, optimizer grouping.
// Phases 6 (lower) and 7 (execute).
export * from './config.js';
export * from './model.js';
export * from './layer.js';
