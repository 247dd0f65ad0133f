"""The shape of the Rust code, checked (`make shape`, part of `make check`):

1. no import loop between the modules of any crate of the workspace (crates/*, functions/*, local/standins/*): a
   module is a file (`a/b.rs` and `a/b/mod.rs` are `a::b`), it imports another when its code (comments and its
   `#[cfg(test)] mod tests` left out) names a path into it: `crate::a::b::…`, `super::…`, `self::…` in a `mod.rs`, or a name the crate root
   re-exports (`pub use a::b::Name;` makes `crate::Name` an import of `a::b`);
2. the domain crate `backup-core` has no AWS SDK, Lambda runtime or HTTP/Redis client among its normal dependencies
   (`cargo tree -p backup-core -e normal`);
3. a Lambda links the RDB checker only when it verifies: `rdb-check` is among a function's normal dependencies
   exactly when its main.rs builds the verifier (`aws.verifier()`).

Exit status 1 with every loop (its modules, and one line of code per arrow) and every forbidden dependency named.
"""

import json
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOMAIN = "backup-core"
FORBIDDEN = re.compile(r"^(aws-sdk-\S+|aws-smithy-\S+|aws-config|aws-types|lambda_runtime|lambda_http|reqwest|hyper|redis)$")


def strip(code: str) -> str:
    """Code without its test module (at the end of a file), comments and string contents."""
    code = re.sub(r"#\[cfg\(test\)\]\s*mod tests\s*\{.*", "", code, flags=re.S)
    code = re.sub(r"//[^\n]*", "", code)
    code = re.sub(r"/\*.*?\*/", "", code, flags=re.S)
    return re.sub(r'"(?:[^"\\]|\\.)*"', '""', code)


def module_of(src: Path, path: Path) -> tuple[str, ...]:
    rel = path.relative_to(src).with_suffix("")
    parts = rel.parts
    if parts[-1] in ("mod", "lib", "main"):
        parts = parts[:-1]
    return tuple(parts)


def root_reexports(modules: set, root_code: str) -> dict[str, tuple[str, ...]]:
    """`pub use a::b::{X, Y};` / `pub use a::b::X;` in the crate root: name → the module it comes from."""
    out = {}
    for path, names in re.findall(r"pub use (?:crate::)?([\w:]+)::\{([^}]*)\};", root_code):
        for name in (n.strip().split(" as ")[-1] for n in names.split(",") if n.strip()):
            out[name] = tuple(path.split("::"))
    for path, name in re.findall(r"pub use (?:crate::)?([\w:]+)::(\w+);", root_code):
        out[name] = tuple(path.split("::"))
    return {n: m for n, m in out.items() if m in modules}


def graph(src: Path) -> dict[tuple, dict[tuple, str]]:
    """Module → {imported module: the first line of code that imports it}."""
    files = {module_of(src, p): p for p in src.rglob("*.rs") if "bin" not in p.relative_to(src).parts[:1]}
    modules = set(files)
    root = files.get(())
    reexports = root_reexports(modules, strip(root.read_text())) if root else {}

    def resolve(segments: list[str]) -> tuple | None:
        for n in range(len(segments), 0, -1):
            if tuple(segments[:n]) in modules:
                return tuple(segments[:n])
        if segments and segments[0] in reexports:
            return reexports[segments[0]]
        return None

    edges: dict[tuple, dict[tuple, str]] = {}
    for module, path in files.items():
        if module == ():
            continue  # the crate root only declares modules and re-exports
        is_dir_module = path.name == "mod.rs"
        out = edges.setdefault(module, {})
        for line in strip(path.read_text()).splitlines():
            for m in re.finditer(r"\b(crate|super|self)((?:::\w+)+|::\{)", line):
                head, rest = m.group(1), m.group(2)
                tail = rest.strip(":").split("::") if rest != "::{" else []
                if head == "crate":
                    base: list[str] = []
                elif head == "self":
                    base = list(module) if is_dir_module else list(module[:-1]) + [module[-1]]
                    if not is_dir_module:
                        continue  # `self::` inside a file names its own items
                else:  # super
                    base = list(module[:-1]) if not is_dir_module else list(module[:-1])
                    base = base if not is_dir_module else list(module[:-1])
                targets = []
                if rest == "::{" or (tail and tail[-1] == ""):
                    group = line[m.end():].split("}")[0]
                    for item in group.split(","):
                        item = item.strip().split(" as ")[0]
                        if item:
                            targets.append(resolve(base + tail + item.split("::")))
                else:
                    targets.append(resolve(base + tail))
                for target in targets:
                    if target is not None and target != module and target != ():
                        out.setdefault(target, line.strip())
    return edges


def loops(edges: dict) -> list[list]:
    """Strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in edges.get(v, {}):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in list(edges):
        if v not in index:
            visit(v)
    return out


def name(module: tuple) -> str:
    return "::".join(module) or "crate"


def crate_sources() -> dict[str, Path]:
    out = subprocess.run(["cargo", "metadata", "--format-version", "1", "--no-deps", "--offline"], cwd=ROOT,
                         check=True, capture_output=True, text=True).stdout
    found = {}
    for package in json.loads(out)["packages"]:
        directory = Path(package["manifest_path"]).parent
        if directory.parent.name in ("crates", "functions", "standins"):
            found[package["name"]] = directory / "src"
    return found


def loop_report(crate: str, src: Path) -> list[str]:
    edges = graph(src)
    problems = []
    for comp in loops(edges):
        members = set(comp)
        arrows = [f"    {name(a)} → {name(b)}: {line}" for a in comp for b, line in sorted(edges.get(a, {}).items())
                  if b in members]
        problems.append(f"{crate}: import loop between {', '.join(name(c) for c in comp)}\n" + "\n".join(arrows))
    return problems


def domain_dependencies() -> list[str]:
    return sorted(n for n in normal_dependencies(DOMAIN) if FORBIDDEN.match(n))


def normal_dependencies(package: str) -> set[str]:
    out = subprocess.run(["cargo", "tree", "-p", package, "-e", "normal", "--prefix", "none", "--offline"], cwd=ROOT,
                         check=True, capture_output=True, text=True).stdout
    return {line.split()[0] for line in out.splitlines() if line.strip()}


def checker_problems(sources: dict[str, Path]) -> list[str]:
    problems = []
    for package, src in sorted(sources.items()):
        if src.parent.parent.name != "functions":
            continue
        verifies = re.search(r"\baws\.verifier\(\)", (src / "main.rs").read_text()) is not None
        links = "rdb-check" in normal_dependencies(package)
        if links != verifies:
            problems.append(f"{package}: {'links' if links else 'does not link'} rdb-check but "
                            f"{'does not build' if links else 'builds'} the verifier: only the functions that verify "
                            "carry the checker (aws-adapters feature `verify`)")
    return problems


def main() -> int:
    problems = []
    for crate, src in sorted(crate_sources().items()):
        problems += loop_report(crate, src)
    problems += checker_problems(crate_sources())
    forbidden = domain_dependencies()
    if forbidden:
        problems.append(f"{DOMAIN} depends on {', '.join(forbidden)}: the domain holds no AWS SDK, Lambda runtime or "
                        "client; implementations of its ports belong in crates/aws-adapters")
    for p in problems:
        print(p, file=sys.stderr)
    if not problems:
        print(f"shape: no import loop in {len(crate_sources())} crates; {DOMAIN} has no AWS SDK, runtime or client; "
              "only the verifying functions link rdb-check")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
