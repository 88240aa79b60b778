// Starts and stops the real parts of the end-to-end test: code-server (VS Code in the browser)
// with the built Flowrun extension, and Debian's Chromium driven by playwright-core.
// Every process it starts gets its own process group; stopAll() kills those groups by pid,
// and the pids are also written to a file so run.sh can kill them if this process dies.
import { spawn } from "node:child_process";
import {
  appendFileSync,
  cpSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { createRequire } from "node:module";
import net from "node:net";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

const CHROMIUM_FLAGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** Environment given by run.sh (from scripts/e2e-setup.sh); fails loudly when a value is missing. */
export function config() {
  const need = (name) => {
    const value = process.env[name];
    if (!value) {
      throw new Error(`${name} is not set: run the test through tests/e2e/run.sh`);
    }
    return value;
  };
  return {
    node: need("FLOWRUN_E2E_NODE"),
    codeServer: need("FLOWRUN_E2E_CODE_SERVER"),
    playwright: need("FLOWRUN_E2E_PLAYWRIGHT"),
    vsix: need("FLOWRUN_E2E_VSIX"),
    python: need("FLOWRUN_E2E_PYTHON"),
    artifacts: need("FLOWRUN_E2E_ARTIFACTS"),
    fixtures: need("FLOWRUN_E2E_FIXTURES"),
    chromium: process.env.FLOWRUN_E2E_CHROMIUM || "/usr/bin/chromium",
  };
}

export class Processes {
  constructor(pidFile) {
    this.pidFile = pidFile;
    this.groups = [];
    writeFileSync(pidFile, "");
  }

  /** Remember a process group leader (a process spawned with detached: true). */
  track(pid, what) {
    this.groups.push({ pid, what });
    appendFileSync(this.pidFile, `${pid} ${what}\n`);
  }

  /** SIGTERM every group, then SIGKILL what is still there after a grace period. */
  async stopAll(graceMs = 5000) {
    for (const { pid } of this.groups) {
      signalGroup(pid, "SIGTERM");
    }
    const deadline = Date.now() + graceMs;
    while (Date.now() < deadline && this.groups.some(({ pid }) => groupAlive(pid))) {
      await sleep(100);
    }
    for (const { pid } of this.groups) {
      signalGroup(pid, "SIGKILL");
    }
    this.groups = [];
  }

  /**
   * Processes that escaped their group still carry RUN_MARKER in their environment (code-server,
   * Chromium and their children) or run in the test's workspace (what a workflow started: the
   * engine gives it a fresh environment). Find them by pid and kill them; returns what it found.
   */
  sweep(workspace) {
    const found = markedProcesses(workspace);
    for (const { pid } of found) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
    return found;
  }

  /** Last resort from an exit handler: synchronous, no waiting. */
  killNow() {
    for (const { pid } of this.groups) {
      signalGroup(pid, "SIGKILL");
    }
  }
}

/** Set in the environment of everything the test starts, to find it again by pid. */
export const RUN_MARKER = `${process.pid}-${Date.now()}`;
const MARKER_ENTRY = `FLOWRUN_E2E_RUN=${RUN_MARKER}`;

function markedProcesses(workspace) {
  const found = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) {
      continue;
    }
    try {
      const environ = readFileSync(`/proc/${name}/environ`, "utf8").split("\0");
      const cwd = readlinkSync(`/proc/${name}/cwd`);
      const inWorkspace = workspace && (cwd === workspace || cwd.startsWith(`${workspace}/`));
      if (environ.includes(MARKER_ENTRY) || inWorkspace) {
        const cmdline = readFileSync(`/proc/${name}/cmdline`, "utf8").replaceAll("\0", " ");
        found.push({ pid: Number(name), cmdline: cmdline.trim().slice(0, 160) });
      }
    } catch {
      // gone meanwhile, or not ours to read
    }
  }
  return found;
}

function signalGroup(pid, signal) {
  try {
    process.kill(-pid, signal);
  } catch (error) {
    if (error.code !== "ESRCH") {
      throw error;
    }
  }
}

