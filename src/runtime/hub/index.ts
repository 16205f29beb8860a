// Public surface of the Hugging Face model resolution (local dir / HF cache / hub download). Phases 6-8.
export * from './hf-hub.js';
