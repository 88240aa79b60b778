// The VS Code debugger as a person uses it: a breakpoint in the gutter, the Call Stack and
// Variables views of Run and Debug, the Debug Console.
import { goToLineEnd, linesText, runCommand, until } from "./vscode.mjs";

function pane(page, title) {
  return page.locator(".pane", { has: page.locator(".pane-header", { hasText: title }) });
}

/** Put a breakpoint on a 1-based line of the active editor; wait for its dot in the gutter. */
export async function toggleBreakpoint(page, line) {
  const dots = page.locator(".editor-group-container.active .codicon-debug-breakpoint");
  const before = await dots.count();
  await goToLineEnd(page, line);
  await runCommand(page, "Debug: Toggle Breakpoint");
  await until(async () => (await dots.count()) > before, `no breakpoint dot at line ${line}`);
}

/** The rows a debug view (Call Stack, Variables) draws now, as their text. */
export async function paneRows(page, title) {
  return pane(page, title)
    .locator(".monaco-list-row")
    .evaluateAll((rows) => rows.map((row) => (row.textContent || "").replace(/\s+/g, " ").trim()));
}

/** Expand the row of a variable (or scope) named `name` in the Variables view. */
export async function expandVariable(page, name) {
  // a scope's row reads "nodes", a variable's "add = {…}"
  const label = new RegExp(`^\\s*${name}\\s*(=|$)`);
  const row = pane(page, "Variables").locator(".monaco-list-row").filter({ hasText: label });
  await until(async () => row.first().isVisible(), `the Variables view has no "${name}"`);
  if ((await row.first().getAttribute("aria-expanded")) === "false") {
    await row.first().locator(".monaco-tl-twistie").click();
  }
}

/** Hover the mouse over `text` in the active editor; what the debugger's hover shows. */
export async function hoverValue(page, text) {
  const token = page.locator(".editor-group-container.active .view-line span span", {
    hasText: text,
  });
  await token.last().hover();
  const hover = page.locator(".debug-hover-widget");
  await until(async () => hover.isVisible(), `the debugger shows no hover over "${text}"`);
  // innerText: what is drawn (the widget also holds a <style>)
  return (await hover.evaluate((e) => e.innerText)).replace(/\s+/g, " ").trim();
}

/** Type an expression into the Debug Console's input and press Enter (a closing bracket the
 * editor added is typed over). */
export async function evaluateInConsole(page, expression) {
  await runCommand(page, "Focus on Debug Console View");
  const input = page.locator(".repl-input-wrapper .monaco-editor").first();
  await input.waitFor({ state: "visible" });
  await input.click();
  await page.keyboard.type(expression);
  await until(
    async () => (await linesText(input.locator(".view-lines"))) === expression,
    `the Debug Console's input does not read ${expression}`,
  );
  await page.keyboard.press("Enter");
}

/** The Debug Console's lines, as their text. */
export async function consoleLines(page) {
  return page
    .locator(".repl .monaco-list-row")
    .evaluateAll((rows) => rows.map((row) => (row.textContent || "").replace(/\s+/g, " ").trim()));
}
