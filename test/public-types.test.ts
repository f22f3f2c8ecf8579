// The public API has types of its own; the names it exported while it re-exported the native seam still compile
// (as deprecated aliases). The type part is checked by tsc over test/; the values at run time.
import t from 'tap';
import * as api from '../lib/index.js';
import type {
    AttentionProbeCase,
    CacheType,
    ContextInfo,
    EncodedImage,
    FlashAttention,
    ImageEmbeddings,
    ImagePixels,
    NativeAbortHandle,
    NativeAddon,
    NativeContext,
    NativeContextInfo,
    NativeContextOptions,
    NativeDevice,
    NativeEmbeddings,
    NativeEncodedImage,
    NativeEncodeImagesRequest,
    NativeEvaluateRequest,
    NativeGenerateRequest,
    NativeGenerateResult,
    NativeImage,
    NativeLoadModelOptions,
    NativeModel,
    NativeModelInfo,
    NativePrefillResult,
    NativePrompt,
    NativeSamplerOptions,
    NativeStopReason,
    NativeSystemInfo,
    NativeTokenCallback,
    PrefillResult,
    StopReason,
    VisionModelInfo,
} from '../lib/index.js';

type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const sameAsBefore: [
    Same<NativeImage, ImagePixels>,
    Same<NativeEmbeddings, ImageEmbeddings>,
    Same<NativeEncodedImage, EncodedImage>,
    Same<NativeContextInfo, ContextInfo>,
    Same<NativePrefillResult, PrefillResult>,
    Same<NativeStopReason, StopReason>,
    Same<NativeModelInfo, VisionModelInfo>,
] = [true, true, true, true, true, true, true];
type StillNamed = [
    AttentionProbeCase,
    CacheType,
    FlashAttention,
    NativeAbortHandle,
    NativeAddon,
    NativeContext,
    NativeContextOptions,
    NativeDevice,
    NativeEncodeImagesRequest,
    NativeEvaluateRequest,
    NativeGenerateRequest,
    NativeGenerateResult,
    NativeLoadModelOptions,
    NativeModel,
    NativePrompt,
    NativeSamplerOptions,
    NativeSystemInfo,
    NativeTokenCallback,
];

t.test('the public values are there, the scheduler among them', async (t) => {
    for (const name of ['LlavaGuard', 'VisionModel', 'VisionContext', 'Scheduler', 'AbortError', 'Policy', 'loadImage'])
        t.type((api as Record<string, unknown>)[name], 'function', name);
    t.same(sameAsBefore, [true, true, true, true, true, true, true], 'the aliases are the types they replace');
    const unused: StillNamed | undefined = undefined;
    t.equal(unused, undefined);
});
