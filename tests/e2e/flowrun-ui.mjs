// The Flowrun parts of the VS Code UI, as a person sees them: CodeLens above a workflow, and the
// Executions tree of the Flowrun view container (workflow → execution → node → Input / Output /
// Error / Logs).
import { linesText, pickQuickItem, quickPickRows, runCommand, TIMEOUT, until } from "./vscode.mjs";

export const VIEW_TITLE = "Executions";
const ENDED = ["succeeded", "failed", "stopped", "timed_out", "interrupted"];

/** The Problems panel's aria-label of a marker ("… at line 5 and character 11. …"). */
export function problemAt(ariaLabel, line, column) {
  return ariaLabel.includes(`at line ${line} and character ${column}`);
}

export async function clickCodeLens(page, text) {
  const lens = page.locator(".editor-group-container.active .codelens-decoration a", {
    hasText: text,
  });
  await until(async () => lens.first().isVisible(), `no "${text}" CodeLens above the workflow`);
  await lens.first().click();
}

function viewPane(page) {
  return page.locator(".pane", { has: page.locator(".pane-header", { hasText: VIEW_TITLE }) });
}

/** The words above the view: the side bar's title and the view's own header. */
export async function viewHeading(page) {
  const title = await page.locator(".part.sidebar .composite.title").first().textContent();
  const header = await viewPane(page).locator(".pane-header").first().textContent();
  return `${title ?? ""} / ${header ?? ""}`.replace(/\s+/g, " ").trim();
}

/** Make the Flowrun Executions view visible (its view container may be closed). */
export async function showExecutionsView(page) {
  const pane = viewPane(page);
  if (
    await pane
      .locator(".pane-body")
      .isVisible()
      .catch(() => false)
  ) {
    return pane;
  }
  await runCommand(page, `Flowrun: Focus on ${VIEW_TITLE} View`);
  await until(
    async () => pane.locator(".pane-body").isVisible(),
    `the ${VIEW_TITLE} view is not shown`,
  );
  return pane;
}

/** Rows the tree draws now: {name, description, level, expanded, icon, iconColor}. */
export async function rows(page) {
  const pane = await showExecutionsView(page);
  return pane.locator(".monaco-list-row").evaluateAll((elements) =>
    elements
      .map((row) => {
        const icon = row.querySelector(".custom-view-tree-node-item-icon");
        return {
          index: Number(row.getAttribute("data-index")),
          name: row.querySelector(".label-name")?.textContent?.trim() ?? "",
          description: row.querySelector(".label-description")?.textContent?.trim() ?? "",
          level: Number(row.getAttribute("aria-level") || "0"),
          expanded: row.getAttribute("aria-expanded"),
          selected:
            row.classList.contains("selected") || row.getAttribute("aria-selected") === "true",
          icon: icon ? icon.className : "",
          iconColor: icon ? getComputedStyle(icon).color : "",
        };
      })
      .sort((a, b) => a.index - b.index),
  );
}

/** The rows of the newest execution of a workflow: [executionRow, ...its descendants]. */
function newestExecution(all, workflowId) {
  const start = all.findIndex((row) => row.level === 1 && row.name === workflowId);
  if (start < 0 || !all[start + 1] || all[start + 1].level !== 2) {
    return null;
  }
  const end = all.findIndex((row, i) => i > start + 1 && row.level <= 2);
  return all.slice(start + 1, end < 0 ? all.length : end);
}

export function statusOf(row) {
  return row.description.split(" · ")[0];
}

/** Wait until the newest execution of `workflowId` in the tree has `status`; returns its rows. */
export async function waitForExecution(page, workflowId, status, timeoutMs = TIMEOUT) {
  return until(
    async () => {
      const execution = newestExecution(await rows(page), workflowId);
      return execution && statusOf(execution[0]) === status && execution;
    },
    `the ${VIEW_TITLE} view shows no ${status} execution of workflow "${workflowId}"`,
    timeoutMs,
  );
}

/** The short id of the newest execution of `workflowId` in the tree, or null. */
export async function newestExecutionId(page, workflowId) {
  return newestExecution(await rows(page), workflowId)?.[0].name ?? null;
}

/**
 * The first picture of the tree in which the newest execution of `workflowId`, other than
 * `before` (a short id), has ended: {execution: its status, nodes: {id: status}}. Taken as
 * often as the tree can be read, so a node that the view shows late (a stale tree) is caught.
 */
