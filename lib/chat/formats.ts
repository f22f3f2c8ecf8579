// Conversation layouts the LlavaGuard models were trained with. The image always comes first,
// followed by "\n" and the policy text (the training data is "<image>\n" + policy.strip()).

export type ChatFormatId = 'llava15-vicuna-system' | 'llava15-vicuna' | 'llava16-chatml' | 'onevision-qwen';

export interface RenderOptions {
    /** Placeholder for the image; the native layer (mtmd) uses "<__media__>". */
    readonly imageMarker?: string;
}

export interface ChatFormat {
    readonly id: ChatFormatId;
    readonly description: string;
    /**
     * Whether the tokenizer must prepend BOS before the rendered text. LLaMA/SentencePiece models
     * (Vicuna) start with "<s>"; ChatML (Yi) and Qwen2 prompts carry no BOS. The rendered text never
     * contains BOS itself.
     */
    readonly addBos: boolean;
    /**
     * @deprecated Nothing reads it: generation ends at the model's end-of-generation tokens (and the verdict
     * grammar's end). Reading it warns once; it will be removed.
     */
    readonly stopStrings: readonly string[];
    /**
     * What the training text put between the rendered prompt (which ends with the assistant's role) and the
     * answer: Vicuna's "ASSISTANT: " has a space, ChatML's "assistant\n" nothing. The answer's tokens are those
     * of prompt + this + answer after the prompt's own.
     */
    readonly answerSeparator: string;
    render(policyText: string, options?: RenderOptions): string;
    /** The same prompt in the pieces callers cut it at: `render(...)` is their concatenation. */
    renderParts(policyText: string, options?: RenderOptions): PromptParts;
}

/** A rendered prompt split where the image goes in and where the user's turn ends. */
export interface PromptParts {
    /** From the start to the image marker, the marker included: the same for every policy. */
    readonly imagePrefix: string;
    /** After the image, to the end of the user's turn: "\n" and the policy. */
    readonly userText: string;
    /** What closes the user's turn and opens the assistant's; the answer follows it (after answerSeparator). */
    readonly assistantPrefix: string;
}

export const DEFAULT_IMAGE_MARKER = '<image>';
export const MTMD_MEDIA_MARKER = '<__media__>';

const VICUNA_SYSTEM =
    "A chat between a curious user and an artificial intelligence assistant. The assistant gives helpful, detailed, and polite answers to the user's questions.";

// Mirrors Python's str.strip(), which the training code applied to the policy.
const strip = (s: string) => s.replace(/^\s+|\s+$/g, '');

/** A format's fixed text: the user's content (image, "\n", policy) goes between `beforeImage` and `afterUser`. */
interface Layout {
    readonly beforeImage: string;
    readonly afterUser: string;
}

type Definition = Omit<ChatFormat, 'render' | 'renderParts' | 'stopStrings'> & { readonly stopStrings: string[] };

let stopStringsWarned = false;

function define(f: Definition, layout: Layout): ChatFormat {
    const { stopStrings, ...fields } = f;
    const frozenStops = Object.freeze([...stopStrings]);
    const renderParts = (policyText: string, options?: RenderOptions): PromptParts => ({
        imagePrefix: layout.beforeImage + (options?.imageMarker ?? DEFAULT_IMAGE_MARKER),
        userText: `\n${strip(policyText)}`,
        assistantPrefix: layout.afterUser,
    });
    const format = {
        ...fields,
        render: (policyText: string, options?: RenderOptions) => {
            const p = renderParts(policyText, options);
            return p.imagePrefix + p.userText + p.assistantPrefix;
        },
        renderParts,
    };
    Object.defineProperty(format, 'stopStrings', {
        enumerable: true,
        get() {
            if (!stopStringsWarned) {
                stopStringsWarned = true;
                process.emitWarning('ChatFormat.stopStrings is deprecated: nothing reads it', {
                    type: 'DeprecationWarning',
                    code: 'LLAVAGUARD_STOP_STRINGS',
                });
            }
            return frozenStops;
        },
    });
    return Object.freeze(format as ChatFormat);
}

/** LLaVA-1.5 "v1" conversation (conv_vicuna_v1), as LlavaGuard v1.0/v1.1 7B/13B were trained. */
export const LLAVA15_VICUNA_SYSTEM = define(
    {
        id: 'llava15-vicuna-system',
        description: 'LLaVA-1.5 / Vicuna with its system sentence (v1.0, v1.1 7B/13B as trained)',
        addBos: true,
        stopStrings: ['</s>'],
        answerSeparator: ' ',
    },
    { beforeImage: `${VICUNA_SYSTEM} USER: `, afterUser: ' ASSISTANT:' },
);

/** What the -hf repos' chat template renders: no system sentence. */
export const LLAVA15_VICUNA = define(
    {
        id: 'llava15-vicuna',
        description: 'LLaVA-1.5 / Vicuna without system sentence (the -hf chat template)',
        addBos: true,
        stopStrings: ['</s>'],
        answerSeparator: ' ',
    },
    { beforeImage: 'USER: ', afterUser: ' ASSISTANT:' },
);

/**
 * LLaVA-1.6-34B (Yi), trained with `--version chatml_direct`. LLaVA's conv_chatml_direct is
 *   system="<|im_start|>system\nAnswer the questions.", roles=("<|im_start|>user\n", "<|im_start|>assistant\n"),
 *   sep_style=MPT, sep="<|im_end|>"
 * and the MPT style joins turns as system + sep + role + message + sep + role, i.e. WITHOUT a
 * newline after <|im_end|>. That differs from generic ChatML (and from SGLang's / HF's templates,
 * which put "\n" there); we keep the layout the weights were trained on.
 */
export const LLAVA16_CHATML = define(
    {
        id: 'llava16-chatml',
        description: 'LLaVA-1.6 34B / Yi, LLaVA conv_chatml_direct (v1.0 34B)',
        addBos: false,
        stopStrings: ['<|im_end|>'],
        answerSeparator: '',
    },
    {
        beforeImage: '<|im_start|>system\nAnswer the questions.<|im_end|><|im_start|>user\n',
        afterUser: '<|im_end|><|im_start|>assistant\n',
    },
);

/** LLaVA-OneVision (Qwen2) ChatML with Qwen's default system prompt (v1.2). */
export const ONEVISION_QWEN = define(
    {
        id: 'onevision-qwen',
        description: 'LLaVA-OneVision / Qwen2 ChatML (v1.2 0.5B/7B OV)',
        addBos: false,
        stopStrings: ['<|im_end|>', '<|endoftext|>'],
        answerSeparator: '',
    },
    {
        beforeImage: '<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\n',
        afterUser: '<|im_end|>\n<|im_start|>assistant\n',
    },
);

export const CHAT_FORMATS: Readonly<Record<ChatFormatId, ChatFormat>> = Object.freeze({
    'llava15-vicuna-system': LLAVA15_VICUNA_SYSTEM,
    'llava15-vicuna': LLAVA15_VICUNA,
    'llava16-chatml': LLAVA16_CHATML,
    'onevision-qwen': ONEVISION_QWEN,
});

export const CHAT_FORMAT_IDS = Object.freeze(Object.keys(CHAT_FORMATS) as ChatFormatId[]);

export function getChatFormat(id: string): ChatFormat {
    const f = (CHAT_FORMATS as Record<string, ChatFormat | undefined>)[id];
    if (!f) throw new RangeError(`unknown chat format "${id}": expected one of ${CHAT_FORMAT_IDS.join('|')}`);
    return f;
}
