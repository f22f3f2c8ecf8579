// Picks the conversation layout (and the policy wording) a LlavaGuard GGUF expects, from what
// the file tells us: GGUF metadata first, then names. An explicit override always wins.
import type { PolicyVersion } from '../policy/taxonomy.js';
import { LLAVA15_VICUNA_SYSTEM, LLAVA16_CHATML, ONEVISION_QWEN, getChatFormat, type ChatFormat } from './formats.js';

export interface ModelInfo {
    /** general.architecture, e.g. "llama" (LLaVA-1.5 / Yi) or "qwen2" (OneVision). */
    readonly architecture?: string;
    /** general.name */
    readonly name?: string;
    /** tokenizer.chat_template */
    readonly chatTemplate?: string;
    readonly fileName?: string;
    /** llavaguard.version, when a converter wrote it. */
    readonly llavaguardVersion?: string;
    /** A chat format id; wins over everything else. */
    readonly override?: string;
}

export interface ChatFormatSelection {
    readonly format: ChatFormat;
    readonly reason: string;
    readonly policyVersion: PolicyVersion;
    readonly policyReason: string;
}

export const DEFAULT_CHAT_FORMAT = ONEVISION_QWEN;

/** What a loaded GGUF tells: its metadata, chat template and file (a VisionModel's `info` has this shape). */
export interface LoadedModelFacts {
    readonly metadata: Readonly<Record<string, string>>;
    readonly chatTemplate?: string | null;
    readonly modelPath: string;
}

/** The selection for a loaded model, from its metadata keys, chat template and file name. */
export function selectChatFormatFor(facts: LoadedModelFacts, override?: string): ChatFormatSelection {
    const meta = facts.metadata;
    return selectChatFormat({
        architecture: meta['general.architecture'],
        name: meta['general.name'],
        chatTemplate: facts.chatTemplate ?? undefined,
        fileName: facts.modelPath.split(/[\\/]/).pop(),
        llavaguardVersion: meta['llavaguard.version'],
        ...(override !== undefined ? { override } : {}),
    });
}

export function selectChatFormat(info: ModelInfo): ChatFormatSelection {
    const { format, reason } = pickFormat(info);
    const policy = pickPolicyVersion(info);
    return { format, reason, policyVersion: policy.version, policyReason: policy.reason };
}

/**
 * v1.0 models get the v1.0 (json-v16) wording, v1.1 and v1.2 the v1.2 (json-v24) wording: v1.1's
 * own template is unpublished and the reference sends the v1.2 text to every "v1.*" model.
 */
export function defaultPolicyVersionFor(info: Omit<ModelInfo, 'override'>): PolicyVersion {
    return pickPolicyVersion(info).version;
}

function pickFormat(info: ModelInfo): { format: ChatFormat; reason: string } {
    if (info.override !== undefined) {
        return { format: getChatFormat(info.override), reason: `override: "${info.override}"` };
    }
    const arch = info.architecture?.trim().toLowerCase();
    const template = classifyTemplate(info.chatTemplate);
    const names = nameHints(info);

    if (arch?.startsWith('qwen')) {
        return { format: ONEVISION_QWEN, reason: `general.architecture=${arch}: LLaVA-OneVision on Qwen2 (v1.2)` };
    }
    if (arch === 'llama') {
        if (template === 'chatml') {
            return {
                format: LLAVA16_CHATML,
                reason: 'general.architecture=llama with a ChatML chat template: LLaVA-1.6 34B on Yi',
            };
        }
        if (names.is34b)
            return {
                format: LLAVA16_CHATML,
                reason: `general.architecture=llama and ${names.source} names a 34B (Yi) model`,
            };
        return {
            format: LLAVA15_VICUNA_SYSTEM,
            reason: `general.architecture=llama: LLaVA-1.5 / Vicuna${vicunaNote(template)}`,
        };
    }
    const archNote = arch ? ` (general.architecture=${arch} not recognised)` : '';
    if (template === 'chatml') {
        if (names.is34b || /Answer the questions\./.test(info.chatTemplate ?? '')) {
            return { format: LLAVA16_CHATML, reason: `ChatML chat template of a 34B (Yi) model${archNote}` };
        }
        return { format: ONEVISION_QWEN, reason: `ChatML chat template${archNote}: LLaVA-OneVision / Qwen2` };
    }
    if (template === 'vicuna') {
        return {
            format: LLAVA15_VICUNA_SYSTEM,
            reason: `USER:/ASSISTANT: chat template${archNote}: LLaVA-1.5 / Vicuna${vicunaNote(template)}`,
        };
    }
    if (names.isOneVision) return { format: ONEVISION_QWEN, reason: `${names.source} names a OneVision (OV) model` };
    if (names.is34b) return { format: LLAVA16_CHATML, reason: `${names.source} names a 34B (Yi) model` };
    if (names.isVicunaSize)
        return { format: LLAVA15_VICUNA_SYSTEM, reason: `${names.source} names a 7B/13B LLaVA-1.5 model` };
    if (/^v?1\.2/i.test(info.llavaguardVersion?.trim() ?? '')) {
        return {
            format: ONEVISION_QWEN,
            reason: `llavaguard.version=${info.llavaguardVersion}: the published v1.2 models are OneVision`,
        };
    }
    return {
        format: DEFAULT_CHAT_FORMAT,
        reason: `nothing in the metadata or file name was recognised${archNote}; defaulting to ${DEFAULT_CHAT_FORMAT.id} (the current v1.2 model line)`,
    };
}

