"""Build the ONNX corpus: real PyTorch exports, weights stripped, with reference counts.

Not run by CI (it needs torch, torchvision, timm, onnx and onnxscript, none of
which is a lightcost dependency). Run it from the repository root in an
environment that has them::

    /path/to/torchvenv/bin/python tools/onnx_corpus.py --out tests/onnx_corpus
    /path/to/torchvenv/bin/python tools/onnx_corpus.py --out tests/onnx_corpus --only resnet18

For every model of :data:`MODELS` (torchvision and timm, built with fresh random
weights: ``weights=None`` / ``pretrained=False``, seed 0, no network access;
BN statistics, BN affine parameters and biases drawn at random too, see
:func:`build`), in eval mode, on one input of 1 x 3 x 224 x 224 (inception_v3:
299 x 299; mobilenetv4_hybrid_medium and mobilevit_xxs: 256 x 256), it

* measures reference counts in torch (:func:`measure`): ``params`` (the sum of
  ``p.numel()`` over trainable parameters), ``conv_linear_weights``
  (``weight.numel()`` of every Conv2d and Linear, ``in_proj_weight`` of
  nn.MultiheadAttention), ``madds`` (multiply-adds of Conv2d, Linear and matrix
  products between two activations, no bias: Conv2d ``out.numel() * in_channels
  / groups * kh * kw``, Linear ``out.numel() * in_features``, a product ``out.numel()
  * k``, attention QK^T and AV; see :class:`Hooks`, timm's fused attention off,
  autograd on), ``madds_at`` (the same at the other input sizes of
  ``Model.madds_at``), ``bn_channels`` (``num_features`` of every BatchNorm2d),
  and which BatchNorm2d read a Conv2d's output directly (``bn_after_conv``,
  ``bn_after_biasless_conv``: the ones an exporter can fold into the conv);
* exports it (:data:`EXPORTERS`): ``classic`` is ``torch.onnx.export(...,
  dynamo=False, opset_version=17)`` (BN folded into the convs: the default
  ``do_constant_folding=True``); ``unfolded`` is the same with
  ``do_constant_folding=False`` (BN kept as BatchNormalization nodes);
  ``dynamo`` is the default exporter (``dynamo=True``, its default opset; it
  folds BN too); ``init`` is ``classic`` on the model as the library
  initializes it (BN the identity, zero biases: equal constants the exporter
  shares through Identity nodes);
* strips the weights: saves with external data (every initializer of at least
  ``--threshold`` bytes, default 1024, goes to one data file; shapes, clip
  bounds, slice indices... stay inline) and deletes the data file, so a fixture
  keeps the graph, every tensor's dims and the small constants, not the weights;
* writes ``OUT/<name>.onnx`` (classic), ``OUT/<name>.<exporter>.onnx`` (the
  others) and one ``OUT/reference.json`` holding, per file,
  the model (library, name, arguments), the exporter, the opset, the counts
  above, ``expected_params`` (the ``trainable`` params lightcost should report
  for that file, :func:`expected_params`), ``onnx_params`` (the same count read
  back from the exported graph, which must equal it) and the file size; and the
  versions of python, torch, torchvision, timm, onnx and onnxscript.

An export that fails is recorded under ``export_failures`` in reference.json
(model, exporter, the first line of the error) and the run goes on; give the
model a substitute in :data:`MODELS`.

The folded-params rule (:func:`expected_params`): an exporter that folds BN
folds a BatchNormalization only into the Conv whose output it is the one reader
of; gamma and beta (2 per channel) go, and a conv without a bias gains one
bias per channel. So a folded file holds ``params - 2 * bn_after_conv +
bn_after_biasless_conv`` parameters; every other BN (after a concat, a pool or
a block's input) stays a BatchNormalization node (gamma and beta: 2 per channel,
as in PyTorch). An unfolded file holds
``params`` exactly. docs/onnx.md "The corpus" says more.
"""

from __future__ import annotations

import argparse
import io
import json
import platform
import sys
import traceback
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NamedTuple

import onnx
import timm
import torch
import torchvision
from torch import nn
from torch.overrides import TorchFunctionMode

timm.layers.set_fused_attn(False)  # attention as explicit matmuls, which Hooks counts


class Model(NamedTuple):
    """One corpus model: file stem, library, model name, constructor arguments, extras."""

    name: str
    library: str  # "torchvision" or "timm"
    model: str
    kwargs: dict[str, Any]
    size: int = 224
    dynamo: bool = False  # also export with the default (dynamo) exporter
    unfolded: bool = False  # also export with do_constant_folding=False
    init: bool = False  # also export (classic) with the library's initialization untouched
    madds_at: tuple[int, ...] = ()  # other input sizes whose MAdds reference.json records


