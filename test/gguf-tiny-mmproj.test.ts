// The tiny test models' mmprojs: a projector as wide as their own text model, and weights scaled so that
// activations neither vanish nor explode.
import t from 'tap';

import {
    GgufType,
    TINY_FAMILIES,
    decodeF32,
    makeTestModel,
    readGgufFile,
    readTensorData,
    tinyImageTokensPerTile,
    type TinyFamily,
} from '../gguf/index.js';
import { arr, typeOf, val } from './helpers/gguf-fields.js';
import { freshDirs } from './helpers/temp-dir.js';

const FAMILIES: TinyFamily[] = ['llava15', 'onevision'];
const fresh = freshDirs('gguf-tiny-test-');

t.test(
    'mmprojs: mlp projector whose output width is the own text n_embd, so crossing families mismatches',
    async (t) => {
        const widths: Record<string, { text: number; proj: number }> = {};
        for (const family of FAMILIES) {
            const spec = TINY_FAMILIES[family];
            const p = await makeTestModel({ family, outDir: fresh() });
            const v = await readGgufFile(p.mmproj);
            const byName = new Map(v.tensors.map((x) => [x.name, x]));
            t.equal(val(v, 'clip.projector_type'), 'mlp');
            t.equal(val(v, 'clip.has_vision_encoder'), true);
            for (const k of [
                'image_size',
                'patch_size',
                'embedding_length',
                'feed_forward_length',
                'block_count',
                'projection_dim',
                'attention.head_count',
            ]) {
                t.equal(typeOf(v, `clip.vision.${k}`), GgufType.UINT32, `${family}: clip.vision.${k} is UINT32`);
            }
            t.equal(arr(v, 'clip.vision.image_mean').elemType, GgufType.FLOAT32);
            t.equal(arr(v, 'clip.vision.image_std').elemType, GgufType.FLOAT32);
            const E = spec.vision.nEmbd;
            const P = spec.vision.patchSize;
            const nPatches = (spec.vision.imageSize / P) ** 2;
            t.equal(tinyImageTokensPerTile(family), nPatches);
            t.same(byName.get('v.patch_embd.weight')?.dims, [P, P, 3, E], 'patch_embd [P, P, 3, E]');
            t.same(
                byName.get('v.position_embd.weight')?.dims,
                [E, nPatches + (spec.vision.classEmbedding ? 1 : 0)],
                'position_embd [E, n_pos]',
            );
            t.same(byName.get('mm.0.weight')?.dims, [E, spec.text.nEmbd]);
            t.same(byName.get('mm.2.weight')?.dims, [spec.text.nEmbd, spec.text.nEmbd]);
            t.ok(byName.has('mm.0.bias') && byName.has('mm.2.bias'), 'projector biases');
            for (let i = 0; i < spec.vision.nLayer; i++) {
                for (const n of ['ln1', 'ln2', 'attn_q', 'attn_k', 'attn_v', 'attn_out', 'ffn_up', 'ffn_down']) {
                    t.ok(byName.has(`v.blk.${i}.${n}.weight`) && byName.has(`v.blk.${i}.${n}.bias`), `v.blk.${i}.${n}`);
                }
            }
            t.not(
                byName.get(`v.blk.0.ffn_down.weight`)?.dims[0],
                E,
                "ffn_down's rows differ from n_embd (no up/down swap)",
            );
            t.ok(spec.vision.nLayer >= 2, 'block_count - 1 >= 1 layers run');
            widths[family] = { text: spec.text.nEmbd, proj: byName.get('mm.2.weight')!.dims[1] };
            if (family === 'llava15') {
                t.ok(byName.has('v.class_embd'), 'CLIP: class embedding');
                t.ok(byName.has('v.pre_ln.weight') && byName.has('v.pre_ln.bias'), 'CLIP: pre-layernorm');
                t.equal(val(v, 'clip.use_gelu'), false, 'CLIP: quick-GELU (use_gelu false)');
                t.same(arr(v, 'clip.vision.image_mean').value, [0.48145466, 0.4578275, 0.40821073].map(Math.fround));
                t.same(arr(v, 'clip.vision.image_std').value, [0.26862954, 0.26130258, 0.27577711].map(Math.fround));
                t.notOk(v.metadata.has('clip.vision.image_grid_pinpoints'));
            } else {
                t.notOk(byName.has('v.class_embd'), 'SigLIP: no class embedding');
                t.equal(val(v, 'clip.use_gelu'), true, 'SigLIP: GELU');
                t.same(arr(v, 'clip.vision.image_mean').value, [0.5, 0.5, 0.5]);
                const pins = arr(v, 'clip.vision.image_grid_pinpoints');
                t.equal(pins.elemType, GgufType.INT32, 'pinpoints are INT32[] (what clip.cpp reads)');
                const s = spec.vision.imageSize;
                t.same(pins.value, [s, s, s, 2 * s, 2 * s, s, 2 * s, 2 * s], 'pinpoints are multiples of image_size');
            }
        }
        t.equal(widths.llava15.proj, widths.llava15.text);
        t.equal(widths.onevision.proj, widths.onevision.text);
        t.not(widths.onevision.proj, widths.llava15.text, 'onevision mmproj does not fit the llava15 text model');
    },
);

