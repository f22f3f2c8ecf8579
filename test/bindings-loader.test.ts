// How the native addon is found and how ggml's CPU code is chosen: the prebuilt route runs on any x86-64 CPU and
// never runs AMX unless asked; a missing or mismatched package is one clear error.
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';
import { cachedTestModel } from '../gguf/synthetic/tiny-models.js';
import { AMX_VARIANTS, chooseCpuVariant, listCpuVariants } from '../lib/bindings/cpu-variant.js';
import { addonCandidates, describeFailure, loadNativeAddon } from '../lib/bindings/loadAddon.js';
import { currentPlatform } from '../lib/bindings/platform.js';

const run = promisify(execFile);
const bin = join(import.meta.dirname, '..', 'dist', 'lib', 'cli', 'main.js');

const scored = (scores: Record<string, number>) =>
    Object.entries(scores).map(([name, score]) => ({ name, path: `/libs/libggml-cpu-${name}.so`, score }));

t.test('the AMX variant is passed over even when it scores highest, unless LLAVAGUARD_CPU_AMX allows it', async (t) => {
    // What an AMX-advertising Sapphire Rapids host reports: ggml's score checks CPUID only.
    const variants = scored({ haswell: 64, icelake: 1472, sapphirerapids: 3520, x64: 1 });
    const choice = chooseCpuVariant(variants);
    t.equal(choice.chosen.name, 'icelake');
    t.match(choice.reason, /AMX variant was left out/);
    t.match(choice.variants.find((v) => v.name === 'sapphirerapids')?.skipped, /AMX/);
    t.equal(chooseCpuVariant(variants, { allowAmx: true }).chosen.name, 'sapphirerapids');
    t.ok(AMX_VARIANTS.includes('sapphirerapids'));
});

