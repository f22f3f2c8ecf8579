// The end of both model fuzz targets: a crafted model or mmproj, paired with the clean other file, through the
// checks of validateModelFiles (only a ModelLoadError may refuse it) and, where they accept it, a native load in
// the child (a load that kills or hangs the child is a finding).
import { ModelLoadError } from '../../../lib/runtime/errors.js';
import { validateModelFiles } from '../../../lib/runtime/validateModelFiles.js';
import { refusedOnlyWith } from './expect.js';
import { headerSignature, loadNatively } from './native-loader.js';

export async function checkThenLoad(
    role: 'model' | 'mmproj',
    crafted: string,
    clean: string,
    what: string,
): Promise<void> {
    const model = role === 'model' ? crafted : clean;
    const mmproj = role === 'mmproj' ? crafted : clean;
    const r = await refusedOnlyWith(() => validateModelFiles(model, mmproj), [ModelLoadError]);
    if (!r.ok) return;
    await loadNatively(headerSignature(role === 'model' ? r.value.model : r.value.mmproj!), model, mmproj, what);
}
