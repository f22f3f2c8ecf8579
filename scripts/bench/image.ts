// A deterministic, photo-like test picture for the benchmarks: a sky gradient with a sun, hills, a few
// buildings with lit windows, a tree, soft edges, a vignette and sensor-like noise. Saved as PNG (lossless),
// so stb_image (llama-mtmd-cli) and sharp (our loader) decode exactly the same pixels.

import sharp from 'sharp';

function rng(seed: number): () => number {
    let s = seed >>> 0 || 1;
    return () => {
        // xorshift32
        s ^= s << 13;
        s >>>= 0;
        s ^= s >>> 17;
        s ^= s << 5;
        s >>>= 0;
        return s / 4294967296;
    };
}

const clamp = (v: number) => (v < 0 ? 0 : v > 255 ? 255 : Math.round(v));
const smooth = (e0: number, e1: number, x: number) => {
    const t = Math.min(1, Math.max(0, (x - e0) / (e1 - e0)));
    return t * t * (3 - 2 * t);
};

/** Packed RGB pixels of the scene. */
export function photoLikePixels(width: number, height: number, seed = 1): Uint8Array {
    const rand = rng(seed);
    const img = new Float32Array(width * height * 3);
    const W = width;
    const H = height;
    const sun = { x: W * (0.7 + 0.1 * rand()), y: H * (0.22 + 0.05 * rand()), r: Math.min(W, H) * 0.08 };
    const hill = (x: number, k: number) =>
        H * (0.58 + 0.05 * k) +
        Math.sin((x / W) * Math.PI * (2 + k) + k * 1.7) * H * 0.05 +
        Math.sin((x / W) * 17 + k) * H * 0.01;
    const buildings: Array<{ x0: number; x1: number; top: number; c: [number, number, number] }> = [];
    for (let i = 0, x = W * 0.05; i < 6 && x < W * 0.6; i++) {
        const w = W * (0.05 + 0.05 * rand());
        buildings.push({
            x0: x,
            x1: x + w,
            top: H * (0.32 + 0.22 * rand()),
            c: [90 + 60 * rand(), 80 + 50 * rand(), 70 + 60 * rand()],
        });
        x += w + W * 0.01 * rand();
    }
    const tree = { x: W * 0.8, y: H * 0.62, r: W * 0.07 };
    for (let y = 0; y < H; y++) {
        for (let x = 0; x < W; x++) {
            const u = x / W;
            const v = y / H;
            // sky: deep blue at the top to a warm haze at the horizon
            let r = 40 + 180 * v + 20 * u;
            let g = 90 + 120 * v;
            let b = 200 - 40 * v;
            // sun with a glow
            const ds = Math.hypot(x - sun.x, y - sun.y);
            const glow = Math.exp(-ds / (sun.r * 2.5));
            r += 120 * glow;
            g += 90 * glow;
            b += 30 * glow;
            const disc = 1 - smooth(sun.r * 0.95, sun.r * 1.05, ds);
            r = r * (1 - disc) + 255 * disc;
            g = g * (1 - disc) + 240 * disc;
            b = b * (1 - disc) + 200 * disc;
            // buildings with windows
            for (const bd of buildings) {
                const inside =
                    smooth(bd.x0 - 0.7, bd.x0 + 0.7, x) *
                    (1 - smooth(bd.x1 - 0.7, bd.x1 + 0.7, x)) *
                    smooth(bd.top - 0.7, bd.top + 0.7, y);
                if (inside > 0) {
                    const shade = 0.75 + 0.25 * ((x - bd.x0) / (bd.x1 - bd.x0));
                    let [br, bgc, bb] = bd.c.map((c) => c * shade) as [number, number, number];
                    const wx = (x - bd.x0) % 9;
                    const wy = (y - bd.top) % 12;
                    if (
                        wx > 3 &&
                        wx < 7 &&
                        wy > 4 &&
                        wy < 9 &&
                        (Math.floor((x - bd.x0) / 9) * 7 + Math.floor((y - bd.top) / 12) * 3) % 5 < 2
                    ) {
                        br = 250;
                        bgc = 220;
                        bb = 140;
                    }
                    r = r * (1 - inside) + br * inside;
                    g = g * (1 - inside) + bgc * inside;
                    b = b * (1 - inside) + bb * inside;
                }
            }
            // two rows of hills (grass) in front
            for (let k = 0; k < 2; k++) {
                const m = smooth(hill(x, k) - 1, hill(x, k) + 1, y);
                if (m > 0) {
                    const depth = (y - hill(x, k)) / H;
                    const hr = 60 + 40 * k - 60 * depth;
                    const hg = 120 + 30 * k - 80 * depth + 15 * Math.sin(x * 0.9 + y * 0.3);
                    const hb = 50 - 20 * depth;
                    r = r * (1 - m) + hr * m;
                    g = g * (1 - m) + hg * m;
                    b = b * (1 - m) + hb * m;
                }
            }
            // a round tree with a trunk
            const dt = Math.hypot((x - tree.x) * 1.1, y - tree.y);
            const crown =
                1 - smooth(tree.r - 1.5, tree.r + 1.5, dt + 4 * Math.sin(Math.atan2(y - tree.y, x - tree.x) * 7));
            if (crown > 0) {
                const lit = 0.7 + 0.3 * ((tree.y - y) / tree.r);
                r = r * (1 - crown) + 30 * lit * crown;
                g = g * (1 - crown) + 100 * lit * crown;
                b = b * (1 - crown) + 35 * lit * crown;
            }
            if (Math.abs(x - tree.x) < W * 0.012 && y > tree.y + tree.r * 0.6 && y < tree.y + tree.r * 1.9) {
                r = 80;
                g = 55;
                b = 35;
            }
            // vignette
            const vig = 1 - 0.35 * (Math.hypot(u - 0.5, v - 0.5) / 0.7071) ** 2;
            const i = (y * W + x) * 3;
            img[i] = r * vig;
            img[i + 1] = g * vig;
            img[i + 2] = b * vig;
        }
    }
    // sensor noise: luminance + a little chroma
    const out = new Uint8Array(width * height * 3);
    for (let p = 0; p < width * height; p++) {
        const n = (rand() + rand() + rand() - 1.5) * 9;
        for (let c = 0; c < 3; c++) out[p * 3 + c] = clamp(img[p * 3 + c]! + n + (rand() - 0.5) * 4);
    }
    return out;
}

/** Writes the scene as an 8-bit RGB PNG; returns the path. */
export async function writePhotoLikePng(file: string, width = 384, height = 384, seed = 1): Promise<string> {
    const data = photoLikePixels(width, height, seed);
    await sharp(Buffer.from(data.buffer, data.byteOffset, data.byteLength), { raw: { width, height, channels: 3 } })
        .png({ compressionLevel: 9 })
        .toFile(file);
    return file;
}