export async function firstEndedPicture(page, workflowId, before, timeoutMs = TIMEOUT) {
  return until(
    async () => {
      const execution = newestExecution(await rows(page), workflowId);
      const fresh = execution && execution[0].name !== before;
      if (!fresh || !ENDED.includes(statusOf(execution[0]))) {
        return null;
      }
      const nodes = execution.filter((row) => row.level === 3);
      return {
        execution: statusOf(execution[0]),
        nodes: Object.fromEntries(nodes.map((row) => [row.name, statusOf(row)])),
      };
    },
    `the ${VIEW_TITLE} view shows no ended execution of workflow "${workflowId}"`,
    timeoutMs,
  );
}

function isGreen(color) {
  const [r, g, b] = (color.match(/\d+(\.\d+)?/g) || []).map(Number);
  return g > 100 && g > r * 1.3 && g > b;
}

/** Wait until a node of the newest execution shows `status` (and, for succeeded, a green icon). */
export async function waitForNode(page, workflowId, nodeId, status) {
  return until(
    async () => {
      const execution = newestExecution(await rows(page), workflowId);
      const node = execution?.find((row) => row.level === 3 && row.name === nodeId);
      if (!node || statusOf(node) !== status) {
        return null;
      }
      if (
        status === "succeeded" &&
        !(node.icon.includes("codicon-pass") && isGreen(node.iconColor))
      ) {
        return null;
      }
      return node;
    },
    `node "${nodeId}" of the newest "${workflowId}" execution does not show ${status}` +
      (status === "succeeded" ? " with a green icon" : ""),
  );
}

function rowAt(page, row) {
  return viewPane(page).locator(`.monaco-list-row[data-index="${row.index}"]`);
}

/** Expand a node of the newest execution of a workflow and return its detail row (Output…). */
export async function nodePartRow(page, workflowId, nodeId, part) {
  const findNode = async () => {
    const execution = newestExecution(await rows(page), workflowId);
    const at = execution?.findIndex((row) => row.level === 3 && row.name === nodeId) ?? -1;
    return at < 0 ? null : { execution, at };
  };
  const found = await until(findNode, `node "${nodeId}" is not in the newest "${workflowId}" run`);
  const node = found.execution[found.at];
  if (node.expanded === "false") {
    await rowAt(page, node).locator(".monaco-tl-twistie").click();
  }
  const detail = await until(async () => {
    const { execution, at } = (await findNode()) ?? {};
    const below = execution?.slice(at + 1) ?? [];
    const end = below.findIndex((row) => row.level <= 3);
    const parts = end < 0 ? below : below.slice(0, end);
    return parts.find((row) => row.name === part);
  }, `node "${nodeId}" has no ${part} item`);
  return rowAt(page, detail);
}

/** Click a node's Input / Output / Error / Logs item (opens it as a read-only document). */
export async function openNodePart(page, workflowId, nodeId, part) {
  const row = await nodePartRow(page, workflowId, nodeId, part);
  await row.click();
  return row;
}

/** In the Stop Execution… quick pick (items "<workflow> · <short id>"), pick a run of a workflow. */
export async function pickRunningExecution(page, workflowId) {
  await pickQuickItem(page, `${workflowId} ·`, "Flowrun: Stop Execution…");
}

function historyItemText(workflowId, shortId) {
  return shortId ? `${workflowId} · ${shortId}` : `${workflowId} ·`;
}

/** Wait until the Show History… quick pick lists the run (items "<workflow> · <short id>"). */
export async function waitForHistoryItem(page, workflowId, shortId) {
  const text = historyItemText(workflowId, shortId);
  await until(
    async () => (await quickPickRows(page)).some((row) => row.includes(text)),
    `Flowrun: Show History… does not list "${text}"`,
  );
}

/** In the Show History… quick pick, pick the run with this short id (or any run of workflowId). */
export async function pickHistoryItem(page, workflowId, shortId) {
  await pickQuickItem(page, historyItemText(workflowId, shortId), "Flowrun: Show History…");
}

/** After a history pick: the tree shows that execution selected, under its workflow, expanded. */
export async function waitForShownExecution(page, workflowId, shortId) {
  return until(
    async () => {
      const all = await rows(page);
      const at = all.findIndex((row) => row.level === 2 && row.selected);
      if (at < 0 || (shortId && all[at].name !== shortId)) {
        return null;
      }
      const parent = all
        .slice(0, at)
        .reverse()
        .find((row) => row.level === 1);
      const children = all[at + 1]?.level === 3;
      return parent?.name === workflowId && children && all[at];
    },
    `the ${VIEW_TITLE} view does not show the picked "${workflowId}" run ${shortId ?? ""} ` +
      "selected and expanded",
  );
}

/** The view's description in its header (the extension names a mode filter there), or "". */
export async function viewDescription(page) {
  const pane = await showExecutionsView(page);
  const description = pane.locator(".pane-header .description").first();
  return ((await description.textContent().catch(() => "")) ?? "").trim();
}