t.test('a forced variant is taken if this CPU can run it, and refused clearly otherwise', async (t) => {
    const variants = scored({ haswell: 64, zen4: 1984, sapphirerapids: 0 });
    t.equal(chooseCpuVariant(variants).chosen.name, 'zen4');
    t.equal(chooseCpuVariant(variants, { force: 'haswell' }).chosen.name, 'haswell');
    t.throws(() => chooseCpuVariant(variants, { force: 'sapphirerapids' }), /cannot run that variant/);
    t.throws(() => chooseCpuVariant(variants, { force: 'nope' }), /no such CPU variant \(have: haswell, zen4/);
    t.throws(() => chooseCpuVariant(scored({ zen4: 0 })), /no ggml CPU variant runs on this CPU/);
});

t.test('a missing or mismatched platform package is named, with the version wanted and the way out', async (t) => {
    const root = t.testdir({
        'package.json': JSON.stringify({ name: 'llavaguard', version: '9.9.9' }),
        node_modules: {
            '@llavaguard': {
                'linux-x64': { 'package.json': JSON.stringify({ name: '@llavaguard/linux-x64', version: '0.0.1' }) },
            },
        },
    });
    const linux = { os: 'linux' as const, arch: 'x64', libc: 'glibc' as const, id: 'linux-x64' };
    const found = addonCandidates(root, linux, {});
    t.same(found, [{ location: '@llavaguard/linux-x64@0.0.1', problem: 'llavaguard@9.9.9 needs version 9.9.9' }]);
    const musl = { os: 'linux' as const, arch: 'x64', libc: 'musl' as const, id: 'linuxmusl-x64' };
    const missing = addonCandidates(root, musl, {});
    t.match(missing, [{ location: '@llavaguard/linuxmusl-x64', problem: /not installed/ }]);
    const message = describeFailure(musl, missing as { location: string; problem: string }[]);
    t.match(message, /no native addon for linuxmusl-x64 \(musl\)/);
    t.match(message, /@llavaguard\/linuxmusl-x64: not installed/);
    t.match(message, /npx llavaguard build/);
});

t.test('the CLI says what it looked for when no addon loads, without a stack trace', async (t) => {
    const dir = t.testdir({ 'not-an-addon.node': 'junk' });
    const pair = await cachedTestModel('onevision');
    const r = await run(process.execPath, [bin, 'assess', '-m', pair.model, '--mmproj', pair.mmproj, 'z.png'], {
        env: { ...process.env, LLAVAGUARD_ADDON: join(dir, 'not-an-addon.node') },
    }).then(
        () => ({ code: 0, stderr: '' }),
        (e) => ({ code: e.code as number, stderr: e.stderr as string }),
    );
    t.not(r.code, 0);
    t.match(r.stderr, new RegExp(`no native addon for ${currentPlatform().id}`));
    t.match(r.stderr, /not-an-addon\.node: does not load/);
    t.match(r.stderr, /npx llavaguard build/);
    t.notMatch(r.stderr, /^\s+at /m, 'no stack trace');
});

const native = loadNativeAddon();
t.test('the prebuilt route picks a CPU variant from the folder libllama came from', async (t) => {
    if (!native.cpu) {
        t.pass(`skipped: ${native.location.path} has ggml compiled in (from source); nothing to choose`);
        return;
    }
    const folder = native.addon.llamaLibraryFolder()!;
    const files = listCpuVariants(folder).map((v) => v.name);
    t.ok(files.includes('x64') && files.includes('haswell'), `variants beside libllama: ${files.join(', ')}`);
    t.notOk(
        AMX_VARIANTS.includes(native.cpu.chosen.name) && process.env.LLAVAGUARD_CPU_AMX !== '1',
        `chosen: ${native.cpu.chosen.name} (${native.cpu.reason})`,
    );
    t.ok(native.cpu.chosen.path.startsWith(resolve(folder)), 'loaded from that folder, never the current one');
});

t.test('the addon runs a model on a CPU variant without AVX-512 (haswell), with the same greedy tokens', async (t) => {
    if (!native.cpu) {
        t.pass('skipped: ggml compiled in (from source)');
        return;
    }
    // A child process: the CPU backend is chosen once per process.
    const script = join(t.testdir(), 'variant.mjs');
    const root = join(import.meta.dirname, '..');
    writeFileSync(
        script,
        `import { loadNativeAddon } from ${JSON.stringify(join(root, 'dist/lib/bindings/loadAddon.js'))};
import { VisionModel } from ${JSON.stringify(join(root, 'dist/lib/runtime/VisionModel.js'))};
import { cachedTestModel } from ${JSON.stringify(join(root, 'dist/gguf/tiny-models.js'))};
const n = loadNativeAddon();
const files = await cachedTestModel('onevision');
const model = await VisionModel.load({ model: files.model, mmproj: files.mmproj, gpu: 'cpu', mmprojThreads: 1 });
const ctx = await model.createContext({ contextSize: 1024 });
const data = new Uint8Array(32 * 32 * 3).map((_, i) => (i * 37) & 255);
const r = await ctx.generate({ prompt: { text: 'USER: ' + model.info.mediaMarker + '\\nWhat is it? ASSISTANT:', images: [{ data, width: 32, height: 32 }] }, maxTokens: 8, temperature: 0 });
console.log(JSON.stringify({ variant: n.cpu.chosen.name, avx512: / AVX512 = 1/.test(n.addon.systemInfo().llamaSystemInfo), tokens: [...r.tokens] }));
await ctx.close(); await model.close();`,
    );
    const out = async (variant?: string) => {
        const env = { ...process.env, LLAVAGUARD_THREADS: '1' };
        if (variant) env.LLAVAGUARD_CPU_VARIANT = variant;
        else delete env.LLAVAGUARD_CPU_VARIANT;
        const r = await run(process.execPath, [script], { env });
        return JSON.parse(r.stdout.trim().split('\n').at(-1)!);
    };
    const haswell = await out('haswell');
    const best = await out();
    t.equal(haswell.variant, 'haswell');
    t.equal(haswell.avx512, false, 'no AVX-512 in the CPU backend that ran');
    t.comment(`default variant here: ${best.variant} (AVX-512: ${best.avx512})`);
    t.same(haswell.tokens, best.tokens, 'greedy tokens equal across variants');
});

t.test('nothing in the addon we compile uses AVX-512 or AMX instructions', async (t) => {
    if (!native.cpu) {
        t.pass('skipped: a from-source build is compiled for this machine on purpose');
        return;
    }
    const disasm = await run('objdump', ['-d', '--no-show-raw-insn', native.location.path], {
        maxBuffer: 1 << 30,
    }).catch(() => undefined);
    if (!disasm) {
        t.pass('skipped: objdump (binutils) not installed');
        return;
    }
    t.notMatch(disasm.stdout, /%zmm\d/, 'no AVX-512 registers');
    t.notMatch(disasm.stdout, /\b(tdpb[su]{2}d|tdpbf16ps|ldtilecfg|tileloadd)\b/, 'no AMX instructions');
});
