"""What the command-line programs share: help layout, the ``error: ...`` ending, Markdown tables.

The thin scripts in ``tools/`` and the package's own CLIs (``python -m repose_tf.train`` and the
``repose-*`` console scripts) parse their arguments and print; the work is done by the package.
This module holds the parts every one of them would otherwise write again:

- :class:`HelpFormatter`: the module docstring as the description, defaults shown;
- :func:`refuse` / :func:`fail`: ``error: MESSAGE`` on stderr and exit status 2 (a usage or
  input error: returned by ``main`` / raised as ``SystemExit``);
- :func:`markdown_table`: the rows of a Markdown table (the reports under docs/ are built of them);
- :func:`write_marked_section` / :func:`invocation`: a report's block in a Markdown file and the
  command line that made it;
- :func:`absl_main`: run an absl-flags CLI so that ``--help`` prints its docstring and flags and
  exits 0, also from a console script (absl's own ``--help`` exits 1 and, there, shows neither).
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NoReturn

#: Exit status of a refused command line or input (argparse uses the same for its usage errors).
USAGE_ERROR = 2


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """The module docstring as description; defaults shown where they say something."""

    def _get_help_string(self, action):
        h = action.help or ""
        if action.default not in (None, False, argparse.SUPPRESS) and "default" not in h:
            h += " (default: %(default)s)"
        return h


def error(message: object) -> None:
    """Print ``error: MESSAGE`` on stderr (one line: what is wrong and what to do)."""
    print(f"error: {message}", file=sys.stderr)


def refuse(message: object) -> int:
    """``error: MESSAGE`` on stderr; returns 2, the exit status of a refused command line or input."""
    error(message)
    return USAGE_ERROR


def fail(message: object, code: int = USAGE_ERROR) -> NoReturn:
    """``error: MESSAGE`` on stderr, then exit with ``code`` (2: the command line or its input)."""
    error(message)
    sys.exit(code)


def markdown_table(head: Sequence[object], rows: Sequence[Sequence[object]], align: str = "l") -> list[str]:
    """The lines of a Markdown table: header, alignment row, one line per row.

    ``align`` has one letter per column, ``l`` (left) or ``r`` (right, for numbers); when shorter
    than the header its last letter stands for the remaining columns (``"llr"``: two text columns,
    then numbers).
    """
    if not align or set(align) - {"l", "r"}:
        raise ValueError(f"align: letters l/r, got {align!r}")
    marks = [("---:" if a == "r" else "---") for a in align.ljust(len(head), align[-1])[: len(head)]]
    return [f"| {' | '.join(str(c) for c in r)} |" for r in (head, marks, *rows)]


def invocation(script: str, argv=None) -> str:
    """The command line that produced a report, as written into docs (``python tools/X.py ...``)."""
    return shlex.join(["python", f"tools/{script}", *map(str, argv if argv is not None else sys.argv[1:])])


def write_marked_section(path, start: str, end: str, text: str, heading: str = "") -> None:
    """Put ``text`` between the ``start``/``end`` markers of a Markdown file, atomically.

    Everything outside the markers is kept. Without markers the block is appended (after
    ``heading`` if given); a missing file is created with a "# Benchmarks"-style title line.
    """
    path = Path(path)
    block = f"{start}\n{text.rstrip(chr(10))}\n{end}"
    lead = f"{heading}\n\n" if heading else ""
    if path.is_file():
        doc = path.read_text(encoding="utf-8")
        if start in doc and end in doc:
            a, b = doc.index(start), doc.index(end) + len(end)
            doc = doc[:a] + block + doc[b:]
        else:
            doc = doc.rstrip("\n") + "\n\n" + lead + block + "\n"
    else:
        doc = f"# {path.stem.replace('_', ' ').capitalize()}\n\n" + lead + block + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(doc, encoding="utf-8")
    os.replace(tmp, path)


_HELP = ("--help", "-h", "-?", "--helpshort", "--helpfull")


def _wants_help(args: Sequence[str]) -> bool:
    args = list(args)
    if "--" in args:
        args = args[: args.index("--")]
    return any(a in _HELP or a.split("=", 1)[0] in ("--help", "--helpfull") for a in args)


def absl_main(
    module: str,
    doc: str | None,
    define_flags: Callable[[], None],
    main: Callable[[list[str]], object],
    argv: Sequence[str] | None = None,
    prog: str = "",
) -> int:
    """Register an absl CLI's flags, then ``--help`` (status 0) or ``absl.app.run(main)``.

    ``module``: the ``__name__`` the flags were defined under (``"__main__"`` for ``python -m``);
    ``doc``: the CLI's docstring; ``prog``: how the usage line names the program (default: the
    console script's name, ``argv[0]``).
    """
    from absl import app, flags

    argv = list(sys.argv if argv is None else argv)
    define_flags()
    if _wants_help(argv[1:]):
        fv = flags.FLAGS
        helptext = fv.get_help() if "--helpfull" in argv else fv.module_help(module)
        name = Path(argv[0]).name if argv and argv[0] else prog
        if prog and name.endswith(".py"):  # python -m repose_tf.X
            name = prog
        print(f"usage: {name} [flags]\n\n{(doc or '').strip()}\n\nflags:\n{helptext}")
        return 0
    app.run(main, argv=argv)
    return 0
