// Which files a scan reads: images recognised by their bytes, folders walked, shards and limits, manifests and stdin.
import { join } from 'node:path';
import { writeFile } from 'node:fs/promises';
import { Readable } from 'node:stream';
import t from 'tap';
import { isVerdict, listImages, scanImages, sniffImageFormat } from '../lib/scan/index.js';
import { IMAGES, drain, encoded, makeCollection, runOptions, scanGuard } from './helpers/scan-collection.js';

const { coll, jpeg, png } = await makeCollection(t);
const { countingGuard } = scanGuard(t);

t.test('images are recognised by their first bytes', async (t) => {
    t.equal(sniffImageFormat(jpeg), 'jpeg');
    t.equal(sniffImageFormat(png), 'png');
    t.equal(sniffImageFormat(await encoded(1, 2)), 'webp');
    t.equal(sniffImageFormat(await encoded(1, 3)), 'gif');
    t.equal(sniffImageFormat(await encoded(1, 4)), 'tiff');
    t.equal(sniffImageFormat(Buffer.from('\0\0\0\x1cftypavif\0\0\0\0', 'latin1')), 'heif');
    t.equal(sniffImageFormat(Buffer.from('BM is a band, and this is text')), null);
    t.equal(sniffImageFormat(Buffer.from('hello')), null);
});

t.test('a folder scan finds images by content, recursively, sorted; non-images are skipped', async (t) => {
    const entries = await listImages(coll);
    const paths = entries.map((e) => e.path);
    t.equal(entries.length, IMAGES);
    t.same(paths, [...paths].sort(), 'sorted');
    t.ok(paths.includes('c/wrong-extension.txt'), 'a PNG named .txt is found');
    t.notOk(paths.includes('notes.txt'), 'a text file is skipped');
    t.notOk(paths.includes('c/fake.jpg'), 'a text file named .jpg is skipped');
    t.ok(
        paths.includes('broken/cut.jpg') && paths.includes('broken/cut.png'),
        'truncated files with image magic are kept (they become errors)',
    );
    t.ok(paths.includes('c/d/e/img02.webp'), 'nested folders, paths relative to the folder');
    t.equal(entries[0].file, join(coll, entries[0].path));
});

t.test(
    'shards partition the collection exactly (2 and 3 shards), deterministically; limit keeps the first N',
    async (t) => {
        const all = (await listImages(coll)).map((e) => e.path);
        for (const count of [2, 3]) {
            const shards = await Promise.all(
                Array.from({ length: count }, (_, index) => listImages({ folder: coll }, { shard: { index, count } })),
            );
            const union = shards.flatMap((s) => s.map((e) => e.path));
            t.equal(union.length, all.length, `${count} shards: no overlap`);
            t.same([...union].sort(), all, `${count} shards: union = all`);
            t.ok(
                shards.every((s) => s.length > 0),
                `${count} shards: none empty`,
            );
            t.same(
                (await listImages(coll, { shard: { index: 1, count } })).map((e) => e.path),
                shards[1].map((e) => e.path),
                'the same shard twice',
            );
        }
        t.same(
            (await listImages(coll, { limit: 5 })).map((e) => e.path),
            all.slice(0, 5),
        );
        await t.rejects(listImages(coll, { shard: { index: 3, count: 3 } }), RangeError);
    },
);

t.test('manifests (JSONL, CSV) and stdin: relative paths resolve against the manifest folder', async (t) => {
    const jsonl = join(coll, 'list.jsonl');
    await writeFile(
        jsonl,
        `{"path":"a/img00.png","label":1}\n\n{"path":"${join(coll, 'a/b/img01.jpg')}"}\n{"path":"missing.png"}\n`,
    );
    const csv = join(coll, 'c', 'list.csv');
    await writeFile(csv, '\ufeffid,path,note\r\n1,d/e/img02.webp,"a, quoted ""note"""\r\n2,wrong-extension.txt,\r\n');
    const fromJsonl = await listImages(jsonl);
    t.same(
        fromJsonl.map((e) => e.path),
        [join(coll, 'a/b/img01.jpg'), 'a/img00.png', 'missing.png'],
    );
    t.same(
        fromJsonl.map((e) => e.file),
        [join(coll, 'a/b/img01.jpg'), join(coll, 'a/img00.png'), join(coll, 'missing.png')],
    );
    const fromCsv = await listImages(csv);
    t.same(
        fromCsv.map((e) => e.file),
        [join(coll, 'c/d/e/img02.webp'), join(coll, 'c/wrong-extension.txt')],
    );
    const fromStdin = await listImages('-', {
        stdin: Readable.from([`${join(coll, 'a/img00.png')}\n\n${join(coll, 'notes.txt')}\n`]),
    });
    t.equal(fromStdin.length, 2);
    await t.rejects(listImages(join(coll, 'notes.txt'), {}), { name: 'ManifestError' });
    // a listed file that is missing or not an image becomes an error record
    const { guard } = await countingGuard();
    const { records } = await drain(scanImages(guard, jsonl, runOptions));
    t.same(
        records.map((r) => [r.path, isVerdict(r)]),
        [
            [join(coll, 'a/b/img01.jpg'), true],
            ['a/img00.png', true],
            ['missing.png', false],
        ],
    );
    t.match(records[2], { error: /no such file|not found|does not exist/i });
});
