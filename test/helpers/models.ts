// Shared fixtures for tests that run the native addon: tiny generated model pairs and synthetic images.
// One thread: the tiny models are overhead-bound, and two spinning threads on a busy 2-core machine are 5x slower.
process.env.LLAVAGUARD_THREADS ??= '1';
import { cachedTestModel, type TinyFamily, type TinyWeightType } from '../../gguf/synthetic/tiny-models.js';
import { VisionModel } from '../../lib/runtime/VisionModel.js';

export const FAMILIES: TinyFamily[] = ['llava15', 'onevision'];

const loaded = new Map<string, Promise<VisionModel>>();

/** One loaded tiny model per family/type for the whole test file (loading is the slow part). */
export function tinyModel(family: TinyFamily, weightType: TinyWeightType = 'f16'): Promise<VisionModel> {
    const key = `${family}-${weightType}`;
    if (!loaded.has(key)) {
        loaded.set(
            key,
            cachedTestModel(family, { weightType }).then((p) =>
                VisionModel.load({ model: p.model, mmproj: p.mmproj, mmprojThreads: 1 }),
            ),
        );
    }
    return loaded.get(key)!;
}

export async function closeAllModels(): Promise<void> {
    for (const m of loaded.values()) await (await m).close();
    loaded.clear();
}

/** A packed-RGB image with a deterministic pattern (different seeds give different pictures). */
export function patternImage(width: number, height: number, seed = 0) {
    const data = new Uint8Array(width * height * 3);
    for (let y = 0; y < height; y++) {
        for (let x = 0; x < width; x++) {
            const i = (y * width + x) * 3;
            data[i] = (x * 7 + seed * 53) & 255;
            data[i + 1] = (y * 13 + seed * 31) & 255;
            data[i + 2] = ((x ^ y) * 5 + seed * 97) & 255;
        }
    }
    return { data, width, height };
}

/** A chat-less prompt with one image, ending in text (so there is a token to predict from). */
export function imagePrompt(model: VisionModel, text = 'Describe the image as JSON.') {
    return `USER: ${model.info.mediaMarker}\n${text} ASSISTANT:`;
}

/** A small JSON-object grammar with bounded strings: a random-weight model must still finish it. */
export const JSON_OBJECT_GRAMMAR = String.raw`
root   ::= "{" ws pair ( "," ws pair ){0,2} ws "}"
pair   ::= string ":" ws value
value  ::= string | number | "true" | "false" | "null"
string ::= "\"" [a-zA-Z0-9 ]{0,12} "\""
number ::= "-"? ( [0-9] | [1-9] [0-9]{1,5} )
ws     ::= " "?
`;
