#!/usr/bin/env node
// The `llavaguard` command: each subcommand lives in commands/.
import { Command } from 'commander';
import { registerAssess } from './commands/assess.js';
import { registerBuild } from './commands/build.js';
import { registerDemo } from './commands/demo.js';
import { registerGguf } from './commands/gguf.js';
import { registerScan } from './commands/scan.js';
import { registerReport } from './commands/report.js';
import { registerEval } from './commands/eval.js';
import { registerConvert } from './commands/convert.js';
import { registerQuantize } from './commands/quantize.js';
import { registerTokenize } from './commands/tokenize.js';
import { registerQueue } from './commands/queue.js';
import { registerWorker } from './commands/worker.js';
import { registerServe } from './commands/serve.js';
import { packageVersion } from './version.js';

const program = new Command('llavaguard')
    .description('Local, offline image-safety assessment with the LlavaGuard models (llama.cpp under the hood)')
    .version(packageVersion())
    .showHelpAfterError();
registerAssess(program);
registerScan(program);
registerQueue(program);
registerWorker(program);
registerReport(program);
registerEval(program);
registerConvert(program);
registerQuantize(program);
registerTokenize(program);
registerServe(program);
registerDemo(program);
registerGguf(program);
registerBuild(program);

program.parseAsync(process.argv).catch((error: unknown) => {
    console.error(`llavaguard: ${(error as Error).message ?? error}`);
    process.exitCode = 1;
});