TV, TIMM = "torchvision", "timm"

# The corpus: issue 13's list. Substitutes for exports that fail go here too.
MODELS: tuple[Model, ...] = (
    Model("mobilenet_v2", TV, "mobilenet_v2", {}, dynamo=True, unfolded=True, init=True),
    Model("mobilenet_v3_large", TV, "mobilenet_v3_large", {}),
    Model("mobilenet_v3_small", TV, "mobilenet_v3_small", {}),
    Model("shufflenet_v2_x0_5", TV, "shufflenet_v2_x0_5", {}),
    Model("shufflenet_v2_x1_0", TV, "shufflenet_v2_x1_0", {}, dynamo=True),
    Model("shufflenet_v2_x1_5", TV, "shufflenet_v2_x1_5", {}),
    Model("shufflenet_v2_x2_0", TV, "shufflenet_v2_x2_0", {}),
    Model("mnasnet0_5", TV, "mnasnet0_5", {}),
    Model("mnasnet1_0", TV, "mnasnet1_0", {}, unfolded=True),
    Model("resnet18", TV, "resnet18", {}, dynamo=True, unfolded=True, init=True),
    Model("resnet50", TV, "resnet50", {}),
    Model("resnext50_32x4d", TV, "resnext50_32x4d", {}),
    Model("squeezenet1_1", TV, "squeezenet1_1", {}),
    Model("efficientnet_b0", TV, "efficientnet_b0", {}, dynamo=True),
    Model("regnet_x_400mf", TV, "regnet_x_400mf", {}),
    Model("regnet_y_400mf", TV, "regnet_y_400mf", {}),
    Model("googlenet", TV, "googlenet", {"aux_logits": False, "init_weights": True}),
    Model("densenet121", TV, "densenet121", {}),
    Model(
        "inception_v3", TV, "inception_v3", {"aux_logits": False, "init_weights": True}, size=299
    ),
    Model("mobilenetv3_large_100", TIMM, "mobilenetv3_large_100", {}, dynamo=True),
    Model("efficientnet_lite0", TIMM, "efficientnet_lite0", {}),
    Model("ghostnet_100", TIMM, "ghostnet_100", {}, madds_at=(160,)),
    Model("mixnet_s", TIMM, "mixnet_s", {}, madds_at=(160,)),
    Model("lcnet_050", TIMM, "lcnet_050", {}),
    Model("tinynet_a", TIMM, "tinynet_a", {}),
    Model("fbnetc_100", TIMM, "fbnetc_100", {}),
    Model("semnasnet_100", TIMM, "semnasnet_100", {}),
    Model("hardcorenas_a", TIMM, "hardcorenas_a", {}),
    Model("repvgg_a0", TIMM, "repvgg_a0", {}),
    Model("mobilenetv4_conv_small", TIMM, "mobilenetv4_conv_small", {}, madds_at=(160,)),
    # Issue 14: hybrids and transformers (attention matmuls counted, see Hooks).
    Model(
        "mobilenetv4_hybrid_medium",
        TIMM,
        "mobilenetv4_hybrid_medium",
        {},
        size=256,
        madds_at=(160,),
    ),
    Model("mobilevit_xxs", TIMM, "mobilevit_xxs", {}, size=256, madds_at=(160, 224)),
    Model("convnext_tiny", TV, "convnext_tiny", {}, madds_at=(160,)),
    Model("vit_b_16", TV, "vit_b_16", {}),  # fixed 224 (torchvision checks the size)
    Model("efficientformer_l1", TIMM, "efficientformer_l1", {}),  # fixed 224 (bias tables)
)

EXPORTERS = {
    "classic": "torch.onnx.export(dynamo=False, opset_version=17)",
    "unfolded": "torch.onnx.export(dynamo=False, opset_version=17, do_constant_folding=False)",
    "dynamo": "torch.onnx.export(dynamo=True) (the default exporter, its default opset)",
    "init": "as classic, with the library's own initialization (BN the identity, zero biases)",
}
SEED = 0


