import { familySync, GLIBC, MUSL } from 'detect-libc';

/** The platform as our package names spell it (sharp's convention: `linuxmusl-x64` for musl). */
export interface Platform {
    os: NodeJS.Platform;
    arch: string;
    libc: 'glibc' | 'musl' | null;
    /** e.g. `linux-x64`, `linuxmusl-x64`, `darwin-arm64`, `win32-x64`. */
    id: string;
}

export function currentPlatform(os: NodeJS.Platform = process.platform, arch: string = process.arch): Platform {
    const family = os === 'linux' ? familySync() : null;
    const libc = family === MUSL ? 'musl' : family === GLIBC ? 'glibc' : null;
    const id = `${os === 'linux' && libc === 'musl' ? 'linuxmusl' : os}-${arch}`;
    return { os, arch, libc, id };
}

/** The package that carries the prebuilt addon for a platform. */
export function platformPackageName(platform: Platform): string {
    return `@llavaguard/${platform.id}`;
}

/** The GPU packages a user may install beside it (npm's os/cpu/libc fields cannot tell a GPU machine). */
export const GPU_PACKAGE_SUFFIXES = ['cuda', 'vulkan'] as const;
