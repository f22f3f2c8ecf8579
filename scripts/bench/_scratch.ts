import { writePhotoLikePng } from './image.js';
const t0 = performance.now();
await writePhotoLikePng('/tmp/llavaguard-bench-models/bench-photo-384.png');
console.log(performance.now() - t0);
