// The policy a moderation request asks for: the server's, or the request's own (`policy`: the JSON Policy.save
// writes), with `allow` / `sensitive` applied. Invalid ones are 400s that name the problem.
import { Policy } from '../policy/index.js';
import { badRequest } from './errors.js';

export interface PolicyExtensions {
    policy?: unknown;
    allow?: string[];
    sensitive?: string[];
}

export function requestPolicy(base: Policy, body: PolicyExtensions): Policy {
    let policy = base;
    try {
        if (body.policy !== undefined) policy = Policy.fromJSON(body.policy, 'policy');
    } catch (error) {
        throw badRequest(`Invalid policy: ${(error as Error).message}`, 'policy', 'invalid_policy');
    }
    try {
        if (body.allow?.length) policy = policy.allow(...body.allow);
    } catch (error) {
        throw badRequest((error as Error).message, 'allow', 'invalid_policy');
    }
    try {
        if (body.sensitive?.length) policy = policy.sensitive(...body.sensitive);
    } catch (error) {
        throw badRequest((error as Error).message, 'sensitive', 'invalid_policy');
    }
    return policy;
}
