export {
    CHAT_FORMATS,
    CHAT_FORMAT_IDS,
    DEFAULT_IMAGE_MARKER,
    LLAVA15_VICUNA,
    LLAVA15_VICUNA_SYSTEM,
    LLAVA16_CHATML,
    MTMD_MEDIA_MARKER,
    ONEVISION_QWEN,
    getChatFormat,
    type ChatFormat,
    type ChatFormatId,
    type PromptParts,
    type RenderOptions,
} from './formats.js';
export {
    DEFAULT_CHAT_FORMAT,
    defaultPolicyVersionFor,
    selectChatFormat,
    selectChatFormatFor,
    type ChatFormatSelection,
    type LoadedModelFacts,
    type ModelInfo,
} from './select.js';
