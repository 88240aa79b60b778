// Flowrun in a real VS Code: code-server + Debian's Chromium, driven by playwright-core.
// Each step does what a person does and takes a screenshot into artifacts/e2e/; a step that does
// not show what it should fails with the path of the screenshot of that moment.
// Run it through tests/e2e/run.sh, which installs the tools and builds the .vsix.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";

import {
  CodeServer,
  config,
  FlowrunServe,
  launchBrowser,
  prepareWorkspace,
  Processes,
} from "./harness.mjs";
import * as debug from "./debug-ui.mjs";
import * as flowrun from "./flowrun-ui.mjs";
import {
  activeEditorText,
  activeTab,
  goToLineEnd,
  openFile,
  pickQuickItem,
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
// A step that hangs fails after this (node:test then runs the cleanup in after()).
const STEP = { timeout: 150000 };
const SETUP = { timeout: 300000 };
// The first diagnostics wait for the extension to activate and start the language server.
const SERVER_START = 90000;
const EXPECTED_OUTPUT = '{"message": "hello from e2e", "total": 5}';
// Short id of the Run Test execution of step 3, picked again from the history in step 5.
let helloRun;

function nextShot(name) {
  shotCount += 1;
  return path.join(cfg.artifacts, `${String(shotCount).padStart(2, "0")}-${name}`);
}

/** Run one step's checks; screenshot after it, and on failure name that screenshot in the error. */
async function step(name, body) {
  try {
    await body();
  } catch (error) {
    const file = await screenshot(page, `${nextShot(name)}-FAILED.png`).catch(() => "(none)");
    throw new Error(`step "${name}" failed: ${error.message}\n  screenshot: ${file}`, {
      cause: error,
    });
  }
  await screenshot(page, `${nextShot(name)}.png`);
}

/**
 * The mistake in broken.workflow.yml as `flowrun validate` (same validator as the server) sees
 * it, checked against what the fixture was written to contain: `type: shel` on line 5.
 */
function brokenDiagnostic() {
  const [first] = cliDiagnostics(path.join(workspace, "broken.workflow.yml"));
  assert.equal(first?.code, "unknown-node-type", "broken.workflow.yml: expected an unknown type");
  const line = first.range.start.line + 1;
  const column = first.range.start.character + 1;
  assert.deepEqual([line, column], [5, 11], "broken.workflow.yml: `shel` is at line 5, col 11");
  return { message: first.message, line, column };
}

/** Whether a Problems panel row's aria-label is that diagnostic at that line and column. */
function shows(row, { message, line, column }) {
  return row.includes(message) && flowrun.problemAt(row, line, column);
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

/** /proc/<pid>/stat fields after the command name: [state, ppid, pgrp, ...]; null when gone. */
function procStat(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  } catch {
    return null;
  }
}

/** A pid is gone when it has no /proc entry, or when only its zombie entry is left. */
function processAlive(pid) {
  const stat = procStat(pid);
  return stat !== null && stat[0] !== "Z";
}

/** Live processes (not zombies) whose process group is `pgid`. */
function groupMembers(pgid) {
  return readdirSync("/proc")
    .filter((name) => /^\d+$/.test(name))
    .filter((pid) => {
      const stat = procStat(pid);
      return stat !== null && stat[0] !== "Z" && Number(stat[2]) === pgid;
    })
    .map(Number);
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
    // A loaded machine (several test suites at once) can take more than the default 30 s.
    await page.goto(url, { timeout: 180000 });
    await waitForWorkbench(page);
    await screenshot(page, path.join(cfg.artifacts, "00-workbench.png"));
  }, SETUP);

  after(async () => {
    await processes.stopAll();
    await sleep(500); // let a crash handler or a daemon's child notice its parent is gone
    for (const { pid, cmdline } of processes.sweep(workspace)) {
      console.log(`# e2e: killed pid ${pid}, which outlived its process group: ${cmdline}`);
    }
  });

  it("1. a workflow with a mistake shows its diagnostic in the Problems panel", STEP, async () => {
    await step("problems-panel", async () => {
      const expected = brokenDiagnostic();
      await openFile(page, "broken.workflow.yml");
      await until(
        async () => (await problemRows(page)).find((row) => shows(row, expected)),
        `the Problems panel shows no "${expected.message}" at line ${expected.line}, ` +
          `column ${expected.column}`,
        SERVER_START,
      );
    });
  });

  it("2. fixing the mistake by typing makes the problem disappear", STEP, async () => {
    await step("problem-fixed", async () => {
      const expected = brokenDiagnostic();
      await openFile(page, "broken.workflow.yml");
      await until(
        async () => (await problemRows(page)).some((row) => shows(row, expected)),
        `before the fix, the Problems panel does not show "${expected.message}"`,
      );
      await goToLineEnd(page, expected.line);
      await page.keyboard.type("l");
      await page.keyboard.press("Escape");
      await until(
        async () => (await activeEditorText(page)).includes("type: shell"),
        "the editor does not show the typed fix `type: shell`",
      );
      await until(
        async () => !(await problemRows(page)).some((row) => row.includes(expected.message)),
        `"${expected.message}" is still in the Problems panel after the fix`,
      );
    });
  });

  it(
    "3. ▶ Run Test runs the workflow; the tree shows green nodes and the output JSON",
    STEP,
    async () => {
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
        let text = "";
        await until(
          async () => {
            text = await activeEditorText(page);
            return text.includes('"hello from e2e"') && /"total":\s*5/.test(text);
          },
          () => `the output document of node greet shows ${text}, not ${EXPECTED_OUTPUT}`,
        );
      });
    },
  );

  it(
    "4. Flowrun: Stop Execution… stops a long run and leaves no process behind",
    STEP,
    async () => {
      let pids = [];
      let group = 0;
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
        // The run's process group (its child engine and everything it started), for the check
        // below and so that the test's own cleanup kills it if the stop does not.
        group = Number(procStat(pids[0])[2]);
        processes.track(group, "long workflow run");
        const members = groupMembers(group);
        assert.ok(
          pids.every((pid) => members.includes(pid)),
          `the node's shell and grandchild ${pids} are not both in the run's process group ` +
            `${group} (members: ${members})`,
        );
      });
      await step("stopped", async () => {
        await runCommand(page, "Flowrun: Stop Execution…");
        await flowrun.pickRunningExecution(page, "long");
        await flowrun.waitForExecution(page, "long", "stopped");
        await until(
          () => !pids.some(processAlive) && groupMembers(group).length === 0,
          `processes of the stopped run are still alive: node shell and grandchild ` +
            `${pids.filter(processAlive)}, process group ${group}: ${groupMembers(group)}`,
          15000,
        );
      });
    },
  );

  it("5. Flowrun: Show History… picks an earlier run", STEP, async () => {
    await step("history", async () => {
      await runCommand(page, "Flowrun: Show History…");
      await flowrun.waitForHistoryItem(page, "hello", helloRun);
      await screenshot(page, `${nextShot("history-list")}.png`);
      await flowrun.pickHistoryItem(page, "hello", helloRun);
      await flowrun.waitForShownExecution(page, "hello", helloRun);
    });
  });

  it(
    "6. a python node that raises shows the error with traceback and suggestion",
    STEP,
    async () => {
      await step("python-error", async () => {
        await openFile(page, "fails.workflow.yml");
        await flowrun.clickCodeLens(page, "Run Test");
        await flowrun.waitForExecution(page, "fails", "failed");
        await flowrun.waitForNode(page, "fails", "parse", "failed");
      });
      await step("python-error-detail", async () => {
        const row = await flowrun.nodePartRow(page, "fails", "parse", "Error");
        const summary = await row.textContent();
        assert.match(summary, /ExecutionError/, `the Error item of node parse says "${summary}"`);
        await row.click();
        await activeTab(page, "parse.error.txt");
        let text = "";
        await until(
          async () => {
            text = await activeEditorText(page);
            return (
              text.includes("ValueError: invalid literal for int()") &&
              text.includes("Traceback (most recent call last)") &&
              text.includes("return int(text)") &&
              /Suggestion: \S/.test(text)
            );
          },
          () =>
            `the error document of node parse lacks the ValueError, the traceback or a ` +
            `suggestion:\n${text}`,
        );
      });
    },
  );

  it(
    "7. the moment a run ends, the tree shows every node's final status (read-your-writes)",
    STEP,
    async () => {
      await step("ended-at-once", async () => {
        await openFile(page, "ends.workflow.yml");
        const before = await flowrun.newestExecutionId(page, "ends");
        await flowrun.clickCodeLens(page, "Run Test");
        const picture = await flowrun.firstEndedPicture(page, "ends", before);
        assert.deepEqual(
          picture,
          {
            execution: "succeeded",
            nodes: { one: "succeeded", two: "succeeded", three: "succeeded", never: "skipped" },
          },
          "the first picture of the ended run in the tree is not final (no refresh was asked for)",
        );
        const heading = await flowrun.viewHeading(page);
        assert.doesNotMatch(heading, /flowrun:? flowrun executions/i, `the view reads "${heading}"`);
      });
    },
  );

  it("8. a failure handler (`when: ${{ failure() }}`) runs after its node failed", STEP, async () => {
    await step("failure-handler", async () => {
      await openFile(page, "notify.workflow.yml");
      await flowrun.clickCodeLens(page, "Run Test");
      await flowrun.waitForExecution(page, "notify", "failed");
      await flowrun.waitForNode(page, "notify", "risky", "failed");
      await flowrun.waitForNode(page, "notify", "notify", "succeeded");
    });
  });

  it(
    "9. Debug in Editor re-runs a production execution of `flowrun serve` in test mode",
    STEP,
    async () => {
      let production = "";
      await step("production-execution", async () => {
        const folder = path.join(workspace, "serve");
        const db = path.join(workspace, ".flowrun", "history.sqlite3");
        const serve = await new FlowrunServe(cfg, processes, folder, db).start();
        try {
          const answer = await fetch(serve.url("/hook"), {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: JSON.stringify({ order: 42 }),
          });
          const body = await answer.json();
          assert.equal(answer.status, 200, `POST /hook answered ${JSON.stringify(body)}`);
          assert.deepEqual(body, { order: 42, mode: "production" });
          production = answer.headers.get("x-flowrun-execution-id").slice(0, 8);
        } finally {
          assert.equal(await serve.stop(), 0, "flowrun serve did not exit 0 on SIGTERM");
        }
        await runCommand(page, "Flowrun: Refresh Executions");
        await until(
          async () => {
            const row = (await flowrun.executionRows(page, "hook")).find(
              (r) => r.name === production,
            );
            return row?.description.startsWith("production · succeeded");
          },
          `the Executions view shows no "production · succeeded" execution ${production} of hook`,
        );
      });
      await step("filtered-by-mode", async () => {
        await runCommand(page, "Flowrun: Filter by Mode…");
        await pickQuickItem(page, "production", "Flowrun: Filter by Mode");
        await until(
          async () => (await flowrun.viewDescription(page)) === "production only",
          "the Executions view does not say it shows production executions only",
        );
        await until(
          async () => {
            const all = await flowrun.rows(page);
            const workflows = all.filter((row) => row.level === 1).map((row) => row.name);
            const shown = all.filter((row) => row.level === 2).map((row) => row.name);
            return workflows.join() === "hook" && shown.join() === production;
          },
          `with the production filter the view does not show only execution ${production}`,
        );
      });
      await step("debug-in-editor", async () => {
        const [row] = await flowrun.executionRows(page, "hook");
        await flowrun.clickRowAction(page, row, "Debug in Editor");
        await activeTab(page, "hook.workflow.yml");
        const [execution] = await flowrun.waitForExecution(page, "hook", "succeeded");
        assert.notEqual(execution.name, production, "the re-run is a new execution");
        assert.equal(await flowrun.viewDescription(page), "", "the run started is shown");
        await flowrun.openNodePart(page, "hook", "seen", "Output");
        await activeTab(page, "seen.output.json");
        let text = "";
        await until(
          async () => /"order":\s*42/.test((text = await activeEditorText(page))),
          () => `the re-run did not see the production request (order 42): ${text}`,
        );
        await flowrun.openNodePart(page, "hook", "mode", "Output");
        await activeTab(page, "mode.output.json");
        await until(
          async () => /"stdout":\s*"test"/.test((text = await activeEditorText(page))),
          () => `the re-run did not run in test mode: ${text}`,
        );
      });
    },
  );

  const TWO_STEPS = { timeout: 2 * STEP.timeout };
  it("10. Test Explorer: one test passes, one fails; its diff opens", TWO_STEPS, async () => {
    await step("test-explorer", async () => {
      await page.locator('.activitybar .action-item a[aria-label^="Testing"]').first().click();
      await until(
        async () => (await flowrun.testRows(page)).some((r) => r.name === "tested.workflow.yml"),
        "the Test Explorer does not list tested.workflow.yml",
      );
      await flowrun.expandTestRow(page, "tested.workflow.yml");
      await runCommand(page, "Test: Run All Tests");
      await flowrun.waitForTests(page, {
        "says hello": "passed",
        "expects a different greeting": "failed",
      });
    });
    await step("test-failure-diff", async () => {
      const lines = readFileSync(path.join(workspace, "tested.workflow.yml"), "utf8").split("\n");
      const testLine = lines.indexOf("  - name: expects a different greeting") + 1;
      const expectationLine = lines.findIndex((line) => line.includes("good morning!")) + 1;
      assert.ok(testLine > 0 && expectationLine > testLine, "tested.workflow.yml changed");
      await openFile(page, "tested.workflow.yml");
      await goToLineEnd(page, testLine); // its ✖ on screen, the cursor away from the expectation
      const title = await flowrun.peekTestFailure(page);
      assert.match(title, /expect\.outputs\.said: expected "good morning!", got "hello!"/);
      await until(
        async () => (await flowrun.cursorLine(page)) === expectationLine,
        `the peek is not at the failed expectation (line ${expectationLine})`,
      );
      await flowrun.openPeekInEditor(page);
      await activeTab(page, "ExpectedOutput");
      let diff;
      await until(
        async () => {
          diff = await flowrun.activeDiff(page);
          return diff.expected === '"good morning!"' && diff.actual === '"hello!"';
        },
        () => `the diff editor shows ${JSON.stringify(diff)}, not "good morning!" vs "hello!"`,
      );
    });
  });

  it("11. Debugger: a breakpoint pauses ⏵ Debug; Variables, Debug Console", TWO_STEPS, async () => {
    const lines = readFileSync(path.join(workspace, "debug.workflow.yml"), "utf8").split("\n");
    const reportLine = lines.indexOf("  - id: report") + 1;
    assert.ok(reportLine > 0, "debug.workflow.yml changed");
    await step("debug-paused", async () => {
      await openFile(page, "debug.workflow.yml");
      await debug.toggleBreakpoint(page, reportLine + 1); // on the node's `type:` line
      await flowrun.clickCodeLens(page, "Debug");
      let stack = [];
      await until(
        async () => (stack = await debug.paneRows(page, "Call Stack")).some((r) => /report/.test(r)),
        () => `the Call Stack does not show the paused node "report": ${JSON.stringify(stack)}`,
        SERVER_START,
      );
      await debug.expandVariable(page, "nodes");
      await debug.expandVariable(page, "add");
      let variables = [];
      await until(
        async () =>
          (variables = await debug.paneRows(page, "Variables")).some((r) =>
            /^output ?= ?\{sum: 42\}$/.test(r),
          ),
        () => `the Variables view shows no output {sum: 42} of add: ${JSON.stringify(variables)}`,
      );
      const hovered = await debug.hoverValue(page, "nodes.add.output.sum");
      assert.match(hovered, /\b42\b/, `the hover over the expression shows "${hovered}"`);
    });
    await step("debug-console", async () => {
      await debug.evaluateInConsole(page, "${{ nodes.add.output.sum * 2 }}");
      let shown = [];
      await until(
        async () => (shown = await debug.consoleLines(page)).includes("84"),
        () => `the Debug Console shows no 84: ${JSON.stringify(shown)}`,
      );
    });
    await step("debug-continue", async () => {
      await runCommand(page, "Debug: Continue");
      let shown = [];
      await until(
        async () =>
          (shown = await debug.consoleLines(page)).some((l) => /execution \S+ succeeded/.test(l)),
        () => `the Debug Console does not say the execution succeeded: ${JSON.stringify(shown)}`,
      );
      await flowrun.waitForExecution(page, "debug", "succeeded");
    });
  });
});
