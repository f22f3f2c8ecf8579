export { createServer, SERVER_DEFAULTS, type ServerOptions } from './create-server.js';
export type { ServedGuard } from './context.js';
export { ApiError } from './errors.js';
export { DEFAULT_CATEGORY_MAP, OPENAI_CATEGORIES, type OpenAICategory } from './categories.js';
export { policyFromText } from './policy-text.js';
export { refusedAddressReason } from './address-policy.js';
export type { HostResolver, ResolvedAddress } from './remote-image.js';
