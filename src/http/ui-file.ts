// Where the status page is on disk. It lives one directory below src/ (and dist/), as every module that
// reads a shipped file does: the bundled agent (dist/bundle/, scripts/build-bundle.mjs) keeps that depth,
// so a path relative to this module's URL resolves the same from src/, dist/ and the bundle.
import { fileURLToPath } from 'node:url';

export const UI_FILE = fileURLToPath(new URL('../../ui/status.html', import.meta.url));