function groupAlive(pid) {
  try {
    process.kill(-pid, 0);
    return true;
  } catch {
    return false;
  }
}

export async function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Spawn a process in a new process group, output appended to a log file; returns the child. */
function spawnLogged(processes, what, command, args, logFile, env = process.env) {
  const fd = openSync(logFile, "a");
  const child = spawn(command, args, { detached: true, stdio: ["ignore", fd, fd], env });
  processes.track(child.pid, what);
  return child;
}

function exited(child) {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) {
      resolve(child.exitCode);
    } else {
      child.once("exit", (code) => resolve(code));
    }
  });
}

/**
 * `flowrun serve DIR` on a free loopback port, in its own process group, recording into the
 * workspace's history (what the editor's server reads): the production side of Debug in Editor.
 */
export class FlowrunServe {
  constructor(cfg, processes, folder, db) {
    this.cfg = cfg;
    this.processes = processes;
    this.folder = folder;
    this.db = db;
  }

  async start() {
    this.port = await freePort();
    const args = ["-m", "flowrun", "serve", this.folder, "--port", String(this.port)];
    args.push("--db", this.db, "--warm", "1", "--grace", "5s");
    const log = path.join(this.cfg.artifacts, "flowrun-serve.log");
    const env = { ...process.env, FLOWRUN_E2E_RUN: RUN_MARKER };
    this.child = spawnLogged(this.processes, "flowrun serve", this.cfg.python, args, log, env);
    const deadline = Date.now() + 60000;
    while (Date.now() < deadline) {
      const health = await fetch(this.url("/healthz")).catch(() => null);
      if (health?.status === 200) {
        return this;
      }
      if (this.child.exitCode !== null) {
        break;
      }
      await sleep(250);
    }
    throw new Error(`flowrun serve did not answer /healthz on port ${this.port} (see ${log})`);
  }

  url(route) {
    return `http://127.0.0.1:${this.port}${route}`;
  }

  /** SIGTERM (a graceful drain) and wait for the exit; returns the exit code. */
  async stop() {
    signalGroup(this.child.pid, "SIGTERM");
    return exited(this.child);
  }
}

/** A fresh copy of the fixture workspace, so a run never edits the repository's files. */
export function prepareWorkspace(cfg) {
  const workspace = path.join(cfg.artifacts, "workspace");
  rmSync(workspace, { recursive: true, force: true });
  cpSync(cfg.fixtures, workspace, { recursive: true });
  // Its own history: without a .flowrun folder here the server would use the repository's
  // (the nearest .git), and runs of earlier test runs would show in the tree.
  mkdirSync(path.join(workspace, ".flowrun"));
  return workspace;
}

function writeUserSettings(userDataDir, cfg) {
  const userDir = path.join(userDataDir, "User");
  mkdirSync(userDir, { recursive: true });
  const settings = {
    "security.workspace.trust.enabled": false,
    "workbench.startupEditor": "none",
    "workbench.tips.enabled": false,
    "workbench.enableExperiments": false,
    "extensions.ignoreRecommendations": true,
    "extensions.autoCheckUpdates": false,
    "extensions.autoUpdate": false,
    "telemetry.telemetryLevel": "off",
    "update.mode": "none",
    "git.enabled": false,
    "files.autoSave": "off",
    "editor.quickSuggestions": { other: false, comments: false, strings: false },
    "editor.suggestOnTriggerCharacters": false,
    "editor.acceptSuggestionOnEnter": "off",
    "editor.minimap.enabled": false,
    "window.dialogStyle": "custom",
    "workbench.colorTheme": "Default Light Modern",
    "workbench.secondarySideBar.defaultVisibility": "hidden",
    "chat.disableAIFeatures": true,
    "chat.commandCenter.enabled": false,
    "remote.autoForwardPorts": false,
  };
  writeFileSync(path.join(userDir, "settings.json"), JSON.stringify(settings, null, 2));
  // code-server is a remote window: machine-scoped settings such as flowrun.python are read from
  // the remote's Machine settings, not from the browser's User settings.
  const machineDir = path.join(userDataDir, "Machine");
  mkdirSync(machineDir, { recursive: true });
  const machine = { "flowrun.python": cfg.python };
  writeFileSync(path.join(machineDir, "settings.json"), JSON.stringify(machine, null, 2));
}

