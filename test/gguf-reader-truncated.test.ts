// The GGUF reader refuses a file cut short anywhere, without reading past its end, and says what it was reading.
import t from 'tap';

import { GgufFormatError, readGguf } from '../gguf/index.js';
import { after, baseFile, lenOf, rejects } from './helpers/gguf-patch.js';

t.test('a file truncated at any point before its end is rejected, never read past the end', async (t) => {
    const buf = await baseFile();
    let rejected = 0;
    const messages = new Set<string>();
    for (let cut = 0; cut < buf.length; cut++) {
        const err = await readGguf(buf.subarray(0, cut)).then(
            () => undefined,
            (e) => e,
        );
        if (err instanceof GgufFormatError) {
            rejected++;
            messages.add(err.message.replace(/\d+/g, 'N').split(':')[0]);
        } else {
            t.fail(`cut at ${cut}: ${err ? err.message : 'accepted'}`);
        }
    }
    t.equal(rejected, buf.length, `all ${buf.length} truncations rejected with GgufFormatError`);
    t.comment(`distinct messages: ${[...messages].join(' | ')}`);
});

t.test('truncations at named points give a "truncated" message that says what was being read', async (t) => {
    const buf = await baseFile();
    const cases: Array<[number, RegExp]> = [
        [6, /truncated: version needs 4 bytes/],
        [20, /truncated: metadata key\/value count needs 8 bytes/],
        // early cuts leave too few bytes for the counts themselves
        [
            lenOf(buf, 'general.architecture') + 12,
            /absurd tensor count 2: the 12 bytes after the header .*\(corrupt or truncated file\)/,
        ],
        [
            after(buf, 'test.array') + 4 + 4 + 8 + 6,
            /absurd array length 3 for key 'test.array' .*only 6 bytes remain .*truncated/,
        ],
        [
            after(buf, 'test.n') - 3,
            /absurd string length 6 for key of metadata entry 2: only 3 bytes remain .*truncated/,
        ],
        [after(buf, 'test.n') + 2, /truncated: value type of key 'test.n'/],
        [after(buf, 'test.n') + 4 + 2, /truncated: value of key 'test.n' needs 4 bytes/],
        [after(buf, 'tensor.a') + 4 + 3, /truncated: dimension 0 of tensor 'tensor.a'/],
        [after(buf, 'tensor.b') + 4 + 16 + 4 + 4, /truncated: data offset of tensor 'tensor.b'/],
    ];
    for (const [cut, re] of cases) {
        await rejects(t, buf.subarray(0, cut), re, `cut at ${cut}`);
    }
    // the header is complete, the data is not
    const h = await readGguf(buf);
    await rejects(
        t,
        buf.subarray(0, buf.length - 1),
        /tensor 'tensor.b' data \[128, 256\) runs past the end of the file/,
        'last byte missing',
    );
    await rejects(
        t,
        buf.subarray(0, h.dataOffset),
        /tensor 'tensor.a' data .* runs past the end/,
        'data section missing',
    );
});
