/**
 * Flowrun settings, typed and resolved in one place (pure: reads through a getter, so
 * tests pass a plain object). Variables: ${workspaceFolder}, ${userHome}, ${env:NAME}.
 */

export type TraceLevel = 'off' | 'messages' | 'verbose';

export interface Settings {
  python: string;
  historyPath: string;
  historyUrl: string;
  maxConcurrentRuns: number;
  trace: TraceLevel;
}

/** What the server gets as initializationOptions (and through workspace/configuration). */
export interface ServerOptions {
  python?: string;
  historyPath?: string;
  historyUrl?: string;
  maxConcurrentRuns: number;
}

export type ConfigGetter = (key: string) => unknown;

export interface Environment {
  workspaceFolder?: string;
  userHome: string;
  env: Record<string, string | undefined>;
}

export const DEFAULT_MAX_CONCURRENT_RUNS = 4;

/**
 * Settings whose change needs a server restart (the interpreter or the store moves).
 * maxConcurrentRuns reaches the running server through workspace/configuration.
 */
export const RESTART_KEYS = ['flowrun.python', 'flowrun.historyPath', 'flowrun.historyUrl'];

export function readSettings(get: ConfigGetter, environment: Environment): Settings {
  const text = (key: string): string => {
    const value = get(key);
    return typeof value === 'string' ? expandVariables(value.trim(), environment) : '';
  };
  const runs = get('maxConcurrentRuns');
  const trace = get('trace.server');
  return {
    python: text('python'),
    historyPath: text('historyPath'),
    historyUrl: text('historyUrl'),
    maxConcurrentRuns:
      typeof runs === 'number' && Number.isInteger(runs) && runs >= 1
        ? Math.min(runs, 64)
        : DEFAULT_MAX_CONCURRENT_RUNS,
    trace: trace === 'messages' || trace === 'verbose' ? trace : 'off',
  };
}

export function expandVariables(value: string, environment: Environment): string {
  return value
    .replace(/\$\{([^}]+)\}/g, (whole, name: string) => {
      if (name === 'workspaceFolder') {
        return environment.workspaceFolder ?? whole;
      }
      if (name === 'userHome') {
        return environment.userHome;
      }
      if (name.startsWith('env:')) {
        return environment.env[name.slice(4)] ?? '';
      }
      return whole;
    })
    .replace(/^~(?=$|[\\/])/, environment.userHome);
}

export function serverOptions(settings: Settings, python?: string): ServerOptions {
  const options: ServerOptions = { maxConcurrentRuns: settings.maxConcurrentRuns };
  const chosen = python ?? settings.python;
  if (chosen) {
    options.python = chosen;
  }
  if (settings.historyPath) {
    options.historyPath = settings.historyPath;
  }
  if (settings.historyUrl) {
    options.historyUrl = settings.historyUrl;
  }
  return options;
}

/** True when a configuration change touches a setting that needs a restart. */
export function needsRestart(affects: (key: string) => boolean): boolean {
  return RESTART_KEYS.some((key) => affects(key));
}
