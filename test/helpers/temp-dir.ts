// Temporary folders for a test file, removed when its tests end.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';

/** A new folder under the system's temp folder, removed when the test file ends. */
export function tempDir(prefix: string): string {
    const dir = mkdtempSync(join(tmpdir(), prefix));
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    return dir;
}

/** A maker of distinct folder paths (not yet created) inside one tempDir(prefix). */
export function freshDirs(prefix: string): () => string {
    const root = tempDir(prefix);
    let n = 0;
    return () => join(root, `m${n++}`);
}
