import { makeShapedModel } from '../../gguf/shapes.js';
let last = 0;
const r = await makeShapedModel({ shapes: 'llavaguard-v1.2-0.5b', outDir: '/tmp/llavaguard-bench-models/llavaguard-v1.2-0.5b-q8_0', weightType: 'q8_0', mmprojWeightType: 'f16', seed: 0,
  onProgress: (p) => { const now = performance.now(); if (now - last > 10000) { last = now; console.log(p.file, p.tensor, (p.bytesWritten / p.totalBytes * 100).toFixed(1) + '%', (now/1000).toFixed(0)+'s', Math.round(process.memoryUsage().rss/1e6)+'MB'); } } });
console.log(JSON.stringify(r));
