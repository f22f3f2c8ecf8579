// The full-size random HF checkpoints of gguf/synthetic/hf/shaped-hf.ts, checked from their plans only (no data
// written): the parameter counts of the published checkpoints, the shard split and the configs that the
// converter reads.
import t from 'tap';

import { SHAPED_HF_MODELS, planShapedHf } from '../gguf/synthetic/hf/shaped-hf.js';

t.test('llavaguard-v1.2-0.5b-ov-hf: 893,675,552 parameters in one model.safetensors', async (t) => {
    const p = planShapedHf('llavaguard-v1.2-0.5b-ov-hf');
    t.equal(p.parameters, 893_675_552);
    t.equal(p.bytes, 2 * 893_675_552);
    t.same(
        p.shards.map((s) => s.file),
        ['model.safetensors'],
    );
    t.equal(p.index, undefined);
    const names = new Set(p.tensors.map((x) => x.name));
    t.equal(names.size, p.tensors.length);
    t.ok(names.has('image_newline'));
    t.notOk(names.has('language_model.lm_head.weight'), 'tied: no lm_head stored');
    t.ok(names.has('vision_tower.vision_model.encoder.layers.25.mlp.fc2.weight'));
    t.notOk(names.has('vision_tower.vision_model.encoder.layers.26.mlp.fc2.weight'), '26 SigLIP layers stored');
    const pos = p.tensors.find((x) => x.name === 'vision_tower.vision_model.embeddings.position_embedding.weight')!;
    t.same(pos.shape, [729, 1152]);
    const emb = p.tensors.find((x) => x.name === 'language_model.model.embed_tokens.weight')!;
    t.same(emb.shape, [152000, 896]);
    const c = p.config as {
        text_config: { vocab_size: number };
        vision_config: { num_hidden_layers: number };
        image_grid_pinpoints: number[][];
    };
    t.equal(c.text_config.vocab_size, 152000);
    t.equal(c.vision_config.num_hidden_layers, 26);
    t.equal(c.image_grid_pinpoints.length, 36);
});

t.test('llavaguard-v1.1-7b-hf: 7,063,427,072 parameters in three <= 5 GB shards with an index', async (t) => {
    const p = planShapedHf('llavaguard-v1.1-7b-hf');
    t.equal(p.parameters, 7_063_427_072);
    t.same(
        p.shards.map((s) => s.file),
        ['model-00001-of-00003.safetensors', 'model-00002-of-00003.safetensors', 'model-00003-of-00003.safetensors'],
    );
    for (const s of p.shards) t.ok(s.bytes <= SHAPED_HF_MODELS['llavaguard-v1.1-7b-hf'].maxShardBytes);
    const idx = p.index as { metadata: { total_size: number }; weight_map: Record<string, string> };
    t.equal(idx.metadata.total_size, 2 * 7_063_427_072);
    t.equal(Object.keys(idx.weight_map).length, p.tensors.length);
    t.equal(
        idx.weight_map['language_model.lm_head.weight'],
        'model-00003-of-00003.safetensors',
        'lm_head last, as in the state dict',
    );
    const emb = p.tensors.find((x) => x.name === 'language_model.model.embed_tokens.weight')!;
    t.same(emb.shape, [32064, 4096]);
});
