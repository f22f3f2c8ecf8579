/** @deprecated moved to gguf/synthetic/tiny-models.ts (the synthetic test and benchmark models); import it from there. */
export * from './synthetic/tiny-models.js';
