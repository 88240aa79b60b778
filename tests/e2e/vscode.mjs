// What a person does in VS Code, as playwright-core calls on the code-server page:
// the command palette, quick pick, quick open, the editor and the Problems panel.
import { setTimeout as sleep } from "node:timers/promises";

export const TIMEOUT = 30000;

/**
 * Poll `probe` until it returns a truthy value; else throw `what` (a string, or a function called
 * then) with the last value seen.
 */
export async function until(probe, what, timeoutMs = TIMEOUT) {
  const deadline = Date.now() + timeoutMs;
  let last;
  while (Date.now() < deadline) {
    try {
      last = await probe();
      if (last) {
        return last;
      }
    } catch (error) {
      last = `error: ${error.message}`;
    }
    await sleep(250);
  }
  const message = typeof what === "function" ? what() : what;
  throw new Error(`${message} (waited ${timeoutMs} ms; last seen: ${JSON.stringify(last)})`);
}

export async function waitForWorkbench(page) {
  await page.locator(".monaco-workbench").waitFor({ timeout: 90000 });
  // The status bar is drawn once the extension host is connected.
  await page.locator(".statusbar").waitFor({ timeout: 90000 });
}

async function quickInput(page) {
  const widget = page.locator(".quick-input-widget");
  await widget.waitFor({ state: "visible", timeout: TIMEOUT });
  return widget;
}

async function closeQuickInput(page) {
  const widget = page.locator(".quick-input-widget");
  if (await widget.isVisible()) {
    await page.keyboard.press("Escape");
    await widget.waitFor({ state: "hidden", timeout: TIMEOUT });
  }
}

/** Labels of the rows the quick input shows now. */
export async function quickPickRows(page) {
  const rows = page.locator(".quick-input-widget .monaco-list-row");
  return rows.evaluateAll((elements) =>
    elements.map((e) => e.getAttribute("aria-label") || e.textContent || ""),
  );
}

/** Run a command from the palette (F1) by its full title, e.g. "Flowrun: Show History…". */
export async function runCommand(page, title) {
  await closeQuickInput(page);
  await page.keyboard.press("F1");
  const widget = await quickInput(page);
  const input = widget.locator("input");
  await input.fill(`>${title}`);
  const row = widget.locator(".monaco-list-row", { hasText: title }).first();
  await until(async () => row.isVisible(), `the command palette has no command "${title}"`);
  await row.click();
}

/** Wait for the quick pick to show a row containing `text` and pick it. */
export async function pickQuickItem(page, text, what) {
  const widget = await quickInput(page);
  const row = widget.locator(".monaco-list-row", { hasText: text }).first();
  try {
    await until(async () => row.isVisible(), `${what}: no item containing "${text}"`);
  } catch (error) {
    const items = await quickPickRows(page).catch(() => []);
    throw new Error(`${error.message}; the quick pick shows ${JSON.stringify(items)}`);
  }
  await row.click();
}

/** Open a workspace file with quick open (Ctrl+P) and wait for its editor tab to be active. */
export async function openFile(page, name) {
  await closeQuickInput(page);
  await page.keyboard.press("Control+P");
  const widget = await quickInput(page);
  await widget.locator("input").fill(name);
  const row = widget.locator(".monaco-list-row", { hasText: name }).first();
  await until(async () => row.isVisible(), `quick open does not find ${name}`);
  await page.keyboard.press("Enter");
  await activeTab(page, name);
  await page.locator(".editor-instance .monaco-editor .view-lines").first().waitFor();
}

export async function activeTab(page, label) {
  const tab = page.locator(".tabs-container .tab.active", { hasText: label });
  await until(async () => tab.isVisible(), `the editor tab "${label}" is not active`);
  return tab;
}

/** Text of the visible editor lines of the active editor (Monaco draws only what is visible). */
export async function activeEditorText(page) {
  const lines = page.locator(".editor-group-container.active .monaco-editor .view-lines");
  return linesText(lines.first());
}

/** The text of one Monaco editor's `.view-lines`, its rows in the order they are drawn. */
export async function linesText(viewLines) {
  return viewLines.evaluate((element) => {
    const rows = [...element.querySelectorAll(".view-line")];
    rows.sort((a, b) => parseFloat(a.style.top) - parseFloat(b.style.top));
    return rows.map((row) => row.textContent.replace(/\u00a0/g, " ")).join("\n");
  });
}

/** Put the cursor at the end of a 1-based line with Go to Line (Ctrl+G), then End. */
export async function goToLineEnd(page, line) {
  await page.locator(".editor-group-container.active .monaco-editor textarea").first().focus();
  await page.keyboard.press("Control+G");
  const widget = await quickInput(page);
  await widget.locator("input").fill(`:${line}`);
  await page.keyboard.press("Enter");
  await widget.waitFor({ state: "hidden", timeout: TIMEOUT });
  await page.keyboard.press("End");
}

/** Open the Problems panel (Ctrl+Shift+M) unless it is open. */
export async function showProblems(page) {
  const panel = page.locator(".markers-panel");
  if (!(await panel.isVisible())) {
    await page.keyboard.press("Control+Shift+M");
    await panel.waitFor({ state: "visible", timeout: TIMEOUT });
  }
  return panel;
}

/** Aria-labels of the Problems panel's rows ("Error: <message> at line 5 and character 11…"). */
export async function problemRows(page) {
  const panel = await showProblems(page);
  return panel
    .locator(".monaco-list-row")
    .evaluateAll((rows) => rows.map((row) => row.getAttribute("aria-label") || row.textContent));
}

export async function screenshot(page, file) {
  await page.screenshot({ path: file });
  return file;
}