/** Decoded F32 weights of the f32 variant (for a numeric check of the chosen scales). */
async function weights(file: string) {
    const h = await readGgufFile(file);
    const out = new Map<string, { dims: number[]; w: Float32Array }>();
    for (const x of h.tensors) out.set(x.name, { dims: x.dims, w: decodeF32(await readTensorData(file, x)) });
    return out;
}
function matvec(m: { dims: number[]; w: Float32Array }, x: Float32Array, b?: Float32Array): Float32Array {
    const [cols, rows] = m.dims;
    const y = new Float32Array(rows);
    for (let r = 0; r < rows; r++) {
        let s = b ? b[r] : 0;
        for (let c = 0; c < cols; c++) s += m.w[r * cols + c] * x[c];
        y[r] = s;
    }
    return y;
}
const rms = (x: Float32Array) => Math.sqrt(x.reduce((a, v) => a + v * v, 0) / x.length);
const gelu = (v: number) => 0.5 * v * (1 + Math.tanh(0.7978845608 * (v + 0.044715 * v ** 3)));

t.test(
    'weight scales keep activations O(1): patch embedding and projector outputs neither vanish nor explode',
    async (t) => {
        for (const family of FAMILIES) {
            const spec = TINY_FAMILIES[family].vision;
            const w = await weights((await makeTestModel({ family, outDir: fresh(), weightType: 'f32' })).mmproj);
            const P = spec.patchSize;
            // one patch of a normalised image (values in about [-2, 2])
            const patch = Float32Array.from({ length: P * P * 3 }, (_, i) => Math.sin(i * 1.7) * 1.5);
            const pe = w.get('v.patch_embd.weight')!;
            const emb = matvec({ dims: [P * P * 3, spec.nEmbd], w: pe.w }, patch);
            t.ok(rms(emb) > 0.2 && rms(emb) < 5, `${family}: patch embedding rms ${rms(emb).toFixed(3)}`);
            // layer-normed hidden state through the projector
            const x = Float32Array.from({ length: spec.nEmbd }, (_, i) => Math.cos(i * 0.9) * 1.4);
            const h1 = matvec(w.get('mm.0.weight')!, x, w.get('mm.0.bias')!.w).map(gelu);
            const out = matvec(w.get('mm.2.weight')!, h1, w.get('mm.2.bias')!.w);
            t.ok(rms(out) > 0.05 && rms(out) < 5, `${family}: projector output rms ${rms(out).toFixed(3)}`);
            const x2 = Float32Array.from({ length: spec.nEmbd }, (_, i) => Math.sin(i * 2.3) * 1.4);
            const out2 = matvec(
                w.get('mm.2.weight')!,
                matvec(w.get('mm.0.weight')!, x2, w.get('mm.0.bias')!.w).map(gelu),
                w.get('mm.2.bias')!.w,
            );
            const diff = rms(out.map((v, i) => v - out2[i]));
            t.ok(diff > 0.05, `${family}: different inputs give different embeddings (rms diff ${diff.toFixed(3)})`);
        }
    },
);
