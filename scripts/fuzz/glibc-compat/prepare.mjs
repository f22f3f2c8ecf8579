// @jazzer.js/fuzzer 4.0.0 ships a prebuilt addon linked against glibc 2.38 and GCC 13's libstdc++; on an older
// system (Debian 12: glibc 2.36, GCC 12) it fails to load for three symbols (__isoc23_strtol/strtoul and
// std::ios_base_library_init). When that happens, this makes a copy whose requirements of those two versions are
// marked weak (ld.so then tolerates their absence), builds shim.c (the three symbols) with the system compiler,
// and returns the environment that preloads the shim and redirects the addon's load to the copy (redirect.cjs).
// node_modules is left untouched.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const WEAKEN = new Set(['GLIBC_2.38', 'GLIBCXX_3.4.32']);
const VER_FLG_WEAK = 0x2;

/** {} when the prebuilt loads as it is; else the env (LD_PRELOAD, NODE_OPTIONS) that makes it load. */
export function jazzerCompatEnv(root, cacheDir) {
    const require = createRequire(join(root, 'package.json'));
    const prebuilt = join(
        dirname(require.resolve('@jazzer.js/fuzzer/package.json')),
        'prebuilds',
        `fuzzer-${process.platform}-${process.arch}.node`,
    );
    try {
        execFileSync(process.execPath, ['-e', `require(${JSON.stringify(prebuilt)})`], { stdio: 'pipe' });
        return {};
    } catch (error) {
        if (!/GLIBC_2\.38|GLIBCXX_3\.4\.32/.test(String(error.stderr))) throw error;
    }
    const dir = join(cacheDir, 'glibc-compat');
    mkdirSync(dir, { recursive: true });
    const addon = join(dir, 'fuzzer-linux-x64.node');
    const shim = join(dir, 'libjazzer-compat.so');
    if (!existsSync(addon)) writeFileSync(addon, weakenVersions(readFileSync(prebuilt)));
    if (!existsSync(shim)) execFileSync('cc', ['-shared', '-fPIC', '-O2', '-o', shim, join(here, 'shim.c')]);
    return {
        LD_PRELOAD: shim,
        LLAVAGUARD_JAZZER_ADDON: addon,
        NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --require ${join(here, 'redirect.cjs')}`.trim(),
    };
}

/** The ELF64 file with VER_FLG_WEAK set on its .gnu.version_r entries named in WEAKEN. */
export function weakenVersions(elf) {
    const out = Buffer.from(elf);
    if (out.readUInt32BE(0) !== 0x7f454c46 || out[4] !== 2 || out[5] !== 1)
        throw new Error('not a little-endian ELF64 file');
    const shoff = Number(out.readBigUInt64LE(0x28));
    const shentsize = out.readUInt16LE(0x3a);
    const shnum = out.readUInt16LE(0x3c);
    const section = (i) => {
        const at = shoff + i * shentsize;
        return {
            type: out.readUInt32LE(at + 4),
            offset: Number(out.readBigUInt64LE(at + 0x18)),
            link: out.readUInt32LE(at + 0x28),
        };
    };
    let weakened = 0;
    for (let i = 0; i < shnum; i++) {
        const s = section(i);
        if (s.type !== 0x6ffffffe) continue; // SHT_GNU_verneed
        const strtab = section(s.link).offset;
        const name = (off) => out.toString('latin1', strtab + off, out.indexOf(0, strtab + off));
        for (let vn = s.offset; ; ) {
            const cnt = out.readUInt16LE(vn + 2);
            for (let k = 0, aux = vn + out.readUInt32LE(vn + 8); k < cnt; k++) {
                if (WEAKEN.has(name(out.readUInt32LE(aux + 8)))) {
                    out.writeUInt16LE(out.readUInt16LE(aux + 4) | VER_FLG_WEAK, aux + 4);
                    weakened++;
                }
                aux += out.readUInt32LE(aux + 12);
            }
            const next = out.readUInt32LE(vn + 12);
            if (!next) break;
            vn += next;
        }
    }
    if (weakened !== WEAKEN.size) throw new Error(`expected to weaken ${WEAKEN.size} version needs, found ${weakened}`);
    return out;
}
