/**
 * The user-facing side of interpreter resolution: resolve the launch, offer to install the
 * bundled flowrun wheel when the interpreter lacks it, and the Select Interpreter quick pick.
 */
import * as os from 'node:os';
import * as vscode from 'vscode';
import { offer, SELECT_INTERPRETER, SHOW_OUTPUT } from './actions';
import { Launch } from './client';
import { Logger } from './logger';
import {
  bundledWheel,
  chooseServerPython,
  EnvironmentProvider,
  installSteps,
  InstallTarget,
  Interpreter,
  resolveInterpreter,
  runSteps,
} from './python';
import { readSettings, serverOptions, Settings } from './settings';

export function workspaceFolder(): string | undefined {
  return vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
}

export function currentSettings(): Settings {
  const config = vscode.workspace.getConfiguration('flowrun');
  return readSettings((key) => config.get(key), {
    workspaceFolder: workspaceFolder(),
    userHome: os.homedir(),
    env: process.env,
  });
}

export class InterpreterSetup {
  private prompting = false;

  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly logger: Logger,
    private readonly provider: () => EnvironmentProvider | undefined,
    private readonly restart: () => void,
  ) {}

  private get storageDir(): string {
    return this.context.globalStorageUri.fsPath;
  }

  async resolveLaunch(): Promise<Launch | undefined> {
    const settings = currentSettings();
    const interpreter = await resolveInterpreter(
      settings.python,
      this.provider(),
      workspaceFolder(),
    );
    const { launch, probe } = await chooseServerPython(interpreter, this.storageDir);
    if (launch !== undefined) {
      return {
        server: launch,
        options: serverOptions(settings, interpreter.path),
        cwd: workspaceFolder(),
      };
    }
    if (!probe.usable) {
      this.logger.error(probe.problem ?? `${interpreter.path} cannot be used.`);
      void offer(
        `Flowrun: ${probe.problem ?? ''} Select a Python 3.11+ interpreter (setting flowrun.python).`,
        [SELECT_INTERPRETER],
      );
    } else {
      this.logger.warn(`${interpreter.path} (${interpreter.source}) has no flowrun package.`);
      void this.offerInstall(interpreter);
    }
    return undefined;
  }

  private async offerInstall(interpreter: Interpreter): Promise<void> {
    if (this.prompting) {
      return;
    }
    this.prompting = true;
    try {
      const wheel = bundledWheel(this.context.extensionPath);
      const intoInterpreter = 'Install into It';
      const intoManaged = 'Separate Environment';
      const select = 'Select Interpreter';
      const choices = wheel ? [intoInterpreter, intoManaged, select] : [select];
      const choice = await vscode.window.showWarningMessage(
        `Flowrun: the Python at ${interpreter.path} (from ${SOURCES[interpreter.source]}) ` +
          'does not have the flowrun package, so the Flowrun server cannot start. ' +
          (wheel
            ? 'Install the bundled flowrun into it, or into a separate environment that ' +
              'Flowrun manages (your workflows still run on your interpreter)?'
            : 'Select an interpreter that has it.'),
        ...choices,
      );
      if (choice === select) {
        await vscode.commands.executeCommand('flowrun.selectInterpreter');
      } else if (choice === intoInterpreter || choice === intoManaged) {
        await this.install(
          interpreter,
          wheel!,
          choice === intoInterpreter ? 'interpreter' : 'managed',
        );
      }
    } finally {
      this.prompting = false;
    }
  }

  private async install(
    interpreter: Interpreter,
    wheel: string,
    target: InstallTarget,
  ): Promise<void> {
    const steps = installSteps(interpreter.path, wheel, target, this.storageDir);
    const result = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: 'Flowrun: installing flowrun…' },
      () => runSteps(steps, (line) => this.logger.info(line)),
    );
    if (result.ok) {
      void vscode.window.showInformationMessage('Flowrun: flowrun installed. Starting the server.');
      this.restart();
      return;
    }
    await offer("Flowrun: installing flowrun failed. The Flowrun output has pip's messages.", [
      SHOW_OUTPUT,
    ]);
  }
}

const SOURCES: Record<Interpreter['source'], string> = {
  setting: 'the flowrun.python setting',
  pythonExtension: "the Python extension's selected interpreter",
  path: 'python3 on PATH',
};

interface InterpreterPick extends vscode.QuickPickItem {
  /** The new flowrun.python ('' clears it); undefined when the user cancelled. */
  value(): Thenable<string | undefined> | string;
}

/** "Flowrun: Select Python Interpreter": writes flowrun.python (the restart follows the change). */
export async function selectInterpreter(hasPythonExtension: boolean): Promise<void> {
  const { python } = currentSettings();
  const folder = workspaceFolder();
  const venv = folder && vscode.Uri.joinPath(vscode.Uri.file(folder), '.venv', 'bin', 'python');
  const title = 'Flowrun: Select Python Interpreter';
  const items: InterpreterPick[] = [
    {
      label: hasPythonExtension
        ? "$(python) Use the Python extension's interpreter"
        : '$(terminal) Use python3 on PATH',
      description: python ? `instead of ${python}` : 'current',
      value: () => '',
    },
    ...(venv
      ? [{ label: venv.fsPath, description: 'workspace .venv', value: () => venv.fsPath }]
      : []),
    {
      label: '$(edit) Enter interpreter path…',
      value: () =>
        vscode.window.showInputBox({
          title: 'Flowrun: Python interpreter path',
          value: python,
          prompt: 'Path of a Python 3.11+ executable (variables like ${workspaceFolder} work)',
        }),
    },
    {
      label: '$(folder) Browse…',
      value: async () =>
        (
          await vscode.window.showOpenDialog({
            canSelectMany: false,
            openLabel: 'Use this Python',
            title,
          })
        )?.[0]?.fsPath,
    },
  ];
  const placeHolder = python
    ? `Current: ${python}`
    : 'Python that runs the Flowrun server and workflows';
  const value = await (await vscode.window.showQuickPick(items, { title, placeHolder }))?.value();
  if (value !== undefined) {
    const target = folder
      ? vscode.ConfigurationTarget.Workspace
      : vscode.ConfigurationTarget.Global;
    await vscode.workspace.getConfiguration('flowrun').update('python', value || undefined, target);
  }
}
