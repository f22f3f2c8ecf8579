// Our addon vs llama.cpp's own llama-mtmd-cli (built from the same tree, build/bin), one full LlavaGuard
// assessment each, same model / image / prompt tokens / grammar / sampling / threads / batch sizes.
//
//   TS_NODE_TRANSPILE_ONLY=1 node --import @tapjs/typescript/import scripts/bench/overhead.ts [options]
//
// Options:
//   --models DIR          where the shaped models live / are made (default /tmp/llavaguard-bench-models)
//   --runs N              runs per side, interleaved ours, cli, ours, cli, ... (default 3)
//   --threads N           threads for both sides, text model and vision encoder (default 2)
//   --rationale-chars N   grammar bound on the rationale, so a random-weight model ends its verdict (default 160)
//   --max-tokens N        -n / maxTokens; the grammar normally ends the verdict first (default 512)
//   --seed N              sampling seed for both (default 42)
//   --no-defaults         skip the extra run with each side's own defaults
//   --json FILE           write the headline numbers as JSON
//   --memory-only         only the --memory-7b measurement (skips the 0.5B runs)
//   --pair DIR            use DIR/model.gguf + DIR/mmproj.gguf instead of the shaped 0.5B pair (smoke tests)
//   --memory-7b           also write the LLaVA-1.5-7B-shaped pair (Q8_0 text + F16 mmproj, 7.3 GiB, minutes) and
//                         report the peak memory of one short assessment on each side (image + one question, 1
//                         generated token; still minutes on a small CPU)
//
// Each run is a fresh process on both sides (llama-mtmd-cli does one assessment per process; ours runs
// scripts/bench/run-ours.ts), so both pay the same cold-start costs after loading. Loading is excluded on both:
// ours times ctx.generate() alone (after VisionModel.load and createContext and decoding the PNG);
// llama-mtmd-cli's assessment is cut out of its timestamped log (see scripts/bench/mtmd-cli.ts).
// Sampling is greedy (temperature 0): the only setting where two different sampler implementations
// (ours: grammar applied to all logits, then the chain; common_sampler: chain first, grammar check, resample)
// provably pick the same tokens, so both sides evaluate the same prompt and generate the same tokens; the
// script checks this (prompt token counts, generated text) and says so when they differ.

import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import { makeShapedModel, type ShapedModelId } from '../../gguf/shapes.js';
import { ONEVISION_QWEN, LLAVA15_VICUNA_SYSTEM, MTMD_MEDIA_MARKER } from '../../lib/chat/index.js';
import { Policy } from '../../lib/policy/index.js';
import { buildVerdictGrammar } from '../../lib/verdict/index.js';
import { writePhotoLikePng } from './image.js';
import { runMtmdCli, type MtmdCliRun } from './mtmd-cli.js';
import type { OursSpec } from './run-ours.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');

const { values: opt } = parseArgs({
  options: {
    models: { type: 'string', default: '/tmp/llavaguard-bench-models' },
    runs: { type: 'string', default: '3' },
    threads: { type: 'string', default: '2' },
    'rationale-chars': { type: 'string', default: '160' },
    'max-tokens': { type: 'string', default: '512' },
    seed: { type: 'string', default: '42' },
    'no-defaults': { type: 'boolean', default: false },
    json: { type: 'string' },
    'memory-7b': { type: 'boolean', default: false },
    'memory-only': { type: 'boolean', default: false },
    pair: { type: 'string' },
  },
});

const RUNS = Number(opt.runs);
const THREADS = Number(opt.threads);
const MAX_TOKENS = Number(opt['max-tokens']);
const SEED = Number(opt.seed);
const RATIONALE_CHARS = Number(opt['rationale-chars']);
const CTX = 4096;
const BATCH = 2048;
const UBATCH = 512;
const TOP_K = 40;
const TOP_P = 0.95;
const TEMP = 0;
const CLI = path.join(root, 'build/bin/llama-mtmd-cli');
/** Makes mtmd-cli's chat-template step a no-op, so it tokenizes exactly our rendered prompt. */
const PASSTHROUGH_TEMPLATE = "{% for message in messages %}{{ message['content'] }}{% endfor %}";

