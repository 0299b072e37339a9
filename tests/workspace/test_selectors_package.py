"""`servio.workspace.selectors` is a package of modules named for what they read; callers
import from the package, so it must offer every public name its modules define."""

from __future__ import annotations

import ast
import importlib
import pkgutil
from pathlib import Path

from servio.workspace import selectors


def _defined(path: Path) -> list[str]:
    """Public names a module defines at its top level (functions, classes, constants)."""
    names = []
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.FunctionDef | ast.ClassDef):
            names.append(node.name)
        elif isinstance(node, ast.Assign):
            names += [t.id for t in node.targets if isinstance(t, ast.Name)]
    return [n for n in names if not n.startswith("_")]


def test_the_package_offers_every_public_name_of_its_modules():
    missing = []
    for info in pkgutil.iter_modules(selectors.__path__):
        module = importlib.import_module(f"{selectors.__name__}.{info.name}")
        for name in _defined(Path(module.__file__)):
            if name not in selectors.__all__ or getattr(selectors, name) is not getattr(
                module, name
            ):
                missing.append(f"{info.name}.{name}")
    assert not missing, f"Re-export these from servio/workspace/selectors/__init__.py: {missing}"
    assert len(selectors.__all__) == len(set(selectors.__all__))