// code-server asks its extension gallery (open-vsx) about installed extensions; point it at a
// closed loopback port so nothing leaves the machine and the answer is an immediate refusal.
const CODE_SERVER_ENV = {
  ...process.env,
  FLOWRUN_E2E_RUN: RUN_MARKER,
  EXTENSIONS_GALLERY: JSON.stringify({ serviceUrl: "http://127.0.0.1:9/gallery" }),
};

export class CodeServer {
  constructor(cfg, processes) {
    this.cfg = cfg;
    this.processes = processes;
    const root = path.join(cfg.artifacts, "code-server");
    rmSync(root, { recursive: true, force: true });
    this.userDataDir = path.join(root, "user-data");
    this.extensionsDir = path.join(root, "extensions");
    this.log = path.join(cfg.artifacts, "code-server.log");
    // Our own (empty) config file, so code-server does not write one into ~/.config.
    this.configFile = path.join(root, "config.yaml");
    mkdirSync(this.extensionsDir, { recursive: true });
    writeFileSync(this.log, "");
    writeFileSync(this.configFile, "");
    writeUserSettings(this.userDataDir, cfg);
  }

  baseArgs() {
    return [
      this.cfg.codeServer,
      "--user-data-dir",
      this.userDataDir,
      "--extensions-dir",
      this.extensionsDir,
      "--disable-telemetry",
      "--disable-update-check",
      "--config",
      this.configFile,
    ];
  }

  async installExtension() {
    const args = [...this.baseArgs(), "--install-extension", this.cfg.vsix];
    const child = spawnLogged(
      this.processes,
      "install-extension",
      this.cfg.node,
      args,
      this.log,
      CODE_SERVER_ENV,
    );
    const code = await exited(child);
    if (code !== 0) {
      throw new Error(
        `installing ${this.cfg.vsix} into code-server failed (exit ${code}); see ${this.log}`,
      );
    }
  }

  async start(workspace) {
    this.port = await freePort();
    const args = [
      ...this.baseArgs(),
      "--auth",
      "none",
      "--bind-addr",
      `127.0.0.1:${this.port}`,
      "--disable-workspace-trust",
      "--disable-getting-started-override",
      workspace,
    ];
    this.child = spawnLogged(
      this.processes,
      "code-server",
      this.cfg.node,
      args,
      this.log,
      CODE_SERVER_ENV,
    );
    await this.waitHealthy();
    return `http://127.0.0.1:${this.port}/?folder=${encodeURIComponent(workspace)}`;
  }

  async waitHealthy(timeoutMs = 60000) {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (this.child.exitCode !== null) {
        throw new Error(`code-server exited with ${this.child.exitCode}; see ${this.log}`);
      }
      try {
        const response = await fetch(`http://127.0.0.1:${this.port}/healthz`);
        if (response.ok) {
          return;
        }
      } catch {
        // not listening yet
      }
      await sleep(250);
    }
    throw new Error(
      `code-server did not answer on port ${this.port} in ${timeoutMs} ms; see ${this.log}`,
    );
  }
}

/** Launch Chromium through playwright-core's launchServer, so its pid is known and tracked. */
export async function launchBrowser(cfg, processes) {
  const require = createRequire(import.meta.url);
  const { chromium } = require(cfg.playwright);
  const server = await chromium.launchServer({
    executablePath: cfg.chromium,
    headless: true,
    args: CHROMIUM_FLAGS,
    env: { ...process.env, FLOWRUN_E2E_RUN: RUN_MARKER },
  });
  const pid = server.process().pid;
  processes.track(pid, "chromium");
  const browser = await chromium.connect(server.wsEndpoint());
  return { server, browser };
}
