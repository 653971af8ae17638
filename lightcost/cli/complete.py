"""Shell completion of names: bundled specs, a spec's variants, bundled device profiles.

Click serves completion for bash, zsh and fish (README "Shell completion"); these
functions give it the names lightcost knows, with files as well where a path
also works. They never fail: a spec that cannot be read completes no variant.
"""

from __future__ import annotations

import os
import shlex

from click import Context, Option, Parameter
from click.shell_completion import CompletionItem

from lightcost.core.errors import SpecError
from lightcost.core.graph import MAX_NAME

FILES = "file"  # a completion item that asks the shell for file names too
SPEC_PARAMETERS = ("spec", "old", "specs", "model")  # where a command takes the spec it costs


def matching(names: list[str], incomplete: str, files: bool) -> list[CompletionItem]:
    """The names that start with ``incomplete``, then file names when ``files``.

    A name the shell could misread (whitespace, control or non-printable characters,
    or longer than MAX_NAME: it came from a spec file) is not offered.
    """
    items = [
        CompletionItem(name)
        for name in names
        if name.startswith(incomplete) and len(name) <= MAX_NAME and name.isprintable()
        and not any(c.isspace() for c in name)
    ]  # fmt: skip
    return items + ([CompletionItem(incomplete, type=FILES)] if files else [])


def complete_spec(ctx: Context, param: Parameter, incomplete: str) -> list[CompletionItem]:
    """Bundled spec names, and files."""
    from lightcost.spec.files import bundled_names

    return matching(bundled_names(), incomplete, files=True)


def complete_device(ctx: Context, param: Parameter, incomplete: str) -> list[CompletionItem]:
    """Bundled device profile names, and files."""
    from lightcost.cost.latency import bundled_devices

    return matching(bundled_devices(), incomplete, files=True)


def complete_variant(ctx: Context, param: Parameter, incomplete: str) -> list[CompletionItem]:
    """The variants of the spec given before on the command line (none when unreadable)."""
    from lightcost.spec.expand import variants
    from lightcost.spec.files import read_spec

    given = next((ctx.params[n] for n in SPEC_PARAMETERS if ctx.params.get(n)), None)
    spec = given[0] if isinstance(given, tuple) else given or spec_in_words(ctx)
    if not isinstance(spec, str) or spec.endswith(".onnx"):
        return []
    try:
        data, _ = read_spec(spec)
        names = list(variants(data))
    except (SpecError, OSError):
        return []
    return matching(names, incomplete, files=False)


def spec_in_words(ctx: Context) -> str | None:
    """The first argument after the command in the shell's words (``COMP_WORDS``).

    Click leaves ``ctx.params`` empty when the line ends with an option awaiting
    its value (``lightcost table shufflenet_v2 --variant <TAB>``).
    """
    try:
        words = shlex.split(os.environ.get("COMP_WORDS", ""))
    except ValueError:  # an unclosed quote
        return None
    valued = {
        name
        for p in ctx.command.params
        if isinstance(p, Option) and not p.is_flag
        for name in p.opts
    }
    after = words[words.index(ctx.info_name) + 1 :] if ctx.info_name in words else []
    skip = False
    for word in after:
        if not skip and not word.startswith("-"):
            return word
        skip = word in valued
    return None
