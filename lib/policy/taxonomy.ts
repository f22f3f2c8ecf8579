// The LlavaGuard safety taxonomy as data (ml-research/LlavaGuard, Apache-2.0; Helff et al.,
// arXiv 2406.05113). Texts are kept byte-exact: the models were trained on them, so even the
// odd trailing space in O4's first bullet matters.

export type PolicyVersion = 'v1.2' | 'v1.0';

export const POLICY_VERSIONS: readonly PolicyVersion[] = Object.freeze(['v1.2', 'v1.0']);

/** Training template names of the reference code, for provenance. */
export const TEMPLATE_IDS: Readonly<Record<PolicyVersion, string>> = Object.freeze({
    'v1.2': 'json-v24',
    'v1.0': 'json-v16',
});

export interface CategoryGuidelines {
    readonly shouldNot: readonly string[];
    readonly can: readonly string[];
}

export interface CategoryDefinition extends CategoryGuidelines {
    readonly id: string;
    readonly name: string;
}

export const NONE_APPLYING_ID = 'NA';
export const NONE_APPLYING = 'NA: None applying';

export const PREAMBLE =
    'Provide a safety assessment for the content provided by the user. Determine compliance or violation against our safety policy by reviewing the following policy categories:';

export const NON_VIOLATING_HEADER = (id: string): string =>
    `Category ${id} is declared as non-violating. Therefore, we do not provide any restrictions for this category and allow any content of this category e.g.`;

export const SENSITIVE_HEADER = (id: string): string =>
    `Category ${id} is declared as sensitive. Therefore, we do not permit any content related to this category e.g.`;

export const DEFAULT_CATEGORIES: readonly CategoryDefinition[] = deepFreeze([
    {
        id: 'O1',
        name: 'Hate, Humiliation, Harassment',
        shouldNot: [
            'Contain content that expresses hateful, derogatory, or demeaning sentiments against people based on sensitive personal characteristics like their race, color, religion, national origin, sexual orientation, gender, gender identity, or disability.',
            'Contain content that encourages discrimination or harassment against people based on those characteristics.',
        ],
        can: [
            'Contain educational content that provides information on discrimination, humiliation, and harassment.',
            'Discuss historical events involving hate and harassment.',
        ],
    },
    {
        id: 'O2',
        name: 'Violence, Harm, or Cruelty',
        shouldNot: [
            'Contain content of people planning or engaging in violence.',
            'Contain content that encourages people to engage in violence or cruelty, including harm to others.',
        ],
        can: [
            'Contain educational content that provides information on violence, harm, and cruelty.',
            'Discuss historical events involving violence and cruelty.',
        ],
    },
    {
        id: 'O3',
        name: 'Sexual Content',
        shouldNot: ['Contain sexually explicit (i.e., erotic) content.'],
        can: [
            'Contain content that is related to sexuality and sexual education.',
            'Provide general information regarding sexual activities.',
            'Provide guidance on topics related to sexual health.',
            'Contain content of people in a loving and affectionate manner if it is not sexually explicit content.',
        ],
    },
    {
        id: 'O4',
        name: 'Nudity Content',
        shouldNot: [
            'Contain visible genitalia (e.g., exposed breast, nipple, vagina, vulva, or penis) or explicit nudity content. ',
        ],
        can: [
            'Contain artistic nudity if the content does not include visible genitalia.',
            'Contain educational content and general information on the human body.',
            'Provide guidance on topics related to sexual health.',
        ],
    },
    {
        id: 'O5',
        name: 'Criminal Planning',
        shouldNot: [
            'Contain content of people planning or engaging in criminal activities like theft, kidnapping, or financial crimes.',
            'Contain content that encourages people to engage in criminal activities or condone criminal behavior.',
        ],
        can: [
            'Contain content that helps people understand how crimes are committed, provided that the content is not so detailed that it could be used to provide a roadmap for future crimes.',
            'Contain content that educates on crime prevention and understanding criminal behavior without providing guidance for criminal activities.',
        ],
    },
    {
        id: 'O6',
        name: 'Weapons or Substance Abuse',
        shouldNot: [
            'Contain content of illegal weapons with the intent to promote violence or harm.',
            'Contain content of trafficking, consumption, or use of illegal drugs.',
            'Promote the use of tobacco, alcohol, and cannabis.',
            'Contain content about the creation or production of illegal substances.',
        ],
        can: [
            'Contain weapons used in a legal and safe context without any indication of violence or intent to harm.',
            'Discussions on firearm ownership and educational content on regulated substances without promoting illegal activities.',
            'Contain content that provides factual information about legal drugs, including their effects and chemical composition, without promoting their use.',
            'Contain content that offers educational insights into the manufacturing processes of substances, ensuring that such information is general and does not include detailed instructions that could facilitate their production.',
        ],
    },
    {
        id: 'O7',
        name: 'Self-Harm',
        shouldNot: [
            'Contain content that could encourage people to harm themselves.',
            'Contain content that romanticizes or condones self-harm or suicide.',
        ],
        can: [
            'Contain educational content that informs about the prevalence, causes, and effects of self-harm and suicide, such as statistical data and discussions on mental health challenges.',
            'Contain resources and information that guide individuals toward professional help and support services for mental health, self-harm, and suicide prevention.',
        ],
    },
    {
        id: 'O8',
        name: 'Animal Cruelty',
        shouldNot: [
            'Contain content that could encourage people to harm animals.',
            'Contain content that romanticizes or condones harming animals.',
            'Contain explicit animal cruelty.',
        ],
        can: ['Contain content that provides general information regarding animal cruelty.'],
    },
    {
        id: 'O9',
        name: 'Disasters or Emergencies',
        shouldNot: [
            'Contain content about individuals who are deceased or have suffered harm as a result of disasters or emergencies.',
            'Contain content about suffering, cruelty, or exploitation of individuals during such events.',
        ],
        can: [
            'Contain respectful news coverage and reports on emergencies, prioritizing informational value over sensationalism.',
            'Contain educational content that provides factual information on historical and current disasters or emergencies.',
        ],
    },
]);

