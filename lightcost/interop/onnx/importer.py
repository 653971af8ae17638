"""Import an ONNX model as a lightcost spec, so it is costed by the one spec pipeline.

:func:`onnx_spec` turns a ModelProto into spec data (plain dicts and lists in the
spec language, docs/spec-language.md) and :func:`spec_yaml` writes it as a
readable spec; ``read_spec`` parses that text like any spec file, so an
imported model goes through expand and cost exactly as a written one.

Three parts: :mod:`.model` reads the ONNX model (constants, shapes, readers);
this module walks its nodes, dispatching each on its op type to the handler of
the op that imports it (``OpDef.imports`` in :mod:`lightcost.ops`), and folds
BN and activations into the layers before them; :mod:`.writer` writes the spec.

Conventions (docs/onnx.md):

* The spec is named after the graph, or the file when the graph name is empty or an
  exporter's default (``main_graph``, ``torch_jit``).
* Constant nodes fold first (:mod:`.fold`): an Identity of a constant is that
  constant; shape arithmetic on static shapes (Shape, Gather, Add, Div, Cast...)
  is computed, as the classic exporter writes ``x.chunk(2, dim=1)``.
* Shapes come from the model (``onnx.shape_inference``); batch 1; the graph has
  one 4-D float input ``[N, C, H, W]`` with fixed C, H, W. Every layer's width
  is ``fixed`` (the model's channels; ``--width`` does not apply).
* Layers are named after the ONNX nodes (made valid spec names: characters other
  than letters, digits, ``_ . -`` become ``_``; duplicates get ``_2``, ``_3``).
* Conv -> ``conv`` (``dwconv`` when ``group`` equals the input channels, with
  ``multiplier``); Gemm and MatMul (+ a bias Add) -> ``fc``. A
  BatchNormalization right after a conv that nothing else reads becomes the
  conv's ``bn: true``, else a ``bn`` layer; an activation right after a conv,
  fc or add that nothing else reads becomes its ``act``. Mul(x, Sigmoid(x)) is
  ``swish``; Reshape [N, g, C/g, H, W] + Transpose (0 2 1 3 4) + Reshape back is
  ``shuffle``; Split of channels is ``split`` layers (``sizes`` when unequal), a
  Slice of channels ``split`` or ``slice``; ConvTranspose ``convtranspose``,
  Resize ``upsample``, Pad ``pad``;
  Flatten, Reshape, Squeeze and Unsqueeze that keep a lightcost shape (or only
  feed an fc) are views with no layer. ReduceMean (ReduceMax) over H and W is a
  global ``avgpool`` (``maxpool``), whatever ``keepdims``; other axes are an error.
* Transformers (docs/onnx.md): a Transpose to channels last [N, H, W, C] and back
  is no layer (the model tracks the layout); token tensors [S, N, D] are (D, S, N);
  LayerNormalization, per-token MatMul, GELU patterns, Softmax and MatMul of two
  activations map to their ops; self-attention regions around each Softmax are
  one ``attention`` layer (:mod:`.regions`, found before the walk).
* Padding: symmetric ``pads`` are the spec's integer padding; asymmetric ones
  equal to TensorFlow SAME (and ``auto_pad`` SAME_*) are ``same``; any other
  four ``[top, left, bottom, right]``. Every window's output size is checked
  against the model's (with ``ceil_mode`` when a pool's rounding up needs it).
* Operators lightcost does not map are an error listing each by name and count:
  nothing is silently costed as zero.

Limits (each a one-line error naming the file): the file as :mod:`.wire` reads
it (size, structure, nodes, fields; weights never read); :data:`MAX_LAYERS`
layers, checked before the spec text is written; layer names of at most
``MAX_NAME`` characters (then ``_2``...) and the spec's name, description and
source of at most ``MAX_TEXT``, on one line; a node whose attributes or
constants are of the wrong kind or size is an error naming it (:meth:`dispatch`).
"""

from __future__ import annotations

