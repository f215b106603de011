"""Load the provider classes a program uses, not every class of their modules.

`pulumi_aws.ec2` defines ~180 resources and its `__init__` imports all of them (~0.5 s
here); a plan uses about 15. Provider SDKs already defer each module until first use;
this goes one step further for the plan: a leaf module (`pulumi_aws.ec2`,
`pulumi_kubernetes.core.v1`) resolves a name on first access by importing only the
file that defines it (`Vpc`, `VpcArgs` → `vpc.py`; `Secret`, `SecretInitArgs` →
`Secret.py`; nested input types → `_inputs.py`). Every name is the same object the
eager `__init__` would bind. A name found nowhere by that rule loads the whole module
exactly as its `__init__` would; an `__init__` holding anything but the generated
re-exports is run as it is.

The files a plan loads are also compiled with postponed annotations (PEP 563): the
SDKs annotate every argument and property (`Optional[pulumi.Input[...]]`), and
evaluating those when a module runs was about half of its import (core/v1's
`_inputs.py`: ~0.3 s). Pulumi reads the annotations of the classes a program uses
through `typing.get_type_hints`, which evaluates the strings to the same types; no
provider file inspects its annotations otherwise. That bytecode is kept in the venv
(`venv_cache`); where it cannot be, the files load as usual.
"""

from __future__ import annotations
import __future__

import builtins
import contextlib
import importlib
import importlib.abc
import importlib.machinery
import marshal
import re
import sys
import typing
from collections.abc import Iterator, Sequence
from types import CodeType, ModuleType
from typing import Any

from mlops.engine import venv_cache

PROVIDERS = ("pulumi_aws", "pulumi_kubernetes")

# the only statements a generated leaf `__init__.py` holds
_STAR = re.compile(r"from \.(\w+) import \*")
_PLAIN = re.compile(r"from \. import (\w+)")
_PREAMBLE = {
    "import builtins as _builtins",
    "from .. import _utilities",
    "from ... import _utilities",
    "import typing",
    "# Export this package's modules as members:",
}
_SUFFIXES = ("InitArgs", "Args", "Result", "_output")
_CAMEL = re.compile(r"(?<!^)(?=[A-Z])")


def _members(source: str) -> tuple[list[str], list[str]] | None:
    """(star-imported modules, plainly imported modules) in order, or None if the file
    is anything but generated re-exports."""
    stars: list[str] = []
    plain: list[str] = []
    for raw in source.splitlines():
        line = raw.strip()
        if (
            not line
            or line in _PREAMBLE
            or (line.startswith("#") and "***" in line)
            or line == "# coding=utf-8"
        ):
            continue
        if m := _STAR.fullmatch(line):
            stars.append(m.group(1))
        elif m := _PLAIN.fullmatch(line):
            plain.append(m.group(1))
        else:
            return None
    return stars, plain


def _candidates(name: str) -> list[str]:
    """The module names that define ``name`` under the SDKs' file-naming rules."""
    bases = [name]
    for suffix in _SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix):
            bases.append(name[: -len(suffix)])
    bases += [b[len("Awaitable") :] for b in bases if b.startswith("Awaitable")]
    return list(dict.fromkeys(c for b in bases for c in (b, _CAMEL.sub("_", b).lower())))


def _exports(module: ModuleType) -> list[str]:
    names = getattr(module, "__all__", None)
    if names is None:
        return [n for n in vars(module) if not n.startswith("_")]
    return list(names)


class _Leaf(ModuleType):
    """A leaf module whose members bind their exports when they are imported, as the
    eager `__init__` does: `Secret` is then the class of `Secret.py`, never the file."""

    _lazy_stars: frozenset[str] = frozenset()

    def __setattr__(self, name: str, value: Any) -> None:
        super().__setattr__(name, value)
        if (
            name in self._lazy_stars
            and isinstance(value, ModuleType)
            and value.__name__ == f"{self.__name__}.{name}"
        ):
            for n in _exports(value):
                super().__setattr__(n, getattr(value, n))


class _LeafLoader(importlib.abc.Loader):
    def __init__(self, original: Any) -> None:
        self.original = original

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return None

    def exec_module(self, module: ModuleType) -> None:
        origin = module.__spec__.origin if module.__spec__ else None
        try:
            with open(origin or "", encoding="utf-8") as f:
                members = _members(f.read())
        except OSError:
            members = None
        if members is None:
            self.original.exec_module(module)
            return
        stars, plain = members
        package = module.__name__
        top = package.split(".", 1)[0]
        try:
            utilities = importlib.import_module(f"{top}._utilities")
        except ImportError:
            from mlops.engine.internals import changed

            raise changed(top.replace("_", "-"), f"{top}._utilities", "is gone") from None
        module.__class__ = _Leaf
        vars(module).update(
            _lazy_stars=frozenset(stars),
            # what the generated preamble binds
            _builtins=builtins,
            typing=typing,
            _utilities=utilities,
        )

        def load_all() -> None:
            for sub in [*stars, *plain]:
                importlib.import_module(f"{package}.{sub}")

        def find(name: str) -> Any:
            if name.startswith("__"):
                raise AttributeError(name)
            for sub in [*(c for c in _candidates(name) if c in stars), "_inputs", "_enums"]:
                if sub in stars or sub in plain:
                    importlib.import_module(f"{package}.{sub}")
                    if name in vars(module):
                        return vars(module)[name]
            if name in plain:
                return importlib.import_module(f"{package}.{name}")
            load_all()
            if name in vars(module):
                return vars(module)[name]
            raise AttributeError(f"module {package!r} has no attribute {name!r}")

        def names() -> list[str]:
            load_all()
            return sorted(vars(module))

        vars(module).update(__getattr__=find, __dir__=names)  # PEP 562


def _compile_postponed(origin: str) -> CodeType:
    with open(origin, "rb") as f:
        source = f.read()
    return compile(
        source, origin, "exec", dont_inherit=True, flags=__future__.annotations.compiler_flag
    )


_BYTECODE = venv_cache.FileCache("postponed-annotations", marshal.dumps, marshal.loads)


class _PostponedLoader(importlib.abc.Loader):
    """Runs a provider module from its postponed-annotation bytecode."""

    def __init__(self, original: Any) -> None:
        self.original = original

    def __getattr__(self, name: str) -> Any:
        return getattr(self.original, name)  # get_source, get_filename, resources

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return None

    def exec_module(self, module: ModuleType) -> None:
        origin = module.__spec__.origin if module.__spec__ else None
        code = _BYTECODE.get(origin, lambda: _compile_postponed(origin)) if origin else None
        if not isinstance(code, CodeType):
            self.original.exec_module(module)
        else:
            exec(code, vars(module))


class _Finder(importlib.abc.MetaPathFinder):
    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if "." not in fullname or fullname.split(".", 1)[0] not in PROVIDERS:
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is None or spec.loader is None:
            return None
        if spec.submodule_search_locations is not None:
            spec.loader = _LeafLoader(spec.loader)
        elif _BYTECODE.dir is not None and isinstance(
            spec.loader, importlib.machinery.SourceFileLoader
        ):
            spec.loader = _PostponedLoader(spec.loader)
        return spec


@contextlib.contextmanager
def installed() -> Iterator[None]:
    """Provider packages first imported inside this block load per name.

    Packages imported before it (a test that imported `pulumi_aws` itself) stay as
    they are; the result is the same either way, only slower.
    """
    finder = _Finder()
    sys.meta_path.insert(0, finder)
    try:
        yield
    finally:
        with contextlib.suppress(ValueError):
            sys.meta_path.remove(finder)