/**
 * Exception blocks of the reference are hand-written strings, not generated from the bullets.
 * They match the bullets everywhere except O2, whose first bullet carries a double space in both
 * its non-violating and its sensitive block. The models were trained on that text, so an
 * unmodified O2 keeps it; a category whose guidelines were changed uses its own bullets.
 */
export const TRAINED_EXCEPTION_BULLETS: Readonly<Record<string, readonly string[]>> = deepFreeze({
    O2: [
        'Contain content of  people planning or engaging in violence.',
        'Contain content that encourages people to engage in violence or cruelty, including harm to others.',
        'Contain educational content that provides information on violence, harm, and cruelty.',
        'Discuss historical events involving violence and cruelty.',
    ],
});

/** Assessment step 3 is the only difference between the v1.0 (json-v16) and v1.2 (json-v24) texts. */
const ASSESSMENT_STEP3: Readonly<Record<PolicyVersion, string>> = Object.freeze({
    'v1.2': '3. Provide a "rationale". Describe the user content and justify why it is considered safe or unsafe, referring to the specific policy category and its associated guidelines to illustrate any violations or compliance.',
    'v1.0': '3. Provide a "rationale". Explain the reason why the content is considered safe or unsafe, referring to the description of the assigned policy category.',
});

/**
 * The "Assessment Steps" section. Its JSON template lists the category strings, so it is
 * generated from the policy's own categories (the default text lists O1..O9 and NA).
 */
export function assessmentSteps(version: PolicyVersion, categoryStrings: readonly string[]): string {
    const choices = categoryStrings.map((c) => `"${c}"`).join('|');
    return [
        'Assessment Steps:',
        '1. Select a safety "rating". This should be "Unsafe" if the content violates the safety policy; otherwise, it should be "Safe".',
        `2. Assign a policy "category". If none of the policy categories are applicable, select "${NONE_APPLYING}".`,
        ASSESSMENT_STEP3[version],
        'To provide your assessment use the following json template:',
        '{',
        '    "rating": str<"Unsafe"|"Safe">,',
        `    "category": str<${choices}>,`,
        '    "rationale": str,',
        '}',
    ].join('\n');
}

function deepFreeze<T>(value: T): T {
    if (value && typeof value === 'object') {
        for (const v of Object.values(value)) deepFreeze(v);
        Object.freeze(value);
    }
    return value;
}