import os
import re
from collections import Counter
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from lightcost.core.errors import SpecError, listing, short
from lightcost.core.graph import INPUT, AttrValue
from lightcost.core.graph import MAX_NAME as SPEC_NAME
from lightcost.interop.onnx.model import MAX_NAME, OnnxModel, reason
from lightcost.interop.onnx.regions import find_regions
from lightcost.interop.onnx.scopes import module_path
from lightcost.interop.onnx.wire import WireError, read_structure
from lightcost.interop.onnx.writer import Layer, decoded, spec_items, spec_yaml, text
from lightcost.ops import ACTIVATIONS, OPS, onnx_imports

if TYPE_CHECKING:
    import onnx

    from lightcost.ops.protocols import OnnxNode

INSTALL_HINT = "pip install 'lightcost[onnx]'"
MAX_LAYERS = (
    20_000  # the expander's limit (spec.nodes.MAX_GRAPH_NODES), checked before the spec text
)
EXPORTER_DEFAULTS = ("", "main_graph", "torch_jit")  # graph names that name no model
_INVALID = re.compile(r"[^A-Za-z0-9_.\-]+")
FOLDED_BN_NOTE = (
    "as stored in the file: BN folded by the exporter (conv biases hold it); PyTorch's own "
    "count has BN gamma and beta per channel where the file has the fold's conv bias"
)


def exporter_folded_bn(nodes: Sequence[onnx.NodeProto]) -> bool:
    """Whether an exporter folded BatchNormalization into convs: a Conv's bias is a tensor
    the exporter made (``onnx::Conv_N`` from the classic exporter, ``NAME.weight_bias`` from
    dynamo) rather than a parameter of the model (``NAME.bias``)."""
    return any(
        n.op_type == "Conv"
        and len(n.input) > 2
        and (n.input[2].startswith("onnx::") or n.input[2].endswith(".weight_bias"))
        for n in nodes
    )


def supported() -> set[str]:
    """The ONNX op types import maps: those of the ops' import mappings, and Constant."""
    return {*onnx_imports(), "Constant"}


def unsupported_nodes(nodes: Sequence[onnx.NodeProto], first: int = 2) -> str:
    """The message for the nodes whose op type import does not map ("" when none): each
    op type by count, most frequent first, with the names of its ``first`` nodes."""
    known = supported()
    names: dict[str, list[str]] = {}
    for index, node in enumerate(nodes):
        if node.op_type not in known or node.domain not in ("", "ai.onnx"):
            names.setdefault(text(node.op_type, MAX_NAME), []).append(
                text(node.name, MAX_NAME) or f"node {index}"
            )
    if not names:
        return ""
    ranked = sorted(names.items(), key=lambda item: -len(item[1]))  # stable: file order on ties
    shown = listing(
        f"{op} x{len(found)} (first: {', '.join(found[:first])})" for op, found in ranked
    )
    return f"unsupported ONNX operators: {shown}; see docs/onnx.md for what is mapped"


def read_onnx(path: str) -> onnx.ModelProto:
    """Load an ONNX file's structure, never its weights (:mod:`.wire`, with its limits);
    a missing onnx package or a bad or too large file is a SpecError naming the file."""
    try:
        import onnx
    except ImportError:
        raise SpecError(f"{path}: reading ONNX needs the onnx package: {INSTALL_HINT}") from None
    if not os.path.isfile(path):
        raise SpecError(f"no ONNX file '{path}'")
    try:
        with open(path, "rb") as handle:
            data = read_structure(handle, os.fstat(handle.fileno()).st_size)
        model: onnx.ModelProto = onnx.ModelProto.FromString(data)
    except OSError as exc:
        raise SpecError(f"{path}: cannot read the ONNX file: {exc.strerror or exc}") from None
    except WireError as exc:
        raise SpecError(f"{path}: not a readable ONNX model ({exc})") from None
    except Exception as exc:  # protobuf's DecodeError
        raise SpecError(f"{path}: not a readable ONNX model ({reason(exc)})") from None
    return model