// The -hf repos' template has no system sentence, but the weights were trained with it.
const vicunaNote = (template: TemplateKind) =>
    template === 'vicuna'
        ? '; using the trained layout with the system sentence (override with llava15-vicuna for the -hf template)'
        : '';

type TemplateKind = 'chatml' | 'vicuna' | 'none';

function classifyTemplate(template: string | undefined): TemplateKind {
    if (!template) return 'none';
    if (template.includes('<|im_start|>')) return 'chatml';
    if (template.includes('USER:') || template.includes('ASSISTANT:')) return 'vicuna';
    return 'none';
}

function nameHints(info: ModelInfo) {
    // general.name is usually cleaner than the file name, but either may carry the hint.
    for (const [source, raw] of [
        ['general.name', info.name],
        ['the file name', info.fileName && baseName(info.fileName)],
    ] as const) {
        if (!raw) continue;
        const n = raw.toLowerCase();
        const hints = {
            source,
            isOneVision: /onevision|(^|[^a-z])ov([^a-z]|$)|qwen/.test(n),
            is34b: /(^|[^0-9.])34b/.test(n) || /(^|[^a-z])yi([^a-z]|$)/.test(n),
            isVicunaSize: /(^|[^0-9.])(7b|13b)([^a-z]|$)/.test(n) || /vicuna|llava-?v?1\.5/.test(n),
        };
        if (hints.isOneVision || hints.is34b || hints.isVicunaSize) return hints;
    }
    return { source: 'no name', isOneVision: false, is34b: false, isVicunaSize: false };
}

function pickPolicyVersion(info: Omit<ModelInfo, 'override'>): { version: PolicyVersion; reason: string } {
    const fromKey = parseVersion(info.llavaguardVersion);
    if (fromKey)
        return { version: fromKey.version, reason: `llavaguard.version=${info.llavaguardVersion}${fromKey.note}` };
    for (const [source, raw] of [
        ['general.name', info.name],
        ['the file name', info.fileName && baseName(info.fileName)],
    ] as const) {
        if (!raw) continue;
        const m = /llava-?guard[-_ ]*v?(\d+\.\d+)/i.exec(raw);
        const parsed = parseVersion(m?.[1]);
        if (parsed) return { version: parsed.version, reason: `${source} says LlavaGuard v${m![1]}${parsed.note}` };
        // The first release was published without a version in its name (LlavaGuard-7B/-13B/-34B); all of
        // it is LLaVA-based: a Qwen2 (OneVision) LlavaGuard can only be v1.2.
        if (/llava-?guard/i.test(raw) && info.architecture?.toLowerCase().startsWith('qwen')) {
            return {
                version: 'v1.2',
                reason: `${source} names LlavaGuard without a version, on a Qwen2 (OneVision) base: v1.2`,
            };
        }
        if (/llava-?guard/i.test(raw))
            return { version: 'v1.0', reason: `${source} names LlavaGuard without a version: the v1.0 release` };
    }
    return {
        version: 'v1.2',
        reason: 'no LlavaGuard version found; using the v1.2 wording (as the reference does for v1.x models)',
    };
}

function parseVersion(raw: string | undefined): { version: PolicyVersion; note: string } | undefined {
    const m = /^v?(\d+)\.(\d+)/i.exec(raw?.trim() ?? '');
    if (!m) return undefined;
    if (m[1] === '1' && m[2] === '0') return { version: 'v1.0', note: '' };
    if (m[1] === '1' && m[2] === '1')
        return { version: 'v1.2', note: " (v1.1's own template is unpublished; the reference sends the v1.2 wording)" };
    if (m[1] === '1' && m[2] === '2') return { version: 'v1.2', note: '' };
    return { version: 'v1.2', note: ` (unknown version; using the newest wording, v1.2)` };
}

const baseName = (p: string) => p.replace(/^.*[\\/]/, '').replace(/\.gguf$/i, '');
