/** @deprecated moved to gguf/synthetic/shapes.ts (the synthetic test and benchmark models); import it from there. */
export * from './synthetic/shapes.js';
