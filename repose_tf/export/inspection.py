"""What a converted TFLite model holds: its op histogram (custom / Flex ops refused by the exporter)
and how much of it LiteRT's default XNNPACK delegate runs."""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from repose_tf.export import ExportError


@dataclass
class OpReport:
    histogram: dict[str, int]
    total: int
    custom_ops: list[str]  # custom op codes (Flex ops are custom ops named Flex*)
    float_ops: int  # ops producing a float32 tensor
    subgraphs: int

    @property
    def builtin_only(self) -> bool:
        return not self.custom_ops


def inspect_tflite(model: str | os.PathLike | bytes) -> OpReport:
    """Read the flatbuffer: op histogram over all subgraphs, custom ops, float-output op count."""
    from ai_edge_litert import schema_py_generated as schema

    buf = model if isinstance(model, (bytes, bytearray)) else Path(model).read_bytes()
    try:
        m = schema.Model.GetRootAs(buf, 0)
        names = {v: k for k, v in vars(schema.BuiltinOperator).items() if not k.startswith("_")}
        codes = []
        for i in range(m.OperatorCodesLength()):
            oc = m.OperatorCodes(i)
            code = max(int(oc.BuiltinCode()), int(oc.DeprecatedBuiltinCode()))
            custom = oc.CustomCode()
            if code == schema.BuiltinOperator.CUSTOM or custom:
                codes.append(("custom", (custom or b"?").decode()))
            else:
                codes.append(("builtin", names.get(code, f"BUILTIN_{code}")))
        hist: Counter = Counter()
        custom_ops: list[str] = []
        float_ops = 0
        for s in range(m.SubgraphsLength()):
            g = m.Subgraphs(s)
            for j in range(g.OperatorsLength()):
                op = g.Operators(j)
                kind, name = codes[op.OpcodeIndex()]
                hist[name] += 1
                if kind == "custom":
                    custom_ops.append(name)
                outs = [op.Outputs(k) for k in range(op.OutputsLength())]
                if any(t >= 0 and g.Tensors(t).Type() == schema.TensorType.FLOAT32 for t in outs):
                    float_ops += 1
    except Exception as e:  # noqa: BLE001 - a corrupt flatbuffer raises anything
        raise ExportError(f"cannot parse the TFLite flatbuffer: {e}") from None
    return OpReport(
        dict(hist.most_common()), sum(hist.values()), sorted(set(custom_ops)), float_ops, m.SubgraphsLength()
    )


@dataclass
class DelegateCoverage:
    """How many of the model's ops LiteRT's default XNNPACK delegate took.

    Method (exact for the main subgraph, not an op-list guess): the interpreter is built with
    the default resolver (XNNPACK applied at ``allocate_tensors``); the delegate's partitions
    appear as extra ``DELEGATE`` nodes. An op stayed on the builtin kernels iff its output is
    consumed -- directly or through other non-delegated ops -- by a partition or the model
    output without being a partition output itself, so walking back from the partitions'
    inputs and the model outputs through tensors no partition produces finds exactly them.
    """

    total: int
    delegated: int
    partitions: int
    undelegated: dict[str, int] = field(default_factory=dict)
    method: str = "interpreter node table after XNNPACK delegation (DELEGATE partitions)"

    @property
    def fraction(self) -> float:
        return self.delegated / self.total if self.total else 0.0


def xnnpack_coverage(model_path: str | os.PathLike, num_threads: int = 1) -> DelegateCoverage:
    from ai_edge_litert.interpreter import Interpreter

    it = Interpreter(model_path=str(model_path), num_threads=num_threads)
    n = len(it._get_ops_details())
    it.allocate_tensors()
    after = it._get_ops_details()
    orig, dels = after[:n], [o for o in after[n:] if o["op_name"] == "DELEGATE"]
    produced_by_delegate = {int(t) for d in dels for t in d["outputs"]}
    producer = {int(t): o["index"] for o in orig for t in o["outputs"]}
    seeds = {int(t) for d in dels for t in d["inputs"]} | {int(d["index"]) for d in it.get_output_details()}
    stack = [t for t in seeds if t not in produced_by_delegate and t in producer]
    kept: set[int] = set()
    while stack:
        node = producer[stack.pop()]
        if node in kept:
            continue
        kept.add(node)
        stack.extend(
            int(t)
            for t in orig[node]["inputs"]
            if int(t) >= 0 and int(t) not in produced_by_delegate and int(t) in producer
        )
    hist = Counter(orig[i]["op_name"] for i in kept)
    return DelegateCoverage(n, n - len(kept), len(dels), dict(hist.most_common()))


__all__ = ["DelegateCoverage", "OpReport", "inspect_tflite", "xnnpack_coverage"]