def build(entry: Model, randomize: bool = True) -> nn.Module:
    """The model with fresh random weights (seed :data:`SEED`), in eval mode.

    ``randomize``: BN statistics and affine parameters and every bias are then
    drawn at random too, as in a trained model. A fresh initialization has BN
    the identity and many zero biases, which exporters treat specially: the
    classic exporter shares equal constants through Identity nodes, the dynamo
    exporter's optimizer drops zero biases (its count is then not PyTorch's).
    """
    torch.manual_seed(SEED)
    if entry.library == TV:
        model = torchvision.models.get_model(entry.model, weights=None, **entry.kwargs)
    else:
        model = timm.create_model(entry.model, pretrained=False, **entry.kwargs)
    if randomize:
        with torch.no_grad():
            for module in model.modules():
                if isinstance(module, nn.BatchNorm2d):
                    assert module.running_mean is not None and module.running_var is not None
                    module.weight.uniform_(0.5, 1.5)
                    module.running_var.uniform_(0.5, 1.5)
                    module.running_mean.normal_(0.0, 0.1)
                bias = getattr(module, "bias", None)
                if isinstance(bias, nn.Parameter):
                    bias.normal_(0.0, 0.1)
    return model.eval()


MATMULS = {torch.matmul, torch.Tensor.matmul, torch.Tensor.__matmul__, torch.bmm, torch.Tensor.bmm}


class Hooks(TorchFunctionMode):
    """Multiply-adds of Conv2d, Linear, nn.MultiheadAttention and of matrix products between
    two activations; BN read from a conv.

    Conv2d and Linear by forward hooks (Conv2d ``out.numel() * in_channels / groups * kh *
    kw``, Linear ``out.numel() * in_features``); a product of two activations (``@``,
    ``torch.matmul``, ``bmm``; neither operand a Parameter) as a torch function mode,
    ``out.numel() * k`` for the inner dimension k (attention QK^T and AV); an
    nn.MultiheadAttention (torchvision ViT), whose projections are functional calls, by a
    forward hook: Q, K, V and output projections plus QK^T and AV. timm's fused attention
    is off (:func:`timm.layers.set_fused_attn`) and autograd on, so no fused kernel
    (``scaled_dot_product_attention``, MHA's fast path) hides a product: one that runs is
    an error. No bias anywhere.
    """

    def __init__(self) -> None:
        super().__init__()
        self.madds = 0
        self.called: set[int] = set()
        self.conv_outputs: dict[int, tuple[torch.Tensor, nn.Conv2d]] = {}
        self.after_conv: list[nn.BatchNorm2d] = []
        self.after_biasless_conv: list[nn.BatchNorm2d] = []

    def __torch_function__(self, func: Any, types: Any, args: Any = (), kwargs: Any = None) -> Any:
        out = func(*args, **(kwargs or {}))
        if func is torch.nn.functional.scaled_dot_product_attention:
            raise RuntimeError("a fused attention kernel ran: its matmuls are not counted")
        if func in MATMULS and not any(isinstance(a, nn.Parameter) for a in args[:2]):
            self.madds += out.numel() * args[0].shape[-1]
        return out

    def conv(self, module: nn.Module, inputs: Any, output: torch.Tensor) -> None:
        assert isinstance(module, nn.Conv2d)
        self.called.add(id(module))
        kh, kw = module.kernel_size
        self.madds += output.numel() * module.in_channels // module.groups * kh * kw
        self.conv_outputs[id(output)] = (output, module)  # kept alive: ids stay unique

    def linear(self, module: nn.Module, inputs: Any, output: torch.Tensor) -> None:
        assert isinstance(module, nn.Linear)
        self.called.add(id(module))
        self.madds += output.numel() * module.in_features

    def mha(self, module: nn.Module, inputs: Any, output: Any) -> None:
        """Q, K, V projections, QK^T, AV (each query x key x embed_dim) and the output one."""
        assert isinstance(module, nn.MultiheadAttention)
        self.called.update((id(module), id(module.out_proj)))
        query, key = inputs[0], inputs[1]
        batch = query.numel() // (query.shape[-2 if module.batch_first else 0] * query.shape[-1])
        lq, lk = (x.shape[-2 if module.batch_first else 0] for x in (query, key))
        e = module.embed_dim
        per_item = lq * e * e + lk * (module.kdim + module.vdim) * e + 2 * lq * lk * e
        self.madds += batch * (per_item + lq * e * e)

    def bn(self, module: nn.Module, inputs: Any) -> None:
        assert isinstance(module, nn.BatchNorm2d)
        self.called.add(id(module))
        source = self.conv_outputs.get(id(inputs[0]))
        if source is not None and source[0] is inputs[0]:
            self.after_conv.append(module)
            if source[1].bias is None:
                self.after_biasless_conv.append(module)


COUNTED = (nn.Conv2d, nn.Linear, nn.BatchNorm2d, nn.MultiheadAttention)


