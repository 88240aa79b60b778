/** EnvironmentProvider over the Python extension (ms-python.python), when it is installed. */
import { PythonExtension } from '@vscode/python-extension';
import * as vscode from 'vscode';
import { EnvironmentProvider } from './python';

export interface PythonExtensionProvider extends EnvironmentProvider {
  onDidChange(listener: () => void): vscode.Disposable;
}

export async function pythonExtensionProvider(): Promise<PythonExtensionProvider | undefined> {
  if (vscode.extensions.getExtension('ms-python.python') === undefined) {
    return undefined;
  }
  const api = await PythonExtension.api();
  return {
    async activeInterpreter(folder?: string): Promise<string | undefined> {
      const resource = folder ? vscode.Uri.file(folder) : undefined;
      const active = api.environments.getActiveEnvironmentPath(resource);
      const resolved = await api.environments.resolveEnvironment(active);
      return resolved?.executable.uri?.fsPath;
    },
    onDidChange(listener: () => void): vscode.Disposable {
      return api.environments.onDidChangeActiveEnvironmentPath(() => listener());
    },
  };
}
