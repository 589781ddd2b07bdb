"""The import architecture of ser_tf, read from the source with ``ast``.

ser_tf is built in floors; a module may import modules on its own floor or below, never above:

    foundation     constants, errors, utils, config, runs  plain Python: numbers, errors, files, the config
    data, layers   data, layers, settings, storage          the corpora and tf.data pipeline; the Keras layers;
                                                            the typed config (it checks corpus specs
                                                            with the data manifest); storage (the
                                                            app's database, SQLAlchemy Core)
    models         models                                   backbones, heads, the arch registry, saving
    inference      inference                                finding, loading and running a trained model
    evaluation,    evaluation, export                       metrics, scoring and reports (may use inference);
    export                                                  TFLite/SavedModel export (uses models, inference)
    training       training                                 the trainer and the pretraining recipe
    application    app, report                              the web page's server and the reports
    entry points   the CLIs and the package facade          train.py, evaluate.py, audio_test.py,
                                                            every ``*/cli.py`` and ``__main__.py``,
                                                            ``ser_tf/tools/``, ``ser_tf/__init__.py``

``data`` and ``layers`` share a floor: neither imports the other (the front-end is a layer inside
the model, the pipeline hands it raw waveforms), and both sit under the models.

A module's floor is the floor of its top-level package (``ser_tf.<name>``), so a new file falls
into place by where it is put; a new top-level package must be added to ``FLOORS`` below.
Imports are read at module level *and* inside functions (lazy imports are still dependencies),
absolute and relative, plus ``importlib.import_module("...")`` with a literal name. The test fails
on an import against the floor order and on any import cycle between modules.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Dict, List, Optional, Set

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = "ser_tf"
ENTRY = "<entry points>"

# The floors, bottom first: the one place where the architecture is declared.
FLOORS = [
    ("foundation", {"constants", "errors", "utils", "config", "runs"}),
    ("data, layers", {"data", "layers", "settings", "storage"}),
    ("models", {"models", "pretrained"}),
    ("inference", {"inference"}),
    ("evaluation, export", {"evaluation", "export"}),
    ("training", {"training"}),
    ("application", {"app", "report"}),
    ("entry points", {ENTRY}),
]
# Entry points besides ser_tf/tools/, */cli.py, */__main__.py and the package's __init__.py.
SCRIPTS = ("train.py", "evaluate.py", "audio_test.py")


def _module_files() -> Dict[str, Path]:
    """``{dotted module name: file}`` of every module of the package and the top-level scripts."""
    modules = {}
    for path in sorted((ROOT / PACKAGE).rglob("*.py")):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        modules[".".join(parts)] = path
    for script in SCRIPTS:
        if (ROOT / script).is_file():
            modules[script[:-3]] = ROOT / script
    return modules


MODULES = _module_files()


def floor_of(module: str) -> int:
    """Index in ``FLOORS`` of ``module`` (a key of ``MODULES``)."""
    parts = module.split(".")
    if parts[0] != PACKAGE or len(parts) == 1 or parts[1] == "tools" or parts[-1] in ("cli", "__main__"):
        name = ENTRY
    else:
        name = parts[1]
    for index, (_, members) in enumerate(FLOORS):
        if name in members:
            return index
    raise AssertionError(f"{module}: top-level package {name!r} has no floor; add it to FLOORS in {__file__}")


def _existing(name: str) -> Optional[str]:
    """The longest prefix of ``name`` that is a ser_tf module (``a.b.func`` -> ``a.b``)."""
    parts = name.split(".")
    while parts:
        candidate = ".".join(parts)
        if candidate in MODULES:
            return candidate
        parts.pop()
    return None


def imports_of(module: str, source: Optional[str] = None, *, is_package: Optional[bool] = None) -> Set[str]:
    """The ser_tf modules that ``module`` imports anywhere in its file (or in ``source``)."""
    path = MODULES.get(module)
    if source is None:
        source = path.read_text(encoding="utf-8")
    if is_package is None:
        is_package = path is not None and path.name == "__init__.py"
    tree = ast.parse(source, filename=str(path or module))
    found = set()
    for node in ast.walk(tree):
        names: List[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".")
                base = base if is_package else base[:-1]
                base = base[: len(base) - (node.level - 1)]
                base_name = ".".join(base + ([node.module] if node.module else []))
            else:
                base_name = node.module or ""
            # ``from pkg import sub`` imports the module pkg.sub; ``from pkg import func``, pkg.
            names = [f"{base_name}.{alias.name}" for alias in node.names]
        elif (isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant)
              and isinstance(node.args[0].value, str)
              and ((isinstance(node.func, ast.Attribute) and node.func.attr == "import_module")
                   or (isinstance(node.func, ast.Name) and node.func.id in ("import_module", "__import__")))):
            names = [node.args[0].value]
        for name in names:
            target = _existing(name)
            if target is not None and target != module:
                found.add(target)
    return found


GRAPH = {module: imports_of(module) for module in MODULES}


def test_every_module_has_a_floor():
    for module in MODULES:
        floor_of(module)


def test_imports_follow_the_floor_order():
    violations = []
    for module, targets in sorted(GRAPH.items()):
        for target in sorted(targets):
            if floor_of(target) > floor_of(module):
                violations.append(
                    f"{module} (floor {FLOORS[floor_of(module)][0]!r}) imports {target} "
                    f"(floor {FLOORS[floor_of(target)][0]!r}, above it)"
                )
    order = " -> ".join(label for label, _ in FLOORS)
    assert not violations, f"imports against the floor order {order}:\n  " + "\n  ".join(violations)


def _cycles() -> List[List[str]]:
    """One cycle through each strongly connected component of ``GRAPH`` with more than one module."""
    index: Dict[str, int] = {}
    low: Dict[str, int] = {}
    stack: List[str] = []
    on_stack: Set[str] = set()
    components = []

    def visit(node):  # Tarjan's algorithm; the graph has ~100 nodes, recursion is fine
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for succ in sorted(GRAPH[node]):
            if succ not in index:
                visit(succ)
                low[node] = min(low[node], low[succ])
            elif succ in on_stack:
                low[node] = min(low[node], index[succ])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                components.append(set(component))

    for node in sorted(GRAPH):
        if node not in index:
            visit(node)

    cycles = []
    for component in components:
        start = min(component)
        path, seen = [start], {start}
        while True:  # walk inside the component until a module repeats
            succ = min(t for t in GRAPH[path[-1]] if t in component)
            if succ in seen:
                cycles.append(path[path.index(succ):] + [succ])
                break
            path.append(succ)
            seen.add(succ)
    return cycles


def test_no_import_cycles():
    cycles = _cycles()
    assert not cycles, "import cycles (module-level and function-level imports):\n  " + "\n  ".join(
        " -> ".join(cycle) for cycle in cycles)


def test_the_checker_sees_lazy_relative_and_dynamic_imports():
    """The reader itself: imports inside functions, relative imports and import_module count."""
    source = """
from . import labels
from .corpora import ravdess
from ..errors import DataError
import ser_tf.constants as C

def later():
    from ser_tf.models.registry import get_arch
    importlib.import_module("ser_tf.layers")
"""
    assert imports_of("ser_tf.data.manifest", source, is_package=False) == {
        "ser_tf.data.labels", "ser_tf.data.corpora.ravdess", "ser_tf.errors", "ser_tf.constants",
        "ser_tf.models.registry", "ser_tf.layers"}
    assert imports_of("ser_tf.data", "from .splits import METHODS", is_package=True) == {"ser_tf.data.splits"}
    assert "ser_tf.models.saving" in GRAPH["ser_tf"]  # inside ser_tf.load_keras_model
    last = len(FLOORS) - 1
    assert floor_of("ser_tf.training.cli") == floor_of("train") == floor_of("ser_tf.tools.convert_hubert") == last
    assert floor_of("ser_tf.data.__main__") == floor_of("ser_tf") == last
    assert floor_of("ser_tf.data.corpora.ravdess") == floor_of("ser_tf.layers.log_mel") == 1
