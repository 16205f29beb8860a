// Public surface of the BERT WordPiece tokenizer. Phases 7-8.
export * from './wordpiece.js';
export * from './load.js';