/** The execution rows (level 2) of a workflow as the tree draws them now. */
export async function executionRows(page, workflowId) {
  const all = await rows(page);
  const start = all.findIndex((row) => row.level === 1 && row.name === workflowId);
  if (start < 0) {
    return [];
  }
  const end = all.findIndex((row, i) => i > start && row.level === 1);
  return all.slice(start + 1, end < 0 ? all.length : end).filter((row) => row.level === 2);
}

/** Click the inline action (by its title) of a tree row, which shows when the row is hovered. */
export async function clickRowAction(page, row, title) {
  const element = rowAt(page, row);
  await element.hover();
  const action = element.locator(`.action-label[aria-label="${title}"]`);
  await until(async () => action.isVisible(), `the row "${row.name}" has no "${title}" action`);
  await action.click();
}

/** Rows of the Test Explorer (the Testing side bar): {name, state} (state from its icon). */
export async function testRows(page) {
  return page.locator(".part.sidebar .monaco-list-row").evaluateAll((elements) =>
    elements.map((row) => {
      const state = /testing-(passed|failed|error|queued|running|unset|skipped)-icon/.exec(
        row.innerHTML,
      );
      const label = row.querySelector(".label-name") || row.querySelector(".monaco-icon-label");
      return {
        name: (label?.textContent || row.textContent || "").trim(),
        expanded: row.getAttribute("aria-expanded"),
        state: state ? state[1] : "",
      };
    }),
  );
}

/** Expand a collapsed row of the Test Explorer (a file, to show its tests). */
export async function expandTestRow(page, name) {
  const row = page.locator(".part.sidebar .monaco-list-row", { hasText: name }).first();
  if ((await row.getAttribute("aria-expanded")) === "false") {
    await row.locator(".monaco-tl-twistie").click();
  }
}

/** Wait until the Test Explorer shows each named test in the given state. */
export async function waitForTests(page, expected) {
  let seen = [];
  try {
    await until(async () => {
      seen = await testRows(page);
      return Object.entries(expected).every(([name, state]) =>
        seen.some((row) => row.name.startsWith(name) && row.state === state),
      );
    }, `the Test Explorer does not show ${JSON.stringify(expected)}`);
  } catch (error) {
    throw new Error(`${error.message}; it shows ${JSON.stringify(seen)}`);
  }
}

/**
 * Peek a failed test's error as a person does: right-click the failed ✖ in the gutter of the
 * test's `- name:` line (the line must be on screen) and pick "Peek Error". Returns the peek's
 * title (the failure message and the test's name).
 */
export async function peekTestFailure(page) {
  const glyph = page
    .locator(".editor-group-container.active .codicon-testing-failed-icon.testing-run-glyph")
    .first();
  await until(async () => glyph.isVisible(), "no failed test's ✖ in the editor's gutter");
  const entry = page.locator(".monaco-menu .action-label", { hasText: "Peek Error" }).first();
  await until(async () => {
    if (!(await entry.isVisible())) {
      await page.keyboard.press("Escape");
      await glyph.click({ button: "right" });
      await entry.waitFor({ state: "visible", timeout: 5000 });
    }
    return true;
  }, 'the ✖ has no "Peek Error" in its context menu');
  // With breakpoints in workflow files the gutter's menu also lists the debugger's actions;
  // a click on its item leaves it open here, the keyboard picks it as a person can.
  await entry.hover();
  await page.keyboard.press("Enter");
  const peek = page.locator(".editor-group-container.active .peekview-widget").first();
  await until(async () => peek.isVisible(), "Peek Error shows no peek");
  return (await peek.locator(".peekview-title").textContent()) || "";
}

/** The 1-based line of the active editor's cursor (the status bar's "Ln N, Col M"). */
export async function cursorLine(page) {
  const text = await page.locator("#status\\.editor\\.selection").textContent();
  const match = /Ln (\d+)/.exec(text || "");
  return match ? Number(match[1]) : null;
}

/** Click the open peek's "Open in Editor": a diff editor tab for a diff message. */
export async function openPeekInEditor(page) {
  const peek = page.locator(".editor-group-container.active .peekview-widget").first();
  await peek.locator('.action-label[aria-label="Open in Editor"]').first().click();
}

/** The texts of the active diff editor's two sides (original: expected, modified: actual). */
export async function activeDiff(page) {
  const diff = page.locator(".editor-group-container.active .editor-instance .monaco-diff-editor");
  await until(async () => diff.first().isVisible(), "no diff editor is open");
  const side = (cls) => linesText(diff.first().locator(`.editor.${cls} .view-lines`).first());
  return { expected: await side("original"), actual: await side("modified") };
}
