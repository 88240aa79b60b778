/** One leveled output channel ("Flowrun"), echoed to the console when CI=true. */
import * as vscode from 'vscode';

export interface Logger {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
  debug(message: string): void;
}

export function createLogger(channel: vscode.LogOutputChannel): Logger {
  const echo = process.env.CI === 'true';
  const wrap =
    (level: 'info' | 'warn' | 'error' | 'debug') =>
    (message: string): void => {
      channel[level](message);
      if (echo) {
        console.log(`[flowrun ${level}] ${message}`);
      }
    };
  return { info: wrap('info'), warn: wrap('warn'), error: wrap('error'), debug: wrap('debug') };
}
