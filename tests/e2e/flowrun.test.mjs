// Flowrun in a real VS Code: code-server + Debian's Chromium, driven by playwright-core.
// Each step does what a person does and takes a screenshot into artifacts/e2e/; a step that does
// not show what it should fails with the path of the screenshot of that moment.
// Run it through tests/e2e/run.sh, which installs the tools and builds the .vsix.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { after, before, describe, it } from "node:test";

import { CodeServer, config, launchBrowser, prepareWorkspace, Processes } from "./harness.mjs";
import * as flowrun from "./flowrun-ui.mjs";
import {
  activeEditorText,
  activeTab,
  goToLineEnd,
  openFile,
  problemRows,
  runCommand,
  screenshot,
  until,
  waitForWorkbench,
} from "./vscode.mjs";

const cfg = config();
const processes = new Processes(process.env.FLOWRUN_E2E_PIDS || path.join(cfg.artifacts, "pids"));
process.on("exit", () => processes.killNow());

let page;
let workspace;
let shotCount = 0;
let helloRun; // short id of the Run Test execution of step 3, picked again from the history in step 5

/** Run one step's checks; screenshot after it, and on failure name that screenshot in the error. */
async function step(name, body) {
  shotCount += 1;
  const base = path.join(cfg.artifacts, `${String(shotCount).padStart(2, "0")}-${name}`);
  try {
    await body();
  } catch (error) {
    const file = await screenshot(page, `${base}-FAILED.png`).catch(() => "(no screenshot)");
    throw new Error(`step "${name}" failed: ${error.message}\n  screenshot: ${file}`, {
      cause: error,
    });
  }
  await screenshot(page, `${base}.png`);
}

/** What `flowrun validate --format json` says about a file: the CLI shares the validator. */
function cliDiagnostics(file) {
  const result = spawnSync(cfg.python, ["-m", "flowrun", "validate", "--format", "json", file], {
    encoding: "utf8",
  });
  try {
    return JSON.parse(result.stdout);
  } catch {
    throw new Error(`flowrun validate --format json ${file} printed no JSON: ${result.stderr}`);
  }
}

function readPid(file) {
  const full = path.join(workspace, file);
  if (!existsSync(full)) {
    return null;
  }
  const pid = Number.parseInt(readFileSync(full, "utf8").trim(), 10);
  return Number.isInteger(pid) && pid > 0 ? pid : null;
}

/** A pid is gone when signal 0 fails, or when only its zombie entry is left. */
function processAlive(pid) {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
  } catch {
    return false;
  }
}

