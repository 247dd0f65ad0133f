"""local/tools/shape.py finds an import loop, resolves the paths it follows, and passes the repository as it is."""

import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))
import shape  # noqa: E402


def crate(tmp_path: Path, files: dict[str, str]) -> Path:
    src = tmp_path / "src"
    for name, code in files.items():
        path = src / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(code)
    return src


def test_a_loop_through_a_folder_module_and_a_root_reexport_is_found(tmp_path):
    src = crate(tmp_path, {
        "lib.rs": "pub mod model;\npub mod backup;\npub use backup::run::BackupRun;\n",
        "model.rs": "pub struct Timestamp;\n",
        "backup/mod.rs": "pub mod run;\npub mod history;\n",
        "backup/run.rs": "use crate::model::Timestamp;\nuse super::history::PhaseHistory;\npub struct BackupRun;\n",
        "backup/history.rs": "// crate::backup::run in a comment is no import\nfn f(_: crate::BackupRun) {}\n",
    })
    problems = shape.loop_report("x", src)
    assert len(problems) == 1, problems
    assert "backup::history, backup::run" in problems[0]
    assert "backup::history → backup::run: fn f(_: crate::BackupRun) {}" in problems[0]


def test_comments_tests_and_downward_imports_are_no_loop(tmp_path):
    src = crate(tmp_path, {
        "lib.rs": "pub mod a;\npub mod b;\n",
        "a.rs": "use crate::b::{self, Thing};\n",
        "b.rs": "// use crate::a;\npub struct Thing;\n#[cfg(test)]\nmod tests {\n    use crate::a::*;\n}\n",
    })
    assert shape.loop_report("x", src) == []


def test_the_repository_has_no_loop_and_a_pure_domain():
    result = subprocess.run([sys.executable, str(Path(shape.__file__))], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert shape.domain_dependencies() == []
