/** Makes `require('vscode')` load the fake; import this first in tests of vscode-facing modules. */
import Module from 'node:module';
import * as path from 'node:path';

const fake = path.join(__dirname, 'vscodeFake.ts');
type Resolve = (request: string, ...rest: unknown[]) => string;
const patched = Module as unknown as { _resolveFilename: Resolve };
const original = patched._resolveFilename;
patched._resolveFilename = function (this: unknown, request: string, ...rest: unknown[]): string {
  return request === 'vscode' ? fake : original.call(this, request, ...rest);
};
