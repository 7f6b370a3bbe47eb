"""Run the project's command-line tools inside the test process (this module has no tests).

A subprocess of ``sys.executable`` imports TensorFlow afresh (5-10 s each on a 2-core machine), so a
test whose subject is what a tool does (its output files, its printed table, its one-line refusals
and exit status) calls the tool's own ``main(argv)`` here instead, through the same argument parsing.
Tests whose subject needs a process of its own keep a real subprocess: a SIGKILL and ``--resume``, two
workers, another Keras backend, "TensorFlow is not imported", QAT's legacy-Keras process.

``run_tool("trunk.py", "status")`` -> ``Result(returncode, stdout, stderr)`` like
``subprocess.run(..., capture_output=True, text=True)``. An exception a tool does not turn into an
exit status propagates (a subprocess would have printed it as a traceback, which every test refuses).

``train_cli(*argv)`` runs ``python -m repose_tf.train ARGV`` the same way: the CLI's absl flags
(``repose_tf.train.define_flags`` / ``config_from_flags``, so ``--resume`` takes a run's saved
choices) and the training engine. Keras' global dtype policy (which the engine sets: bfloat16 where
the CPU has it) is put back afterwards, so the rest of the session still builds float32 models.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import os
import sys
from pathlib import Path
from typing import NamedTuple

REPO = Path(__file__).resolve().parents[1]
TOOLS = REPO / "tools"
_modules: dict[str, object] = {}


class Result(NamedTuple):
    returncode: int
    stdout: str
    stderr: str


def tool_module(script: str):
    """``tools/<script>`` imported once per session (as the script itself would be run)."""
    name = script.removesuffix(".py")
    if name == "qat":
        raise ValueError("tools/qat.py sets TF_USE_LEGACY_KERAS=1 on import: run it in a subprocess")
    if name not in _modules:
        if str(TOOLS) not in sys.path:
            sys.path.insert(0, str(TOOLS))  # a script sees its own directory first
        spec = importlib.util.spec_from_file_location(f"_tool_{name}", TOOLS / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module  # dataclasses (and pickling) look their module up by name
        spec.loader.exec_module(module)
        _modules[name] = module
    return _modules[name]


def _exit_code(e: SystemExit) -> int:
    if e.code is None:
        return 0
    if isinstance(e.code, int):
        return e.code
    print(e.code, file=sys.stderr)  # sys.exit("message"): printed, status 1
    return 1


@contextlib.contextmanager
def _kept_policy():
    import keras

    policy = keras.mixed_precision.global_policy().name
    try:
        yield
    finally:
        keras.mixed_precision.set_global_policy(policy)


def _call(fn, cwd=None) -> Result:
    out, err = io.StringIO(), io.StringIO()
    here = os.getcwd()
    code = 0
    try:
        if cwd is not None:
            os.chdir(cwd)
        with _kept_policy(), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = fn() or 0
            except SystemExit as e:
                code = _exit_code(e)
    finally:
        os.chdir(here)
    return Result(int(code), out.getvalue(), err.getvalue())


def run_tool(script: str, *args, cwd=None) -> Result:
    """``python tools/<script> ARGS`` in this process (``cwd``: the directory it runs in)."""
    main = tool_module(script).main
    return _call(lambda: main([str(a) for a in args]), cwd=cwd)


def train_cli(*args, check: bool = True) -> Result:
    """``python -m repose_tf.train --progress=false ARGS`` in this process."""
    from absl import flags

    from repose_tf import train as cli

    cli.define_flags()
    fv = flags.FLAGS

    def run():
        fv.unparse_flags()  # no value left over from an earlier run in this process
        try:
            fv(["repose_tf.train", "--progress=false", *map(str, args)])
            return cli.main([])
        finally:
            fv.unparse_flags()

    res = _call(run)
    if check:
        assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    return res
