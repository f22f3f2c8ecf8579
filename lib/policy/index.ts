export { Policy, type PolicyCategory, type NewCategory, type CategoryStatus } from './policy.js';
export {
    PolicyValidationError,
    POLICY_JSON_FORMAT,
    parsePolicyJSON,
    policySchema,
    type PolicyJSON,
    type PolicyIssue,
} from './schema.js';
export {
    DEFAULT_CATEGORIES,
    NONE_APPLYING,
    NONE_APPLYING_ID,
    POLICY_VERSIONS,
    PREAMBLE,
    TEMPLATE_IDS,
    assessmentSteps,
    type CategoryDefinition,
    type CategoryGuidelines,
    type PolicyVersion,
} from './taxonomy.js';
export { categoryLabel, renderPolicy } from './render.js';