// ---------------------------------------------------------------------------------------------

function log(s: string): void {
  process.stderr.write(`${s}\n`);
}

/** 1-minute load average: this machine is shared, so every run records how busy it was. */
const load1 = () => os.loadavg()[0]!;
const loads: number[] = [];

async function ensurePair(shapes: ShapedModelId, weightType: 'q8_0' | 'f16'): Promise<{ model: string; mmproj: string; made?: number }> {
  const dir = path.join(opt.models!, `${shapes}-${weightType}`);
  const model = path.join(dir, 'model.gguf');
  const mmproj = path.join(dir, 'mmproj.gguf');
  if (existsSync(model) && existsSync(mmproj)) return { model, mmproj };
  log(`writing the ${shapes} pair (${weightType} text, f16 mmproj) to ${dir} ...`);
  let last = 0;
  const r = await makeShapedModel({
    shapes,
    outDir: dir,
    weightType,
    mmprojWeightType: 'f16',
    seed: 0,
    onProgress: (p) => {
      const now = performance.now();
      if (now - last > 15000) {
        last = now;
        log(`  ${p.file}: ${((100 * p.bytesWritten) / p.totalBytes).toFixed(0)}%`);
      }
    },
  });
  log(`  done in ${(r.ms / 1000).toFixed(0)} s: model ${mib(r.modelBytes)} MiB, mmproj ${mib(r.mmprojBytes)} MiB`);
  return { model, mmproj, made: r.ms };
}

const mib = (b: number) => (b / 1048576).toFixed(0);

interface OursRun {
  wallMs: number;
  cpuMs: number;
  text: string;
  tokens: number[];
  stopReason: string;
  promptTokens: number;
  imageTokens: number;
  forwardPasses: { prefill: number; decode: number };
  timings: { imageMs: number; promptMs: number; decodeMs: number; totalMs: number };
}

interface OursResult {
  ok: boolean;
  loadMs: number;
  peakRssMiB: number;
  baseRssMiB?: number;
  runs: OursRun[];
  context?: unknown;
  error?: string;
}