describe("Flowrun in a real VS Code (code-server + Chromium)", { concurrency: 1 }, () => {
  before(async () => {
    workspace = prepareWorkspace(cfg);
    const codeServer = new CodeServer(cfg, processes);
    await codeServer.installExtension();
    const url = await codeServer.start(workspace);
    const { browser } = await launchBrowser(cfg, processes);
    const context = await browser.newContext({ viewport: { width: 1600, height: 1000 } });
    page = await context.newPage();
    await page.goto(url);
    await waitForWorkbench(page);
    await screenshot(page, path.join(cfg.artifacts, "00-workbench.png"));
  });

  after(async () => {
    await processes.stopAll();
  });

  it("1. a workflow with a mistake shows its diagnostic in the Problems panel", async () => {
    const file = "broken.workflow.yml";
    const [expected] = cliDiagnostics(path.join(workspace, file));
    assert.equal(expected.code, "unknown-node-type", "the fixture's mistake is an unknown type");
    assert.equal(expected.range.start.line, 4, "the fixture's mistake is on line 5");
    await step("problems-panel", async () => {
      await openFile(page, file);
      const line = expected.range.start.line + 1;
      const column = expected.range.start.character + 1;
      await until(async () => {
        const rows = await problemRows(page);
        return rows.find((row) => row.includes(expected.message) && flowrun.problemAt(row, line, column));
      }, `the Problems panel shows no "${expected.message}" at line ${line}, column ${column}`);
    });
  });

  it("2. fixing the mistake by typing makes the problem disappear", async () => {
    await step("problem-fixed", async () => {
      await openFile(page, "broken.workflow.yml");
      await until(
        async () => (await problemRows(page)).some((row) => row.includes("shel")),
        "before the fix, the Problems panel does not show the unknown node type `shel`",
      );
      await goToLineEnd(page, 5);
      await page.keyboard.type("l");
      await page.keyboard.press("Escape");
      await until(
        async () => (await activeEditorText(page)).includes("type: shell"),
        "the editor does not show the typed fix `type: shell`",
      );
      await until(async () => {
        const rows = await problemRows(page);
        return !rows.some((row) => row.includes("shel")) && rows;
      }, "the unknown-node-type problem is still in the Problems panel after the fix");
    });
  });

  it("3. ▶ Run Test runs the workflow; the tree shows green nodes and the output JSON", async () => {
    await step("run-test", async () => {
      await openFile(page, "hello.workflow.yml");
      await flowrun.clickCodeLens(page, "Run Test");
      const [execution] = await flowrun.waitForExecution(page, "hello", "succeeded");
      helloRun = execution.name;
      await flowrun.waitForNode(page, "hello", "add", "succeeded");
      await flowrun.waitForNode(page, "hello", "greet", "succeeded");
    });
    await step("node-output", async () => {
      await flowrun.openNodePart(page, "hello", "greet", "Output");
      await activeTab(page, "greet.output.json");
      await until(async () => {
        const text = await activeEditorText(page);
        return text.includes('"hello from e2e"') && /"total":\s*5/.test(text);
      }, 'the output document of node greet does not show {"message": "hello from e2e", "total": 5}');
    });
  });

  it("4. Flowrun: Stop Execution… stops a long run and leaves no process behind", async () => {
    let pids = [];
    await step("long-running", async () => {
      await openFile(page, "long.workflow.yml");
      await flowrun.clickCodeLens(page, "Run Test");
      await flowrun.waitForExecution(page, "long", "running");
      pids = await until(() => {
        const shell = readPid(".long-shell.pid");
        const grandchild = readPid(".long-grandchild.pid");
        return shell && grandchild ? [shell, grandchild] : null;
      }, "the long workflow's shell node did not write its pid files");
      assert.ok(pids.every(processAlive), `the long run's processes ${pids} are not running`);
    });
    await step("stopped", async () => {
      await runCommand(page, "Flowrun: Stop Execution…");
      await flowrun.pickRunningExecution(page, "long");
      await flowrun.waitForExecution(page, "long", "stopped");
      await until(
        () => !pids.some(processAlive),
        `processes of the stopped run are still alive: ${pids.filter(processAlive)}`,
        15000,
      );
    });
  });

  it("5. Flowrun: Show History… picks an earlier run", async () => {
    await step("history", async () => {
      await runCommand(page, "Flowrun: Show History…");
      await flowrun.pickHistoryItem(page, "hello", helloRun);
      await flowrun.waitForShownExecution(page, "hello", helloRun);
    });
  });

  it("6. a python node that raises shows the error with traceback and suggestion", async () => {
    await step("python-error", async () => {
      await openFile(page, "fails.workflow.yml");
      await flowrun.clickCodeLens(page, "Run Test");
      await flowrun.waitForExecution(page, "fails", "failed");
      await flowrun.waitForNode(page, "fails", "parse", "failed");
    });
    await step("python-error-detail", async () => {
      await flowrun.openNodePart(page, "fails", "parse", "Error");
      await activeTab(page, "parse.error.txt");
      await until(async () => {
        const text = await activeEditorText(page);
        return (
          text.includes("invalid literal for int()") &&
          text.includes("Traceback") &&
          text.includes("return int(text)") &&
          /suggest/i.test(text) &&
          text
        );
      }, "the error of node parse does not show the message, the traceback and a suggestion");
    });
  });
});
