"""The layout holds: one package per domain in every layer, dependencies one way, no import circle.

Read from the source (every import, those inside functions included), against what each package's
`__init__` docstring declares on its last line ("May call: ..." / "May use: ..."):
- layers run models < services < schemas < routes: nothing imports a layer above its own (the shared
  `models/types.py`, `schemas/common.py` and `routes/documents.py` import no domain package);
- inside a layer, a domain imports only itself and the domains it declares, and the declared graph
  has no circle; a service, schema or route reaches the services and schemas of another domain only
  when it declares it (models, being data, may be read by any domain above the models layer);
- no circle between modules, nor between packages and the top-level modules;
- each domain's services, schemas and routes import in a fresh interpreter, before anything else.
"""
from __future__ import annotations

import ast
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
APP = ROOT / "telehealth"
LAYERS = ("models", "services", "schemas", "routes")
SHARED = {"telehealth.models.types", "telehealth.schemas.common", "telehealth.routes.documents"}
DOMAINS = ("platform", "accounts", "screening", "billing", "scheduling", "pharmacy", "messaging", "home_care",
           "care", "records")
_DECLARED = re.compile(r"^May (?:call|use): (.*)\.$")


def _module_name(path: Path) -> str:
    name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
    return name.removesuffix(".__init__")


@cache
def modules() -> dict[str, Path]:
    return {_module_name(p): p for p in APP.rglob("*.py")}


def _resolve(name: str) -> str | None:
    while name and name not in modules():
        name = name.rpartition(".")[0]
    return name or None


@cache
def imports() -> dict[str, set[str]]:
    """Module -> the telehealth modules it imports anywhere in its body."""
    graph: dict[str, set[str]] = {}
    for name, path in modules().items():
        found: set[str | None] = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                found |= {_resolve(a.name) for a in node.names if a.name.startswith("telehealth")}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").startswith("telehealth"):
                found |= {_resolve(f"{node.module}.{a.name}") for a in node.names}
        graph[name] = {m for m in found if m and m != name}
    return graph


def place(module: str) -> tuple[str, str] | None:
    """(layer, domain) of a module inside a domain package, else None."""
    parts = module.split(".")
    if len(parts) >= 3 and parts[1] in LAYERS and parts[2] in DOMAINS:
        return parts[1], parts[2]
    return None


def unit(module: str) -> str:
    """A domain package (`services.billing`), or the module itself outside them."""
    where = place(module)
    return f"{where[0]}.{where[1]}" if where else module


@cache
def declared(layer: str, domain: str) -> frozenset[str]:
    doc = ast.get_docstring(ast.parse((APP / layer / domain / "__init__.py").read_text())) or ""
    lines = doc.strip().splitlines()
    match = _DECLARED.match(lines[-1]) if lines else None
    assert match, f"telehealth/{layer}/{domain}/__init__.py must end its docstring with 'May call: ...'"
    text = re.sub(r"\([^)]*\)", "", match.group(1))
    names = {n.strip() for n in text.split(",") if n.strip() and n.strip() != "nothing"}
    unknown = names - set(DOMAINS)
    assert not unknown, (layer, domain, unknown)
    return frozenset(names)


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one node (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph.get(start, ()))))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_every_layer_and_the_tests_have_the_same_domain_packages():
    for layer in LAYERS:
        packages = {p.parent.name for p in (APP / layer).glob("*/__init__.py")}
        assert packages == set(DOMAINS), layer
        loose = {p.stem for p in (APP / layer).glob("*.py")} - {"__init__"}
        assert {f"telehealth.{layer}.{m}" for m in loose} <= SHARED, (layer, loose)
    # tests/portal: the browser suite, which walks a person through every domain's pages
    assert {p.parent.name for p in (ROOT / "tests").glob("*/__init__.py")} == set(DOMAINS) | {"portal"}
    assert not list((ROOT / "tests").glob("test_*.py")), "tests live in tests/<domain>/"


def test_no_import_circle_between_modules():
    assert _cycles(imports()) == []


def test_no_import_circle_between_packages():
    graph: dict[str, set[str]] = {}
    for module, targets in imports().items():
        graph.setdefault(unit(module), set()).update(unit(t) for t in targets if unit(t) != unit(module))
    assert _cycles(graph) == []


def test_declared_dependencies_run_one_way():
    for layer in LAYERS:
        graph = {d: set(declared(layer, d)) for d in DOMAINS}
        assert _cycles(graph) == [], layer


def test_imports_follow_the_layers_and_the_declared_domains():
    wrong = []
    for module, targets in imports().items():
        here = place(module)
        for target in targets:
            there = place(target)
            if module in SHARED and there:
                wrong.append(f"{module} (shared) imports the domain module {target}")
            if here is None or there is None:
                continue
            (layer, domain), (its_layer, its_domain) = here, there
            if LAYERS.index(its_layer) > LAYERS.index(layer):
                wrong.append(f"{module} imports {target}, a layer above")
            elif its_domain != domain and its_layer != "models" and its_domain not in declared(layer, domain):
                wrong.append(f"{module} imports {target}: {domain} does not declare {its_domain} ({layer})")
        if here and here[0] in ("models", "services"):
            above = [t for t in targets if t.startswith(("telehealth.routes", "telehealth.schemas"))
                     and t not in SHARED]
            wrong += [f"{module} imports {t}, a layer above" for t in above]
    assert wrong == []


def _import_alone(domain: str) -> tuple[str, int, str]:
    names = sorted(m for m in modules() if place(m) and place(m)[1] == domain and place(m)[0] != "models")
    names.sort(key=lambda m: LAYERS.index(place(m)[0]))
    code = "import importlib, sys\nfor name in sys.argv[1:]:\n    importlib.import_module(name)\n"
    done = subprocess.run([sys.executable, "-c", code, *names], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)
    return domain, done.returncode, done.stderr[-2000:]


@pytest.mark.parametrize("layer", ["telehealth.models"])
def test_models_import_alone(layer):
    done = subprocess.run([sys.executable, "-c", f"import {layer}"], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]


def test_each_domain_imports_alone_in_a_fresh_interpreter():
    with ThreadPoolExecutor(max_workers=2) as pool:
        failures = [(d, err) for d, code, err in pool.map(_import_alone, DOMAINS) if code != 0]
    assert failures == []