def _hook(hooks: Hooks, m: nn.Module) -> Any:
    if isinstance(m, nn.BatchNorm2d):
        return m.register_forward_pre_hook(hooks.bn)
    if isinstance(m, nn.MultiheadAttention):
        return m.register_forward_hook(hooks.mha)
    return m.register_forward_hook(hooks.conv if isinstance(m, nn.Conv2d) else hooks.linear)


def measure(model: nn.Module, x: torch.Tensor) -> dict[str, int]:
    """Reference counts of ``model`` on ``x``, by forward hooks (see the module docstring)."""
    hooks = Hooks()
    counted = [m for m in model.modules() if isinstance(m, COUNTED)]
    handles = [_hook(hooks, m) for m in counted]
    with torch.enable_grad(), hooks:
        model(x)
    for handle in handles:
        handle.remove()
    unused = [m for m in counted if id(m) not in hooks.called]
    if unused:  # their parameters are in PyTorch's count, not in the graph
        raise RuntimeError(f"{len(unused)} conv/linear/BN modules not called in forward")
    return {
        "params": sum(p.numel() for p in model.parameters() if p.requires_grad),
        "conv_linear_weights": sum(
            m.weight.numel() for m in counted if isinstance(m, (nn.Conv2d, nn.Linear))
        )
        + sum(m.in_proj_weight.numel() for m in counted if isinstance(m, nn.MultiheadAttention)),
        "madds": hooks.madds,
        "bn_channels": sum(m.num_features for m in counted if isinstance(m, nn.BatchNorm2d)),
        "bn_after_conv": sum(m.num_features for m in hooks.after_conv),
        "bn_after_biasless_conv": sum(m.num_features for m in hooks.after_biasless_conv),
    }


def madds_at(entry: Model) -> dict[str, int]:
    """MAdds (as :func:`measure`) at each of ``entry.madds_at``'s input sizes."""
    model = build(entry)
    return {
        str(size): measure(model, torch.randn(1, 3, size, size))["madds"] for size in entry.madds_at
    }


def expected_params(counts: dict[str, int], bn_folded: bool) -> int:
    """Trainable params of an export: PyTorch's, less BN folded into convs (module docstring)."""
    if not bn_folded:
        return counts["params"]
    return counts["params"] - 2 * counts["bn_after_conv"] + counts["bn_after_biasless_conv"]


def onnx_params(model: onnx.ModelProto) -> int:
    """Trainable params read from the graph (the initializers' dims; no data needed): Conv W
    and B, Gemm B and C, MatMul weights, BatchNormalization and LayerNormalization scale and
    bias, and every float initializer of more than one element read by Add, Mul, Expand or
    Gather (a linear layer's bias after a MatMul, a positional embedding, a layer scale, a
    class token, an attention-bias table; scalars such as 1/sqrt(d) are constants)."""
    floats = {t.name for t in model.graph.initializer if t.data_type == onnx.TensorProto.FLOAT}
    sizes = {t.name: _numel(t.dims) for t in model.graph.initializer}
    for node in model.graph.node:  # an Identity of an initializer has its size
        if node.op_type == "Identity" and node.input[0] in sizes:
            sizes[node.output[0]] = sizes[node.input[0]]
            if node.input[0] in floats:
                floats.add(node.output[0])
    used = {
        "Conv": (1, 2),
        "Gemm": (1, 2),
        "MatMul": (1,),
        "BatchNormalization": (1, 2),
        "LayerNormalization": (1, 2),
    }
    tensors = {"Add": (0, 1), "Mul": (0, 1), "Expand": (0,), "Gather": (0,)}
    total = 0
    for node in model.graph.node:
        for index in used.get(node.op_type, ()):
            if index < len(node.input):
                total += sizes.get(node.input[index], 0)
        for index in tensors.get(node.op_type, ()):
            name = node.input[index] if index < len(node.input) else ""
            if name in floats and sizes[name] > 1:
                total += sizes[name]
    return total


def _numel(dims: Any) -> int:
    n = 1
    for d in dims:
        n *= int(d)
    return n


def export(model: nn.Module, x: torch.Tensor, exporter: str) -> onnx.ModelProto:
    """The ONNX model of ``model`` by one of :data:`EXPORTERS`."""
    names = {"input_names": ["input"], "output_names": ["logits"]}
    if exporter == "dynamo":
        program = torch.onnx.export(model, (x,), dynamo=True, **names)
        assert program is not None
        return program.model_proto
    buffer = io.BytesIO()
    torch.onnx.export(
        model,
        (x,),
        buffer,
        dynamo=False,
        opset_version=17,
        do_constant_folding=exporter != "unfolded",
        **names,
    )
    return onnx.load_from_string(buffer.getvalue())


