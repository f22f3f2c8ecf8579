// Running the installed library: the demo, the ESM / CommonJS probes (scripts/install-test/probe*), and where
// the native files they mapped came from (npm's and pnpm's layouts).
import { join } from 'node:path';
import { assert, run } from './harness.mjs';
import { MINUTE, report, root, seconds, tail } from './settings.mjs';

export const NPM_LAYOUT = {
    addon: /\/node_modules\/@llavaguard\/linux-x64\/llavaguard\.node$/,
    llama: /\/node_modules\/@node-llama-cpp\/linux-x64\/bins\/linux-x64\/libllama[^/]*$/,
};
export const PNPM_LAYOUT = {
    addon: /\/node_modules\/\.pnpm\/@llavaguard\+linux-x64@[^/]+\/node_modules\/@llavaguard\/linux-x64\/llavaguard\.node$/,
    llama: /\/node_modules\/\.pnpm\/@node-llama-cpp\+linux-x64@[^/]+\/node_modules\/@node-llama-cpp\/linux-x64\/bins\/linux-x64\/libllama[^/]*$/,
};

/** Demo: exit 0 and three verdicts; returns the model pair it made (LLAVAGUARD_CACHE) for the probes. */
export async function demo(command, argv, cwd, env, side) {
    const { stdout, ms } = await run(command, argv, { cwd, env, timeoutMs: 15 * MINUTE });
    const verdicts = stdout.match(/^(UNSAFE|safe {2}) {2}\S.*\n\s+category:/gm) ?? [];
    assert(verdicts.length === 3, `expected 3 verdicts, got ${verdicts.length}\n${tail(stdout)}`);
    const model = stdout.match(/^\s*model:\s+(\S.*)$/m)?.[1];
    const mmproj = stdout.match(/^\s*mmproj:\s+(\S.*)$/m)?.[1];
    assert(model && mmproj, `the demo did not say which model it used\n${tail(stdout)}`);
    report[side].demoS = seconds(ms);
    return { pair: { model, mmproj }, detail: `3 verdicts in ${seconds(ms)} s` };
}

/** Runs a probe in the project; returns its results (one per thread). */
export async function probe(file, project, env, options, cwd = project) {
    const { stdout, stderr } = await run('node', [join(project, file), JSON.stringify(options)], {
        cwd,
        env,
        timeoutMs: 10 * MINUTE,
    });
    const line = stdout.split('\n').find((l) => l.startsWith('PROBE '));
    assert(line, `${file} printed no result\n${tail(stdout + stderr)}`);
    const results = JSON.parse(line.slice(6));
    for (const r of results) {
        assert(r.llavaGuard === 'function' && r.load === 'function', `LlavaGuard is ${r.llavaGuard}`);
        assert(r.policyChars > 1000, `Policy.default('v1.2').render() gave ${r.policyChars} characters`);
        if (options.model)
            assert(
                r.assessment?.backend === 'cpu' && ['Safe', 'Unsafe'].includes(r.assessment.rating),
                `no CPU assessment: ${JSON.stringify(r.assessment)}`,
            );
    }
    const warning = stderr.match(/ExperimentalWarning.*$/m)?.[0];
    return { results, warning };
}

/** The addon and node-llama-cpp's libraries this process mapped, checked to come from the project's node_modules. */
export function nativeFrom(result, project, expect) {
    const addon = result.mapped.filter((p) => p.endsWith('/llavaguard.node'));
    const llama = result.mapped.filter((p) => /\/libllama[^/]*\.so/.test(p));
    const cpu = result.mapped.filter((p) => /\/libggml-cpu[^/]*\.so/.test(p));
    assert(addon.length === 1, `llavaguard.node mapped ${addon.length} times: ${addon.join(', ')}`);
    assert(llama.length === 1 && cpu.length >= 1, `libllama / libggml-cpu not mapped: ${result.mapped.join(', ')}`);
    const nodeModules = `${project}/node_modules/`;
    for (const p of [...addon, ...llama, ...cpu])
        assert(p.startsWith(nodeModules), `${p} is not in ${nodeModules}: the addon reached outside the project`);
    assert(expect.addon.test(addon[0]), `llavaguard.node from ${addon[0]}`);
    assert(expect.llama.test(llama[0]), `libllama from ${llama[0]}`);
    const foreign = result.mapped.filter(
        (p) => p.startsWith(`${root}/`) || expect.notUnder?.some((d) => p.startsWith(d)),
    );
    assert(foreign.length === 0, `mapped from outside the installed project: ${foreign.join(', ')}`);
    return `${addon[0].slice(project.length + 1)} + ${llama[0].slice(project.length + 1)}`;
}