def onnx_spec_text(path: str) -> str:
    """The spec (YAML text) of the ONNX model at ``path``: what ``read_spec`` parses."""
    return spec_yaml(onnx_spec(read_onnx(path), path), path)


def onnx_spec(model: onnx.ModelProto, file: str) -> dict[str, Any]:
    """Spec data (the spec language as plain dicts and lists) of an ONNX model."""
    return _Importer(model, file).run()


def spec_name(raw: str | bytes, fallback: str) -> str:
    """A valid spec layer name for an ONNX node name (see the module docstring), at most
    :data:`MAX_NAME` characters before a ``_2`` suffix."""
    name = (_INVALID.sub("_", decoded(raw)).strip("_.-") or fallback)[:MAX_NAME]
    if not (name[0].isalpha() or name[0] == "_"):
        name = f"n_{name}"
    return f"{name}_" if name in (INPUT, "prev") else name


def title(graph_name: str, file: str) -> str:
    """The spec's name: the graph's, or the file's stem for none or an exporter's default."""
    if graph_name in EXPORTER_DEFAULTS:
        return os.path.splitext(os.path.basename(file))[0]
    return graph_name


class _Importer(OnnxModel):
    """The walk: each node through its op's handler (the Reader of lightcost.ops.protocols)."""

    def __init__(self, model: onnx.ModelProto, file: str) -> None:
        super().__init__(model, file)
        self.rules = onnx_imports()
        self.ref: dict[str, str] = {}  # ONNX tensor -> spec reference (layer name or input)
        self.layers: list[Layer] = []
        self.names: set[str] = set()
        self.suffixes: dict[str, int] = {}  # base name -> last suffix tried (no quadratic search)
        self.absorbed: set[int] = set()  # ids of nodes already handled by a pattern

    def source(self, tensor: str, node: OnnxNode) -> str:
        if tensor not in self.ref:
            raise self.fail(
                node, f"input '{text(tensor, MAX_NAME)}' is a constant or unknown tensor, not data"
            )
        return self.ref[tensor]

    def add(
        self,
        node: OnnxNode,
        op: str,
        inputs: Sequence[str],
        attrs: dict[str, AttrValue] | None = None,
        output: str | None = None,
        name: str | None = None,
    ) -> None:
        """Append a layer named after ``node``; ``output`` (default its first) now refers to it."""
        base = spec_name(name or node.name, node.op_type)
        unique, n = base, self.suffixes.get(base, 1)
        while unique in self.names:
            n += 1
            unique = f"{base}_{n}"
        self.suffixes[base] = n
        self.names.add(unique)
        self.layers.append(
            Layer(
                unique,
                op,
                dict(attrs or {}),
                [self.source(t, node) for t in inputs],
                module_path(node, spec_name),
            )
        )
        target = output if output is not None else node.output[0]
        self.ref[target] = unique
        if inputs and inputs[0] in self.last:  # a layer keeps its input's layout
            self.last.add(target)

    def alias(self, tensor: str, source: str, node: OnnxNode, last: bool | None = None) -> None:
        """``tensor`` refers to what ``source`` refers to: a view, no layer; channels last
        when ``last`` says so (None: as ``source``)."""
        self.ref[tensor] = self.source(source, node)
        if last or (last is None and source in self.last):
            self.last.add(tensor)

    def absorb(self, node: OnnxNode) -> None:
        """Mark a node as handled by a pattern: the walk skips it."""
        self.absorbed.add(id(node))

    def run(self) -> dict[str, Any]:
        graph = self.model.graph
        unknown = unsupported_nodes(self.nodes)
        if unknown:
            raise SpecError(f"{self.file}: {unknown}")
        inputs = [i for i in graph.input if i.name not in self.consts]
        if len(inputs) != 1:
            raise SpecError(f"{self.file}: lightcost needs one graph input, found {len(inputs)}")
        dims = self.dims(inputs[0].name)
        if len(dims) != 4 or any(d is None or d < 1 for d in dims[1:]):
            raise SpecError(
                f"{self.file}: input '{text(inputs[0].name, MAX_NAME)}' has shape {short(dims)}; "
                "lightcost needs "
                "[N, C, H, W] with fixed C, H and W"
            )
        self.ref[inputs[0].name] = INPUT
        regions = find_regions(self)  # self-attention, one layer each (.regions)
        for node in self.nodes:
            region = regions.get(id(node))
            if region is not None:
                self.absorbed.update(id(n) for n in region.nodes)
                scope = region.anchor.name.rpartition("/")[0] or None  # the attention module
                self.add(region.anchor, "attention", [region.x], region.attrs, region.output, scope)
            elif id(node) not in self.absorbed and node.op_type != "Constant":
                self.dispatch(node)
        self.fold()
        if len(self.layers) > MAX_LAYERS:
            raise SpecError(
                f"{self.file}: the model makes {len(self.layers)} layers, more than lightcost's "
                f"limit of {MAX_LAYERS}"
            )
        producer = f"{self.model.producer_name or 'unknown'} {self.model.producer_version}"
        return {
            "lightcost": 1,
            "name": text(title(graph.name, self.file), SPEC_NAME),
            "description": text(f"imported from {os.path.basename(self.file)} (ONNX)"),
            "source": text(f"{self.file}; producer {producer.rstrip()}"),
            **({"params_note": FOLDED_BN_NOTE} if exporter_folded_bn(self.nodes) else {}),
            "input": [int(d or 0) for d in dims[1:]],
            "width": "fixed",
            "layers": spec_items(self.layers),
        }

    def dispatch(self, node: onnx.NodeProto) -> None:
        """Run the handler of ``node``'s op type; a value of the wrong kind or size in the
        model (an attribute, a constant) is an error naming the node."""
        try:
            self.rules[node.op_type][1](self, node)
        except (ArithmeticError, IndexError, KeyError, TypeError, ValueError) as exc:
            raise self.fail(node, f"malformed node ({reason(exc)})") from None

    def fold(self) -> None:
        """Fold BN into the conv before it, then activations into the layer before them
        (ops with ``bn`` and ``act`` attributes)."""
        self.fold_into(
            lambda layer: layer.op == "bn",
            lambda p: (
                "bn" in OPS[p.op].attrs
                and not p.attrs["bn"]
                and p.attrs.get("act", "none") == "none"
            ),
            lambda p, layer: p.attrs.update(bn=True),
        )
        self.fold_into(
            lambda layer: layer.op in ACTIVATIONS,
            lambda p: "act" in OPS[p.op].attrs and p.attrs.get("act", "none") == "none",
            lambda p, layer: p.attrs.update(act=layer.op),
        )

    def fold_into(
        self,
        folds: Callable[[Layer], bool],
        accepts: Callable[[Layer], bool],
        apply: Callable[[Layer, Layer], None],
    ) -> None:
        """Merge each layer ``folds`` accepts into its single input layer ``p`` when
        ``accepts(p)`` and nothing else reads ``p`` (nor is it a graph output);
        references to the merged layer then mean ``p``."""
        readers = Counter(name for layer in self.layers for name in layer.inputs)
        readers.update(self.ref[name] for name in self.outputs if name in self.ref)
        by_name = {layer.name: layer for layer in self.layers}
        renamed: dict[str, str] = {}
        kept: list[Layer] = []
        for layer in self.layers:
            layer.inputs = [renamed.get(name, name) for name in layer.inputs]
            before = by_name.get(layer.inputs[0]) if len(layer.inputs) == 1 else None
            if (
                folds(layer)
                and before is not None
                and readers[before.name] == 1
                and accepts(before)
            ):
                apply(before, layer)
                renamed[layer.name] = before.name
                continue
            kept.append(layer)
        self.layers = kept
