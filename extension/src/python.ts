/**
 * Which Python runs the server, and whether it has flowrun (no vscode: the Python
 * extension is reached through the EnvironmentProvider interface, so tests use a fake).
 *
 * Order: the flowrun.python setting → the Python extension's active interpreter → python3.
 */
import { execFile } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import * as path from 'node:path';

export type InterpreterSource = 'setting' | 'pythonExtension' | 'path';

export interface Interpreter {
  path: string;
  source: InterpreterSource;
}

export interface EnvironmentProvider {
  /** The active interpreter's executable for a workspace folder, if any. */
  activeInterpreter(folder?: string): Promise<string | undefined>;
}

export const FALLBACK_PYTHON = 'python3';

export async function resolveInterpreter(
  setting: string,
  provider: EnvironmentProvider | undefined,
  folder?: string,
): Promise<Interpreter> {
  if (setting) {
    return { path: setting, source: 'setting' };
  }
  if (provider !== undefined) {
    try {
      const active = await provider.activeInterpreter(folder);
      if (active) {
        return { path: active, source: 'pythonExtension' };
      }
    } catch {
      // The Python extension failed to answer: fall back to PATH.
    }
  }
  return { path: FALLBACK_PYTHON, source: 'path' };
}

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
  /** Set when the program could not be started (ENOENT, EACCES, timeout). */
  error?: string;
}

export function run(
  command: string,
  args: string[],
  options: { timeoutMs?: number; cwd?: string } = {},
): Promise<RunResult> {
  return new Promise((resolve) => {
    execFile(
      command,
      args,
      { timeout: options.timeoutMs ?? 60_000, cwd: options.cwd, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : null) : 0;
        const failed = error && typeof error.code !== 'number' ? error.message : undefined;
        resolve({ code, stdout: String(stdout), stderr: String(stderr), error: failed });
      },
    );
  });
}

export interface Probe {
  /** The interpreter could be started and is Python ≥ 3.11. */
  usable: boolean;
  version?: string;
  hasFlowrun: boolean;
  problem?: string;
}

const PROBE = [
  'import json, sys',
  'ok = True',
  'try:',
  '    import flowrun',
  'except Exception:',
  '    ok = False',
  'print(json.dumps({"version": "%d.%d.%d" % sys.version_info[:3],',
  '                  "recent": sys.version_info >= (3, 11), "flowrun": ok}))',
].join('\n');

/** Runs `<python> -c "import flowrun"` (and reads the version) in a child process. */
export async function probeInterpreter(python: string): Promise<Probe> {
  const result = await run(python, ['-c', PROBE], { timeoutMs: 30_000 });
  if (result.error !== undefined || result.code !== 0) {
    const why = result.error ?? result.stderr.trim().split('\n').pop() ?? `exit ${result.code}`;
    return { usable: false, hasFlowrun: false, problem: `${python} could not be run: ${why}` };
  }
  try {
    const data = JSON.parse(result.stdout.trim().split('\n').pop() ?? '') as {
      version: string;
      recent: boolean;
      flowrun: boolean;
    };
    if (!data.recent) {
      return {
        usable: false,
        version: data.version,
        hasFlowrun: data.flowrun,
        problem: `${python} is Python ${data.version}; Flowrun needs Python 3.11 or newer.`,
      };
    }
    return { usable: true, version: data.version, hasFlowrun: data.flowrun };
  } catch {
    return { usable: false, hasFlowrun: false, problem: `${python} printed: ${result.stdout}` };
  }
}

/** The Python of the managed virtual environment in the extension's global storage. */
export function managedPython(storageDir: string, platform = process.platform): string {
  return platform === 'win32'
    ? path.join(storageDir, 'venv', 'Scripts', 'python.exe')
    : path.join(storageDir, 'venv', 'bin', 'python');
}

/** The flowrun wheel bundled in the .vsix (bundled/flowrun-*.whl), if any. */
export function bundledWheel(extensionDir: string): string | undefined {
  const dir = path.join(extensionDir, 'bundled');
  if (!existsSync(dir)) {
    return undefined;
  }
  const wheels = readdirSync(dir)
    .filter((f) => /^flowrun-.*\.whl$/.test(f))
    .sort();
  return wheels.length > 0 ? path.join(dir, wheels[wheels.length - 1]) : undefined;
}

export type InstallTarget = 'interpreter' | 'managed';

export interface InstallStep {
  command: string;
  args: string[];
}

/** The commands that install the wheel into the interpreter or into a managed venv. */
export function installSteps(
  python: string,
  wheel: string,
  target: InstallTarget,
  storageDir: string,
): InstallStep[] {
  if (target === 'interpreter') {
    return [{ command: python, args: ['-m', 'pip', 'install', '--upgrade', wheel] }];
  }
  const venvPython = managedPython(storageDir);
  return [
    { command: python, args: ['-m', 'venv', path.join(storageDir, 'venv')] },
    { command: venvPython, args: ['-m', 'pip', 'install', '--upgrade', wheel] },
  ];
}

export async function runSteps(
  steps: InstallStep[],
  log: (line: string) => void,
): Promise<{ ok: boolean; output: string }> {
  let output = '';
  for (const step of steps) {
    log(`$ ${step.command} ${step.args.join(' ')}`);
    const result = await run(step.command, step.args, { timeoutMs: 600_000 });
    output += result.stdout + result.stderr;
    log(result.stdout + result.stderr);
    if (result.code !== 0) {
      return { ok: false, output: output + (result.error ?? '') };
    }
  }
  return { ok: true, output };
}

/** How the server is started: `<command> -m flowrun lsp`. */
export interface ServerLaunch {
  command: string;
  args: string[];
  /** The user's interpreter: workflows run on it, even when the server runs in the managed venv. */
  interpreter: Interpreter;
  managed: boolean;
}

export function launchFor(
  command: string,
  interpreter: Interpreter,
  managed: boolean,
): ServerLaunch {
  return { command, args: ['-m', 'flowrun', 'lsp'], interpreter, managed };
}

/**
 * Picks the Python that runs the server: the interpreter itself when it has flowrun, else the
 * managed venv when it has flowrun; undefined when flowrun must be installed first.
 */
export async function chooseServerPython(
  interpreter: Interpreter,
  storageDir: string,
  probe: (python: string) => Promise<Probe> = probeInterpreter,
): Promise<{ launch?: ServerLaunch; probe: Probe }> {
  const own = await probe(interpreter.path);
  if (own.usable && own.hasFlowrun) {
    return { launch: launchFor(interpreter.path, interpreter, false), probe: own };
  }
  const managed = managedPython(storageDir);
  if (existsSync(managed)) {
    const venv = await probe(managed);
    if (venv.usable && venv.hasFlowrun) {
      return { launch: launchFor(managed, interpreter, true), probe: own };
    }
  }
  return { probe: own };
}
