// Names the public API exported while it re-exported the native seam (lib/bindings/AddonTypes.ts): kept so that
// users' code still compiles. The runtime's own types (types.ts) replace the first group; the rest describe the
// addon itself, which is internal. All will be removed.
import type * as Native from '../bindings/AddonTypes.js';
import type {
    ContextInfo,
    EncodedImage,
    ImageEmbeddings,
    ImagePixels,
    PrefillResult,
    StopReason,
    VisionModelInfo,
} from './types.js';

/** @deprecated use VisionModelInfo */
export type NativeModelInfo = VisionModelInfo;
/** @deprecated use ContextInfo */
export type NativeContextInfo = ContextInfo;
/** @deprecated use ImagePixels */
export type NativeImage = ImagePixels;
/** @deprecated use ImageEmbeddings */
export type NativeEmbeddings = ImageEmbeddings;
/** @deprecated use EncodedImage */
export type NativeEncodedImage = EncodedImage;
/** @deprecated use PrefillResult */
export type NativePrefillResult = PrefillResult;
/** @deprecated use StopReason */
export type NativeStopReason = StopReason;

/** @deprecated internal to the native addon */
export type NativeLoadModelOptions = Native.NativeLoadModelOptions;
/** @deprecated internal to the native addon; use VisionContextOptions */
export type NativeContextOptions = Native.NativeContextOptions;
/** @deprecated internal to the native addon */
export type NativeEncodeImagesRequest = Native.NativeEncodeImagesRequest;
/** @deprecated internal to the native addon; use Prompt */
export type NativePrompt = Native.NativePrompt;
/** @deprecated internal to the native addon; use SamplingOptions */
export type NativeSamplerOptions = Native.NativeSamplerOptions;
/** @deprecated internal to the native addon; use EvaluateOptions */
export type NativeEvaluateRequest = Native.NativeEvaluateRequest;
/** @deprecated internal to the native addon; use GenerateOptions */
export type NativeGenerateRequest = Native.NativeGenerateRequest;
/** @deprecated internal to the native addon; use GenerateResult */
export type NativeGenerateResult = Native.NativeGenerateResult;
/** @deprecated internal to the native addon */
export type NativeTokenCallback = Native.NativeTokenCallback;
/** @deprecated internal to the native addon */
export type NativeAbortHandle = Native.NativeAbortHandle;
/** @deprecated internal to the native addon; use VisionContext */
export type NativeContext = Native.NativeContext;
/** @deprecated internal to the native addon; use VisionModel */
export type NativeModel = Native.NativeModel;
/** @deprecated internal to the native addon */
export type NativeDevice = Native.NativeDevice;
/** @deprecated internal to the native addon */
export type NativeBackend = Native.NativeBackend;
/** @deprecated internal to the native addon */
export type NativeSystemInfo = Native.NativeSystemInfo;
/** @deprecated internal to the native addon */
export type AttentionProbeCase = Native.AttentionProbeCase;
/** @deprecated internal to the native addon */
export type NativeAddon = Native.NativeAddon;
