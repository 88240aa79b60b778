"""What `flowrun init` writes: a commented starter workflow that validates clean and runs
offline, the `.gitignore` entries and the header of `.env.example`."""

from __future__ import annotations

STARTER_NAME = "hello.workflow.yml"
GITIGNORE_ENTRIES = (".flowrun/", ".env")
ENV_EXAMPLE_HEADER = """\
# The secrets your workflows declare under `secrets:`. Copy this file to .env (which git
# ignores) and fill in the values; the environment wins over .env. A run receives only the
# secrets its workflow declares.
"""

STARTER = r"""# A Flowrun workflow. Run it with:   flowrun run hello.workflow.yml
#                 or with an input:  flowrun run hello.workflow.yml --input who=Ada
# In VS Code (the Flowrun extension), use the "▶ Run Test" lens above `nodes:`.
# Every key is described in the file format reference (docs/format.md in Flowrun).
version: 1
name: Hello
description: A starter workflow. Edit it, copy it, or delete it.

# Inputs: typed values a run receives (--input NAME=VALUE); defaults make them optional.
inputs:
  who: {type: string, default: world}

# Python packages your python nodes import, checked before each run:
# requires: ["httpx>=0.27"]

# Secrets read from the environment or a .env file (see .env.example); never logged.
# A run receives only the secrets listed here.
# secrets: [MY_API_TOKEN]

nodes:
  # transform: computes a value from an expression; no process is started.
  - id: greeting
    type: transform
    with: {value: "Hello, ${{ inputs.who }}!"}

  # python: a `main` function; its arguments come from `args`, its return value is the
  # node's output.
  - id: count
    type: python
    needs: [greeting]
    with:
      code: |
        def main(text):
            print("counting the words of", text)
            return {"words": len(text.split())}
      args: {text: "${{ nodes.greeting.output }}"}

  # shell: values reach the command through `env`, never pasted into `run`
  # (a value containing quotes or `$(...)` would otherwise run as a command).
  - id: shout
    type: shell
    needs: [greeting]
    with:
      run: printf '%s\n' "$GREETING" | tr a-z A-Z
      env: {GREETING: "${{ nodes.greeting.output }}"}

# Outputs: what the run returns, shown at the end of `flowrun run`.
outputs:
  greeting: ${{ nodes.greeting.output }}
  words: ${{ nodes.count.output.words }}
  shouted: ${{ nodes.shout.output.stdout }}
"""