def strip(model: onnx.ModelProto, path: Path, threshold: int) -> None:
    """Save ``model`` at ``path`` with its large initializers as external data, then delete
    the data file: the dims stay, the weights go."""
    data = path.with_name(path.name + ".data")
    model.doc_string = (
        f"lightcost ONNX corpus (tools/onnx_corpus.py): initializers of {threshold} bytes or "
        f"more were saved to {data.name}, which was deleted; their dims are kept."
    )
    onnx.save_model(
        model,
        str(path),
        save_as_external_data=True,
        all_tensors_to_one_file=True,
        location=data.name,
        size_threshold=threshold,
    )
    data.unlink()


def opset(model: onnx.ModelProto) -> int:
    return next(o.version for o in model.opset_import if o.domain in ("", "ai.onnx"))


@contextmanager
def quiet() -> Iterator[None]:
    """Silence the exporters' warnings and progress output."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def run_model(entry: Model, out: Path, threshold: int) -> tuple[dict[str, Any], list[Any]]:
    """Export one model by each of its exporters; (files, failures)."""
    files: dict[str, Any] = {}
    failures: list[Any] = []
    x = torch.randn(1, 3, entry.size, entry.size, generator=torch.Generator().manual_seed(SEED))
    model = build(entry)
    counts = measure(model, x)
    exporters = ["classic"] + [
        name for name in ("dynamo", "unfolded", "init") if getattr(entry, name)
    ]
    for exporter in exporters:
        file = f"{entry.name}.onnx" if exporter == "classic" else f"{entry.name}.{exporter}.onnx"
        try:
            with quiet():
                proto = export(build(entry, False) if exporter == "init" else model, x, exporter)
        except Exception as exc:
            line = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            failures.append({"file": file, "exporter": exporter, "error": line[:300]})
            print(f"  {file}: EXPORT FAILED: {line[:200]}", file=sys.stderr)
            traceback.print_exc(limit=2)
            continue
        bn_folded = exporter != "unfolded"  # with constant folding, BN after a conv is folded
        expected = expected_params(counts, bn_folded)
        read_back = onnx_params(proto)
        strip(proto, out / file, threshold)
        files[file] = {
            "library": entry.library,
            "model": entry.model,
            "kwargs": entry.kwargs,
            "input": [1, 3, entry.size, entry.size],
            "exporter": exporter,
            "export_call": EXPORTERS[exporter],
            "opset": opset(proto),
            **counts,
            "bn_folded": bn_folded,
            "expected_params": expected,
            "onnx_params": read_back,
            "bytes": (out / file).stat().st_size,
        }
        if entry.madds_at:
            files[file]["madds_at"] = madds_at(entry)
        flag = "" if read_back == expected else f"  MISMATCH onnx_params {read_back}"
        print(f"  {file}: {files[file]['bytes'] / 1024:.0f} KB, params {expected}{flag}")
    return files, failures


def versions() -> dict[str, str]:
    import onnxscript

    return {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "torchvision": torchvision.__version__,
        "timm": timm.__version__,
        "onnx": onnx.__version__,
        "onnxscript": onnxscript.__version__,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("tests/onnx_corpus"))
    parser.add_argument("--only", nargs="*", help="model names (merged into reference.json)")
    parser.add_argument("--threshold", type=int, default=1024, help="external data size (bytes)")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    reference_path = args.out / "reference.json"
    reference: dict[str, Any] = {"files": {}, "export_failures": []}
    if args.only and reference_path.exists():
        reference = json.loads(reference_path.read_text())
    entries = [m for m in MODELS if not args.only or m.name in args.only]
    for entry in entries:
        print(f"{entry.name} ({entry.library} {entry.model})")
        files, failures = run_model(entry, args.out, args.threshold)
        stale = [f for f, ref in reference["files"].items() if ref["model"] == entry.model]
        for file in stale:
            del reference["files"][file]
        reference["files"].update(files)
        reference["export_failures"] = [
            f for f in reference["export_failures"] if not f["file"].startswith(entry.name + ".")
        ] + failures
    reference["versions"] = versions()
    reference["seed"] = SEED
    reference["threshold_bytes"] = args.threshold
    reference["exporters"] = EXPORTERS
    reference["files"] = dict(sorted(reference["files"].items()))
    reference_path.write_text(json.dumps(reference, indent=1) + "\n")
    total = sum(f["bytes"] for f in reference["files"].values())
    print(f"{len(reference['files'])} files, {total / 1e6:.2f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
