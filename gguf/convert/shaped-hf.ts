/** @deprecated moved to gguf/synthetic/hf/shaped-hf.ts (the synthetic Hugging Face checkpoints); import it from there. */
export * from '../synthetic/hf/shaped-hf.js';
