import { InvalidArgumentError } from 'commander';

export function parseInteger(name: string, min: number, max = Number.MAX_SAFE_INTEGER) {
    return (value: string): number => {
        const n = Number(value);
        if (!Number.isInteger(n) || n < min || n > max) throw new InvalidArgumentError(`${name} must be an integer from ${min} to ${max}`);
        return n;
    };
}

export function parseNumber(name: string, min: number, max: number) {
    return (value: string): number => {
        const n = Number(value);
        if (!Number.isFinite(n) || n < min || n > max) throw new InvalidArgumentError(`${name} must be a number from ${min} to ${max}`);
        return n;
    };
}

export const collect = (value: string, previous: string[] = []) => [...previous, ...value.split(',').map((s) => s.trim()).filter(Boolean)];
