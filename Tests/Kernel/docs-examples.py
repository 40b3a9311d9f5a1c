#!/usr/bin/env python3
"""Extracts the command examples of the Markdown guides and man-page EXAMPLES for Tests/Kernel/t-docs.sh.

Convention (Documentation/testing.md):
  * A fenced block tagged ```sh holds commands: every non-blank line that is not a '#' comment is run, in
    order, with bash, in the guide's network namespace. Other tags (```text, ```ini, none) are shown, not run.
  * HTML comments on their own lines just before a block (blank lines allowed) change how it runs:
      <!-- skip: REASON -->   do not run it (needs real hosts, changes the host...); reported as SKIP
      <!-- ns: NAME -->       run it in namespace NAME of this guide (default: main)
      <!-- exit: N -->        every command of the block must exit N (default 0)
      <!-- setup: COMMAND --> a harness step run before the block (e.g. put a sample file in place)
      <!-- file: PATH -->     (on a block that is not sh) write the block's text to PATH, for later examples
      <!-- output -->         (on a block that is not sh) the standard output of the command just before
                              must be exactly the block's text
  * A line starting with 'lvsctl <subcommand>' in a block that is not ```sh is an error: an example that
    would never be run.
  * In Documentation/man/EXAMPLES-*.mdoc, every 'lvsctl ...' line inside .Bd -literal ... .Ed is a command;
    a comment line '.\" setup: COMMAND' is a harness step.
Output: one record per line, fields separated by \\x1f: source, line, ns, kind (run|skip|setup|bad), exit,
reason, command.
"""
import re, sys, glob, os, base64

SUB = ("vs|virtual-server|rs|real-server|list|bundle|persistence|save|restore|apply|import|zero|clear|"
       "timeout|daemon|connections|info|dr|sysctl|help|--netns|--version|--help")
LVSCTL_LINE = re.compile(r"^\s*(\$ |# )?lvsctl\s+(" + SUB + r")\b")
MARK = re.compile(r"^\s*<!--\s*(skip|ns|exit|setup|file|output)(?::\s*(.*?))?\s*-->\s*$")
out = []

def emit(src, line, ns, kind, code, reason, cmd):
    for f in (src, ns, kind, reason, cmd):
        assert "\x1f" not in f and "\n" not in f
    out.append("\x1f".join([src, str(line), ns, kind, str(code), reason, cmd]))

def markdown(path):
    lines = open(path, encoding="utf-8").read().split("\n")
    marks = {}
    i = 0
    while i < len(lines):
        l = lines[i]
        m = MARK.match(l)
        if m:
            k, v = m.group(1), m.group(2) or ""
            if k == "setup": marks.setdefault("setup", []).append((i + 1, v))
            else: marks[k] = v
            i += 1; continue
        f = re.match(r"^\s*```\s*(\S*)\s*$", l)
        if f:
            tag = f.group(1); start = i + 1; i += 1
            body = []
            while i < len(lines) and not re.match(r"^\s*```\s*$", lines[i]):
                body.append((i + 1, lines[i])); i += 1
            i += 1  # closing fence
            ns = marks.get("ns", "main"); code = marks.get("exit", "0")
            if tag == "sh":
                if "skip" in marks:
                    for n, c in body:
                        c = c.strip()
                        if c and not c.startswith("#"): emit(path, n, ns, "skip", code, marks["skip"], c)
                else:
                    for n, c in marks.get("setup", []): emit(path, n, ns, "setup", 0, "", c)
                    for n, c in body:
                        c = c.strip()
                        if c.startswith("$ "): c = c[2:]
                        if c and not c.startswith("#"): emit(path, n, ns, "run", code, "", c)
            else:
                if "output" in marks:
                    text = "".join(c + "\n" for _, c in body)
                    emit(path, start, ns, "output", 0, "", base64.b64encode(text.encode()).decode())
                if "file" in marks:
                    text = "".join(c + "\n" for _, c in body)
                    emit(path, start, ns, "file", 0, marks["file"], base64.b64encode(text.encode()).decode())
                for n, c in body:
                    if LVSCTL_LINE.match(c):
                        emit(path, n, ns, "bad", 0, f"lvsctl example in a ```{tag or '(untagged)'} block (tag it sh to run it, or text)", c.strip())
            marks = {}
            continue
        if l.strip(): marks = {}  # markers apply only to the block right after them
        i += 1

def mdoc(path):
    inlit = False
    for n, l in enumerate(open(path, encoding="utf-8").read().split("\n"), 1):
        m = re.match(r'^\.\\" setup: (.*)$', l)
        if m: emit(path, n, "main", "setup", 0, "", m.group(1)); continue
        if l.startswith(".Bd -literal"): inlit = True; continue
        if l.startswith(".Ed"): inlit = False; continue
        if inlit and l.startswith("lvsctl "): emit(path, n, "main", "run", 0, "", l.strip())

for p in sys.argv[1:]:
    (mdoc if p.endswith(".mdoc") else markdown)(p)
print("\n".join(out))