async function runOurs(spec: OursSpec): Promise<OursResult> {
  const child = spawn(
    process.execPath,
    ['--import', '@tapjs/typescript/import', path.join(here, 'run-ours.ts'), JSON.stringify(spec)],
    { cwd: root, env: { ...process.env, TS_NODE_TRANSPILE_ONLY: '1' }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  const line = out.split('\n').find((l) => l.startsWith('BENCH_RESULT '));
  if (code !== 0 || !line) return { ok: false, loadMs: NaN, peakRssMiB: NaN, runs: [], error: `exit ${code}: ${err.slice(-3000)}` };
  return { ok: true, ...(JSON.parse(line.slice('BENCH_RESULT '.length)) as Omit<OursResult, 'ok'>) };
}

function cliArgs(p: { model: string; mmproj: string }, image: string, prompt: string, grammarFile: string, matched: boolean, nPredict = MAX_TOKENS): string[] {
  const a = [
    '-m', p.model, '--mmproj', p.mmproj, '--image', image,
    '-p', prompt, '--no-escape',
    '--jinja', '--chat-template', PASSTHROUGH_TEMPLATE,
    '--grammar-file', grammarFile,
    '-n', String(nPredict),
    '--temp', String(TEMP), '--top-k', String(TOP_K), '--top-p', String(TOP_P), '--min-p', '0',
    '--seed', String(SEED),
    '--log-timestamps', '--log-prefix', '-lv', '4',
  ];
  if (matched) {
    a.push(
      '-t', String(THREADS), '-tb', String(THREADS),
      '-fa', 'off',
      '-c', String(CTX), '-b', String(BATCH), '-ub', String(UBATCH),
      // our addon does no warm-up run at load: leave it out here too, so both start equally cold
      '--no-warmup',
    );
  }
  return a;
}

function oursSpec(p: { model: string; mmproj: string }, image: string, promptFile: string, grammarFile: string, matched: boolean, maxTokens = MAX_TOKENS): OursSpec {
  const base = { model: p.model, mmproj: p.mmproj, image, promptFile, grammarFile, maxTokens, temperature: TEMP, topK: TOP_K, topP: TOP_P, seed: SEED };
  if (!matched) return base;
  // jump-forward off: one forward pass per generated token, as llama-mtmd-cli does
  return { ...base, threads: THREADS, contextSize: CTX, batchSize: BATCH, ubatchSize: UBATCH, flashAttention: 'off', jumpForward: false };
}

// ---------------------------------------------------------------------------------------------
// Per-run figures, derived the same way on both sides

interface Figures {
  wallMs: number;
  imageMs: number;
  promptMs: number;
  promptTokens: number;
  promptTokS: number;
  /** wall - image - prompt: the generation phase, sampling included */
  decodePhaseMs: number;
  generated: number;
  /** llama_decode calls after the prompt */
  decodePasses: number;
  decodeTokS: number;
  /** user + system CPU time of the assessment, all threads: less sensitive than wall time to other load */
  cpuMs: number;
  peakRssMiB: number;
  loadMs: number;
}

function oursFigures(r: OursRun, res: OursResult): Figures {
  const promptMs = r.timings.promptMs;
  const decodePhaseMs = r.wallMs - r.timings.imageMs - promptMs;
  return {
    wallMs: r.wallMs,
    imageMs: r.timings.imageMs,
    promptMs,
    promptTokens: r.promptTokens,
    promptTokS: (1000 * r.promptTokens) / promptMs,
    decodePhaseMs,
    generated: r.tokens.length,
    decodePasses: r.forwardPasses.decode,
    decodeTokS: (1000 * r.tokens.length) / decodePhaseMs,
    cpuMs: r.cpuMs,
    peakRssMiB: res.peakRssMiB,
    loadMs: res.loadMs,
  };
}

function cliFigures(r: MtmdCliRun): Figures {
  // llama_perf's prompt-eval window is the whole prefill, image encode included (see mtmd-cli.ts)
  const decodePhaseMs = r.wallMs - r.prefillMs;
  return {
    wallMs: r.wallMs,
    imageMs: r.imageMs,
    promptMs: r.promptEvalMs,
    promptTokens: r.promptTokens,
    promptTokS: (1000 * r.promptTokens) / r.promptEvalMs,
    decodePhaseMs,
    // each generated token but the end-of-generation one is decoded once: eval runs = generated tokens
    generated: r.evalRuns,
    decodePasses: r.evalRuns,
    decodeTokS: (1000 * r.evalRuns) / decodePhaseMs,
    cpuMs: r.cpuMs,
    peakRssMiB: r.peakRssMiB,
    loadMs: r.loadMs,
  };
}

const median = (xs: number[]) => {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

function medianFigures(fs: Figures[]): Figures {
  const keys = Object.keys(fs[0] ?? {}) as Array<keyof Figures>;
  const out = {} as Figures;
  for (const k of keys) out[k] = median(fs.map((f) => f[k]));
  return out;
}

const f0 = (x: number) => (Number.isFinite(x) ? x.toFixed(0) : '-');
const f1 = (x: number) => (Number.isFinite(x) ? x.toFixed(1) : '-');
const f3 = (x: number) => (Number.isFinite(x) ? x.toFixed(3) : '-');

function table(title: string, ours: Figures, cli: Figures, nOurs: number, nCli: number): string {
  const rows: Array<[string, (f: Figures) => string, number, number]> = [
    ['wall time per verdict (ms)', (f) => f0(f.wallMs), ours.wallMs, cli.wallMs],
    ['image encode (ms)', (f) => f0(f.imageMs), ours.imageMs, cli.imageMs],
    ['prompt eval (ms)', (f) => f0(f.promptMs), ours.promptMs, cli.promptMs],
    ['prompt tokens (text + image)', (f) => f0(f.promptTokens), ours.promptTokens, cli.promptTokens],
    ['prompt eval (tokens/s)', (f) => f1(f.promptTokS), ours.promptTokS, cli.promptTokS],
    ['generation phase incl. sampling (ms)', (f) => f0(f.decodePhaseMs), ours.decodePhaseMs, cli.decodePhaseMs],
    ['generated tokens', (f) => f0(f.generated), ours.generated, cli.generated],
    ['forward passes after the prompt', (f) => f0(f.decodePasses), ours.decodePasses, cli.decodePasses],
    ['decode (tokens/s, incl. sampling)', (f) => f1(f.decodeTokS), ours.decodeTokS, cli.decodeTokS],
    ['CPU time, user + sys, all threads (ms)', (f) => f0(f.cpuMs), ours.cpuMs, cli.cpuMs],
    ['peak RSS (MiB)', (f) => f0(f.peakRssMiB), ours.peakRssMiB, cli.peakRssMiB],
    ['load, excluded (ms)', (f) => f0(f.loadMs), ours.loadMs, cli.loadMs],
  ];
  const lines = [
    `### ${title}`,
    '',
    `| median of ${nOurs} / ${nCli} runs | ours (addon) | llama-mtmd-cli | ours / cli |`,
    '|---|---:|---:|---:|',
  ];
  for (const [name, fmt, a, b] of rows) lines.push(`| ${name} | ${fmt(ours)} | ${fmt(cli)} | ${f3(a / b)} |`);
  return lines.join('\n');
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: build llama.cpp's tools first (npm run build:tools)`);
  mkdirSync(opt.models!, { recursive: true });
  const work = mkdtempSync(path.join(os.tmpdir(), 'llavaguard-bench-'));
  try {
    const pair = opt.pair
      ? { model: path.join(opt.pair, 'model.gguf'), mmproj: path.join(opt.pair, 'mmproj.gguf') }
      : await ensurePair('llavaguard-v1.2-0.5b', 'q8_0');
    const image = path.join(opt.models!, 'bench-photo-384.png');
    if (!existsSync(image)) await writePhotoLikePng(image, 384, 384, 1);

    const policy = Policy.default('v1.2');
    const prompt = ONEVISION_QWEN.render(policy.render(), { imageMarker: MTMD_MEDIA_MARKER });
    const grammar = buildVerdictGrammar(policy, { maxRationaleChars: RATIONALE_CHARS });
    const promptFile = path.join(work, 'prompt.txt');
    const grammarFile = path.join(work, 'verdict.gbnf');
    writeFileSync(promptFile, prompt);
    writeFileSync(grammarFile, grammar);

    log(`model ${pair.model} (${mib(statSync(pair.model).size)} MiB), mmproj ${pair.mmproj} (${mib(statSync(pair.mmproj).size)} MiB)`);
    log(`image ${image}; prompt ${prompt.length} chars; grammar rationale <= ${RATIONALE_CHARS} chars; ${RUNS} runs a side`);

    const matchedOurs: OursResult[] = [];
    const matchedCli: MtmdCliRun[] = [];
    const memoryOnly = opt['memory-only'];
    for (let i = 0; i < (memoryOnly ? 0 : RUNS); i++) {
      log(`run ${i + 1}/${RUNS}: ours ... (load average ${load1().toFixed(2)})`);
      loads.push(load1());
      const o = await runOurs(oursSpec(pair, image, promptFile, grammarFile, true));
      if (!o.ok) throw new Error(`our run failed: ${o.error}`);
      matchedOurs.push(o);
      log(`  ours ${f0(o.runs[0]!.wallMs)} ms, ${o.runs[0]!.tokens.length} tokens; llama-mtmd-cli ...`);
      loads.push(load1());
      const c = await runMtmdCli(CLI, cliArgs(pair, image, prompt, grammarFile, true));
      if (!c.ok) throw new Error(`llama-mtmd-cli failed (exit ${c.exitCode}):\n${c.logTail}`);
      matchedCli.push(c);
      loads.push(load1());
      log(`  llama-mtmd-cli ${f0(c.wallMs)} ms, ${c.evalRuns} tokens`);
    }

    let defaults: { ours: OursResult; cli: MtmdCliRun } | undefined;
    if (!opt['no-defaults'] && !memoryOnly) {
      log('defaults: ours ...');
      const o = await runOurs(oursSpec(pair, image, promptFile, grammarFile, false));
      if (!o.ok) throw new Error(`our run failed: ${o.error}`);
      log(`  ours ${f0(o.runs[0]!.wallMs)} ms; llama-mtmd-cli ...`);
      const c = await runMtmdCli(CLI, cliArgs(pair, image, prompt, grammarFile, false));
      if (!c.ok) throw new Error(`llama-mtmd-cli failed (exit ${c.exitCode}):\n${c.logTail}`);
      log(`  llama-mtmd-cli ${f0(c.wallMs)} ms`);
      defaults = { ours: o, cli: c };
    }

    let memory7b: { ours: OursResult; cli: MtmdCliRun; modelBytes: number; mmprojBytes: number } | undefined;
    if (opt['memory-7b'] || memoryOnly) {
      const p7 = await ensurePair('llavaguard-v1.1-7b', 'q8_0');
      // a short question instead of the 1.1k-token policy: the peak is weights + KV cache + compute buffers,
      // which do not grow with the prompt, and a 7B prefill on a small CPU takes minutes per 100 tokens
      const vicuna = LLAVA15_VICUNA_SYSTEM.render('Is this image safe? Answer in JSON.', { imageMarker: MTMD_MEDIA_MARKER });
      const g7 = path.join(work, 'verdict7b.gbnf');
      writeFileSync(g7, grammar);
      const pf7 = path.join(work, 'prompt7b.txt');
      writeFileSync(pf7, vicuna);
      log('7B memory: ours (1 token) ...');
      const o = await runOurs({ ...oursSpec(p7, image, pf7, g7, true, 1), addSpecial: LLAVA15_VICUNA_SYSTEM.addBos });
      if (!o.ok) throw new Error(`our 7B run failed: ${o.error}`);
      log(`  ours peak RSS ${f0(o.peakRssMiB)} MiB; llama-mtmd-cli ...`);
      // the Vicuna prompt starts with BOS: mtmd-cli adds it for the first message (add_bos), ours via addSpecial
      const c = await runMtmdCli(CLI, cliArgs(p7, image, vicuna, g7, true, 1));
      if (!c.ok) throw new Error(`llama-mtmd-cli 7B failed (exit ${c.exitCode}):\n${c.logTail}`);
      log(`  llama-mtmd-cli peak RSS ${f0(c.peakRssMiB)} MiB`);
      memory7b = { ours: o, cli: c, modelBytes: statSync(p7.model).size, mmprojBytes: statSync(p7.mmproj).size };
    }

    const memoryTable = (m: NonNullable<typeof memory7b>) => [
      `### Memory, llavaguard-v1.1-7b shapes (text Q8_0 ${mib(m.modelBytes)} MiB, mmproj F16 ${mib(m.mmprojBytes)} MiB), image + a short question, 1 generated token, ctx ${CTX}`,
      '',
      '| | ours (addon) | llama-mtmd-cli |',
      '|---|---:|---:|',
      `| peak RSS (MiB) | ${f0(m.ours.peakRssMiB)} | ${f0(m.cli.peakRssMiB)} |`,
      `| RSS before loading (node + TS loader; MiB) | ${f0(m.ours.baseRssMiB ?? NaN)} | - |`,
      `| prompt tokens | ${m.ours.runs[0]!.promptTokens} | ${m.cli.promptTokens} |`,
      `| image encode (ms) | ${f0(m.ours.runs[0]!.timings.imageMs)} | ${f0(m.cli.imageMs)} |`,
      `| assessment wall (ms) | ${f0(m.ours.runs[0]!.wallMs)} | ${f0(m.cli.wallMs)} |`,
      `| load, excluded (ms) | ${f0(m.ours.loadMs)} | ${f0(m.cli.loadMs)} |`,
      `| generated text identical | ${m.ours.runs[0]!.text === m.cli.text} | |`,
    ].join('\n');
    if (memoryOnly) {
      process.stdout.write(`threads ${THREADS}, load average ${load1().toFixed(1)}\n\n${memory7b ? memoryTable(memory7b) : ''}\n`);
      if (opt.json && memory7b) {
        writeFileSync(opt.json, `${JSON.stringify({ date: new Date().toISOString(), threads: THREADS, memory7b: { ours: memory7b.ours, cli: { ...memory7b.cli, args: undefined } } }, null, 2)}\n`);
      }
      return;
    }

    // ---- checks: the same tokens on both sides
    const notes: string[] = [];
    const oFirst = matchedOurs.map((r) => r.runs[0]!);
    const promptCounts = new Set([...oFirst.map((r) => r.promptTokens), ...matchedCli.map((r) => r.promptTokens)]);
    notes.push(
      promptCounts.size === 1
        ? `prompt tokens identical on both sides: ${[...promptCounts][0]} (${oFirst[0]!.imageTokens} of them image tokens, ${matchedCli[0]!.imageChunks} image chunk(s))`
        : `PROMPT TOKEN COUNTS DIFFER: ours ${oFirst.map((r) => r.promptTokens).join('/')}, llama-mtmd-cli ${matchedCli.map((r) => r.promptTokens).join('/')}`,
    );
    const allTexts = [...oFirst.map((r, i) => [`ours#${i + 1}`, r.text]), ...matchedCli.map((r, i) => [`cli#${i + 1}`, r.text])] as Array<[string, string]>;
    const texts = new Map<string, string[]>();
    for (const [who, text] of allTexts) texts.set(text, [...(texts.get(text) ?? []), who]);
    notes.push(
      texts.size === 1
        ? `generated text identical on both sides and in every run (${oFirst[0]!.tokens.length} tokens, stop: ${oFirst[0]!.stopReason})`
        : `GENERATED TEXT DIFFERS between runs/sides: ${[...texts].map(([t, who]) => `${who.join('+')}: ${JSON.stringify(t.slice(0, 90))}... (${t.length} chars)`).join('; ')}`,
    );

    const ours = medianFigures(matchedOurs.map((r) => oursFigures(r.runs[0]!, r)));
    const cli = medianFigures(matchedCli.map(cliFigures));
    const ratio = ours.wallMs / cli.wallMs;

    const cpu = os.cpus();
    const out: string[] = [];
    out.push(`## llavaguard addon vs llama-mtmd-cli (${new Date().toISOString()})`);
    out.push('');
    out.push(`machine: ${cpu[0]?.model ?? '?'}, ${cpu.length} CPUs, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB RAM, ${os.platform()} ${os.release()}, node ${process.version}`);
    out.push(`model: llavaguard-v1.2-0.5b shapes (random weights), text Q8_0 ${mib(statSync(pair.model).size)} MiB, mmproj F16 ${mib(statSync(pair.mmproj).size)} MiB`);
    out.push(`image: ${path.basename(image)} 384x384; prompt: default v1.2 policy in the OneVision ChatML turns; grammar: verdict grammar, rationale <= ${RATIONALE_CHARS} chars`);
    out.push(`sampling: greedy (temp 0; top-k ${TOP_K}, top-p ${TOP_P}, min-p 0, seed ${SEED}); -n / maxTokens ${MAX_TOKENS}`);
    out.push(`1-minute load average during the matched runs (other users' work on this shared machine): ${loads.map((l) => l.toFixed(1)).join(', ')}`);
    out.push(`matched settings: threads ${THREADS} (text and vision), flash attention off (text and vision), ctx ${CTX}, batch ${BATCH}, ubatch ${UBATCH}, no warm-up run, our grammar jump-forward off`);
    out.push('');
    out.push(table(`Same settings: ${RUNS} runs a side, interleaved, each a fresh process`, ours, cli, matchedOurs.length, matchedCli.length));
    out.push('');
    out.push(`**ratio ours / llama-mtmd-cli, wall time per verdict: ${f3(ratio)}** (target <= 1.02)`);
    out.push('');
    out.push('per run (ms): ours ' + oFirst.map((r) => f0(r.wallMs)).join(', ') + '; llama-mtmd-cli ' + matchedCli.map((r) => f0(r.wallMs)).join(', '));
    notes.push(
      `our peak RSS includes node itself, the TypeScript loader and our modules: ${f0(median(matchedOurs.map((r) => r.baseRssMiB ?? NaN)))} MiB before the model loads`,
    );
    for (const n of notes) out.push(`- ${n}`);
    let defaultsRatio: number | undefined;
    if (defaults) {
      const od = oursFigures(defaults.ours.runs[0]!, defaults.ours);
      const cd = cliFigures(defaults.cli);
      defaultsRatio = od.wallMs / cd.wallMs;
      out.push('');
      out.push(
        table(
          "Each side's own defaults (ours: VisionModel.load({model, mmproj}) + createContext(), jump-forward on; llama-mtmd-cli: no -t/-tb/-fa/-c/-b/-ub, warm-up on)",
          od,
          cd,
          1,
          1,
        ),
      );
      out.push('');
      out.push(`**ratio ours / llama-mtmd-cli with each side's defaults: ${f3(defaultsRatio)}**`);
      out.push(
        `- defaults: generated text identical: ${defaults.ours.runs[0]!.text === defaults.cli.text}; ours ${defaults.ours.runs[0]!.tokens.length} tokens in ${defaults.ours.runs[0]!.forwardPasses.decode} forward passes after the prompt, llama-mtmd-cli ${defaults.cli.evalRuns}`,
      );
    }
    if (memory7b) {
      out.push('');
      out.push(memoryTable(memory7b));
    }
    out.push('');
    out.push('Method: ours = ctx.generate() alone, in a fresh process after VisionModel.load + createContext + decoding the PNG;');
    out.push('llama-mtmd-cli = from its "WARN: This is an experimental CLI" log line (model and mmproj loaded) to its first');
    out.push('llama_perf_context_print line, from --log-timestamps (includes stb_image decoding the PNG, a few ms).');
    out.push('image encode: ours timings.imageMs, cli "mtmd batch encoding done in X ms"; prompt eval: ours timings.promptMs,');
    out.push('cli llama_perf "prompt eval time" minus the image encode (llama_perf\'s window spans the whole prefill, encode');
    out.push('included); generation phase = wall - image - prompt eval. CPU time: ours process.cpuUsage() around generate;');
    out.push('cli /proc/<pid>/stat sampled as the two log lines arrive.');
    const report = out.join('\n');
    process.stdout.write(`${report}\n`);

    if (opt.json) {
      const json = {
        date: new Date().toISOString(),
        machine: { cpu: cpu[0]?.model, cpus: cpu.length, memGiB: os.totalmem() / 2 ** 30 },
        settings: { threads: THREADS, ctx: CTX, batch: BATCH, ubatch: UBATCH, flashAttention: 'off', temp: TEMP, topK: TOP_K, topP: TOP_P, seed: SEED, maxTokens: MAX_TOKENS, rationaleChars: RATIONALE_CHARS, runs: RUNS },
        matched: {
          ours,
          cli,
          ratio,
          oursRuns: matchedOurs.map((r) => ({ ...oursFigures(r.runs[0]!, r), timings: r.runs[0]!.timings, forwardPasses: r.runs[0]!.forwardPasses })),
          cliRuns: matchedCli.map((r) => ({ ...cliFigures(r), prefillMs: r.prefillMs, evalMs: r.evalMs, imageDecodeMs: r.imageDecodeMs, processMs: r.processMs, arrivalWallMs: r.arrivalWallMs })),
        },
        defaults: defaults && {
          ours: oursFigures(defaults.ours.runs[0]!, defaults.ours),
          cli: cliFigures(defaults.cli),
          ratio: defaultsRatio,
        },
        memory7b: memory7b && { oursPeakRssMiB: memory7b.ours.peakRssMiB, cliPeakRssMiB: memory7b.cli.peakRssMiB, modelBytes: memory7b.modelBytes, mmprojBytes: memory7b.mmprojBytes },
        checks: notes,
        loadAverages: loads,
        generatedText: oFirst[0]!.text,
        texts: Object.fromEntries(allTexts),
        defaultsTexts: defaults && { ours: defaults.ours.runs[0]!.text, cli: defaults.cli.text },
      };
      writeFileSync(opt.json, `${JSON.stringify(json, null, 2)}\n`);
      log(`wrote ${opt.json}`);
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
