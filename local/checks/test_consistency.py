"""Consistency between the Rust functions, the state machine and the Terraform module (no servers needed).

- functions/ holds only Lambda crates (each with main.rs and handler.rs); libraries live in crates/;
- every function crate under functions/ has a Terraform entry, and every Terraform entry a crate;
- every ${...} placeholder of every terraform/*.asl.json is a Terraform function's ARN supplied by
  state_machine.tf, every Task invokes one, and every step function is invoked by some state machine;
- every AWS operation a handler makes is allowed by its role, and the role allows nothing else beyond the few
  actions AWS requires of the caller without the handler calling them (listed below with their source).

Operations are derived from the code: main.rs says which adapters a function builds, the handler says which port
methods it calls, and the adapters say which SDK operation each port method sends.
"""

import json
import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]  # local/checks/ → repository root
FUNCTIONS = ROOT / "functions"
CRATES = ROOT / "crates"
TERRAFORM = ROOT / "terraform"

def production(path: Path) -> str:
    """A source file without its tests (at its end: they call fakes, not AWS)."""
    return re.sub(r"#\[cfg\(test\)\]\s*mod tests \{.*", "", path.read_text(), flags=re.S)


# The crates are found through `cargo metadata` (by package name), and read by structure: the adapters are the
# types of the adapters crate that implement a port (`impl <Port> for <Adapter>`), each one's AWS service is the SDK
# its file uses, and a function builds the adapters whose constructor its main.rs calls on the start-up's `aws`.
SDK_SERVICE = {"elasticache": "elasticache", "s3": "s3", "s3control": "s3", "secretsmanager": "secretsmanager",
               "sfn": "states"}


def crate_dirs() -> dict[str, Path]:
    """Workspace package name → its directory (`cargo metadata --no-deps`)."""
    out = subprocess.run(["cargo", "metadata", "--format-version", "1", "--no-deps", "--offline"], cwd=ROOT,
                         check=True, capture_output=True, text=True).stdout
    return {p["name"]: Path(p["manifest_path"]).parent for p in json.loads(out)["packages"]}


CRATE_DIRS = crate_dirs()
ADAPTERS_SRC = CRATE_DIRS["aws-adapters"] / "src"
CORE_SRC = CRATE_DIRS["backup-core"] / "src"


def rust_files(src: Path) -> list[Path]:
    return sorted(src.rglob("*.rs"))


def port_traits() -> set[str]:
    """The ports: every trait backup-core declares in its ports module."""
    return set(re.findall(r"^pub trait (\w+)", (CORE_SRC / "ports.rs").read_text(), re.M))


def adapter_files() -> dict[str, Path]:
    """Adapter type → the file of the adapters crate that implements a port for it (production code only)."""
    ports = port_traits()
    found = {}
    for path in rust_files(ADAPTERS_SRC):
        for trait, adapter in re.findall(r"^impl (\w+) for (\w+) \{", production(path), re.M):
            if trait in ports and re.search(r"\baws_sdk_\w+::", production(path)):
                found[adapter] = path
    return found


def service_of(path: Path) -> str:
    services = {SDK_SERVICE[m] for m in re.findall(r"\baws_sdk_(\w+)::", production(path))}
    assert len(services) == 1, f"{path}: one AWS service per adapter file, found {sorted(services)}"
    return services.pop()


def constructors() -> dict[str, str]:
    """The start-up's constructor method → the adapter type it returns (`pub fn s3(&self) -> crate::S3ExportStore`)."""
    start = next(p for p in rust_files(ADAPTERS_SRC) if "pub struct Aws" in p.read_text())
    return dict(re.findall(r"pub fn (\w+)\(&self\) -> crate::(\w+)", start.read_text()))


ADAPTER_FILES = adapter_files()
SERVICE_OF = {adapter: service_of(path) for adapter, path in ADAPTER_FILES.items()}
# IAM action(s) of an SDK operation where it is not Service:PascalCase(operation) (Service Authorization Reference;
# a copy reads its source with s3:GetObject and writes with s3:PutObject: S3 API Reference, CopyObject, UploadPartCopy).
ACTION_OF = {("s3", "list_objects_v2"): "s3:ListBucket", ("s3", "head_object"): "s3:GetObject",
             ("s3", "head_bucket"): "s3:ListBucket",
             ("s3", "copy_object"): ("s3:PutObject", "s3:GetObject"),
             ("s3", "upload_part_copy"): ("s3:PutObject", "s3:GetObject"),
             ("s3", "create_multipart_upload"): "s3:PutObject", ("s3", "complete_multipart_upload"): "s3:PutObject"}
# Library functions an adapter calls that send requests with the adapter's client: pattern → source file.
DELEGATES = {r"rdb_check::s3::open\(": "rdb-check"}
# Core helpers a handler calls that call port methods on its behalf: pattern → the file whose production code is
# read as if it were the handler's.
CORE_HELPERS = {
    r"\btarget::resolve\(|\.choose_node\(|\.adopt\(": r"pub async fn resolve<",
    r"\btagged_by_execution\(|\bsnapshot_of_run\(": r"pub async fn tagged_by_execution\b",
    r"\binspect\(": r"pub async fn inspect\b",
    r"\bauth_token\(": r"pub async fn auth_token\b",
    r"\bhistory::previous\(": r"pub async fn previous\b",
    r"\bgather\(": r"pub async fn gather<",
}


def core_helper_file(definition: str) -> Path:
    """The backup-core file that defines a helper (found by its definition, wherever the module lives)."""
    files = [p for p in rust_files(CORE_SRC) if re.search(definition, production(p))]
    assert len(files) == 1, f"{definition!r} is defined in {files}, expected exactly one backup-core file"
    return files[0]


# Calls that reach a port method under another name.
INDIRECT_CALLS = {r"\.get\(&deps\.secrets\)": "secret_string"}
# Actions a role needs although the handler does not send them itself.
REQUIRED_BY_AWS = {
    # ElastiCache User Guide, "Exporting a backup": the caller's own access to the bucket is validated.
    "export-snapshot": {"s3:GetBucketLocation", "s3:PutObject", "s3:GetObject", "s3:DeleteObject",
                        "s3:ListAllMyBuckets"},
    # Lambda Developer Guide, "Dead-letter queues": Lambda sends to the DLQ with the function's execution role.
    "notify": {"sqs:SendMessage",
               # S3 answers 403, not 404, for an absent object without ListBucket: the ledger needs the 404.
               "s3:ListBucket"},
    # CreateSnapshot with Tags needs AddTagsToResource too (ElastiCache User Guide, IAM API reference table).
    "create-snapshot": {"elasticache:AddTagsToResource"},
    # Restore IAM (ElastiCache API Reference, CreateReplicationGroup): tags need AddTagsToResource, and the caller
    # must be able to read each SnapshotArns object.
    "create-group": {"elasticache:AddTagsToResource", "s3:GetObject"},
    # Seed copies carry x-amz-grant-read / x-amz-grant-read-acp for ElastiCache's canonical user: a request with ACL
    # headers needs s3:PutObjectAcl besides s3:PutObject (S3 API Reference, PutObject and CopyObject, Permissions).
    "resolve-backup": {"s3:PutObjectAcl",
                       # A restore from the vault reads objects that may be SSE-KMS under the vault's key: S3 decrypts
                       # them with the caller's kms:Decrypt (S3 User Guide, "Using server-side encryption with AWS KMS
                       # keys", "Permissions"); the handler calls no KMS operation itself.
                       "kms:Decrypt"},
    # S3 User Guide, "Granting permissions for Batch Operations": whoever creates a job passes its role to it.
    "verify-export": {"iam:PassRole"},
    # PutObject with x-amz-tagging (the verified tag on the evidence report) needs s3:PutObjectTagging too (S3 User
    # Guide, "Categorizing your storage using tags": "PUT Object … with tags … you must have s3:PutObjectTagging").
    "evidence": {"s3:PutObjectTagging"},
    # Lambda in a VPC: the execution role manages the function's network interfaces.
    "verify-restore": {"ec2:CreateNetworkInterface", "ec2:DescribeNetworkInterfaces", "ec2:DeleteNetworkInterface",
                       "ec2:AssignPrivateIpAddresses", "ec2:UnassignPrivateIpAddresses"},
}


def pascal(op: str) -> str:
    return "".join(p.capitalize() for p in op.split("_"))


def function_crates() -> set[str]:
    return {p.parent.parent.name for p in FUNCTIONS.glob("*/src/main.rs")}


def terraform_functions() -> dict[str, set[str]]:
    """Function name → actions of its statements, read from terraform/locals.tf."""
    text = (TERRAFORM / "locals.tf").read_text()
    block = text[text.index("  functions = {"):re.search(r"^  step_functions\s+=", text, re.M).start()]
    starts = [(m.group(1), m.start()) for m in re.finditer(r"^    ([a-z][a-z-]*) = \{$", block, re.M)]
    out = {}
    for i, (name, start) in enumerate(starts):
        end = starts[i + 1][1] if i + 1 < len(starts) else len(block)
        body = block[start:end]
        actions = set(re.findall(r'"([a-z0-9]+:[A-Za-z0-9]+)"', " ".join(re.findall(r"actions\s*=\s*\[([^\]]*)\]", body))))
        out[name] = actions
    return out


def adapter_operations() -> dict[str, dict[str, set[str]]]:
    """Adapter → port method → SDK operations it sends."""
    result = {}
    for adapter, path in ADAPTER_FILES.items():
        text = re.sub(r"#\[cfg\(test\)\]\s*mod tests \{.*", "", path.read_text(), flags=re.S)
        impl = text[text.index(f"for {adapter} {{"):]
        methods = {}
        for m in re.finditer(r"async fn (\w+)\(", impl):
            rest = impl[m.end():]
            nxt = re.search(r"async fn \w+\(", rest)
            body = rest[: nxt.start()] if nxt else rest
            # `.client.op()`, or `.client_for(arn).op()` (a client of the resource's region).
            ops = set(re.findall(r"\.client(?:_for\([^)]*\))?\s*\.(\w+)\(\)", body))
            for pattern, lib in DELEGATES.items():
                if re.search(pattern, body):
                    lib_code = "\n".join(production(p) for p in rust_files(CRATE_DIRS[lib] / "src"))
                    delegated = set(re.findall(r"\bclient\s*\.(\w+)\(\)", lib_code)) - {"clone"}
                    assert delegated, f"no SDK operation found in {lib}"
                    ops |= delegated
            methods.setdefault(m.group(1), set()).update(ops)
        assert methods, f"no methods found for {adapter}"
        result[adapter] = methods
    return result


def core_file_with(text: str) -> Path:
    """The one backup-core file whose code holds `text`."""
    files = [p for p in rust_files(CORE_SRC) if text in p.read_text()]
    assert len(files) == 1, f"{text!r} is in {files}, expected exactly one backup-core file"
    return files[0]


def handler_actions(crate: str, adapters: dict) -> set[str]:
    src = FUNCTIONS / crate / "src"
    main = (src / "main.rs").read_text()
    # Each file's tests (at its end) call fakes, not AWS: leave them out.
    code = "\n".join(production(p) for p in src.glob("*.rs") if p.name != "main.rs")
    code += "\n".join(production(core_helper_file(definition)) for pattern, definition in CORE_HELPERS.items()
                       if re.search(pattern, code))
    built = [a for method, a in constructors().items() if a in ADAPTER_FILES and re.search(rf"\baws\.{method}\(\)", main)]
    actions = set()
    for adapter in built:
        for method, ops in adapters[adapter].items():
            called = re.search(rf"\.{method}\(", code) or any(
                re.search(pattern, code) for pattern, m in INDIRECT_CALLS.items() if m == method)
            if called:
                for op in ops:
                    service = SERVICE_OF[adapter]
                    mapped = ACTION_OF.get((service, op), f"{service}:{pascal(op)}")
                    actions.update((mapped,) if isinstance(mapped, str) else mapped)
    return actions


def test_functions_holds_only_lambda_crates():
    for entry in FUNCTIONS.iterdir():
        assert (entry / "src/main.rs").is_file() and (entry / "src/handler.rs").is_file(), \
            f"{entry.relative_to(ROOT)} is not a Lambda crate (main.rs + handler.rs); libraries go in crates/"
    for entry in CRATES.iterdir():
        assert (entry / "src/lib.rs").is_file(), f"{entry.relative_to(ROOT)} is not a library crate"


def test_every_function_crate_has_a_terraform_entry_and_back():
    assert function_crates() == set(terraform_functions())


def asl_files() -> list[Path]:
    files = sorted(TERRAFORM.glob("*.asl.json"))
    assert files, "no ASL file found"
    return files


def task_resources(definition: dict) -> set[str]:
    """Resource of every Task, nested Map/Parallel states included."""
    out = set()
    for state in definition.get("States", {}).values():
        if state["Type"] == "Task":
            out.add(state["Resource"])
        for nested in ("Iterator", "ItemProcessor"):
            if nested in state:
                out |= task_resources(state[nested])
        for branch in state.get("Branches", []):
            out |= task_resources(branch)
    return out


# Task resources that are Step Functions service integrations (a child execution), not a function placeholder.
START_EXECUTION = re.compile(r"arn:aws:states:::states:startExecution\.sync(:2)?")
# State machine ARN placeholders, and the resource that supplies each in state_machine.tf.
MACHINE_PLACEHOLDERS = {"backup_state_machine_arn": "aws_sfn_state_machine.this.arn"}


def test_every_asl_placeholder_is_supplied_and_every_task_invokes_a_step_function():
    steps = set(terraform_functions()) - {"notify", "retention", "evidence"}
    supplied = {f"{name.replace('-', '_')}_arn" for name in steps}
    invoked = set()
    sm = (TERRAFORM / "state_machine.tf").read_text()
    for path in asl_files():
        asl = path.read_text()
        placeholders = set(re.findall(r"\$\{(\w+)\}", asl))
        for machine in placeholders & set(MACHINE_PLACEHOLDERS):
            assert f"{machine} = {MACHINE_PLACEHOLDERS[machine]}" in sm, f"{path.name}: {machine} is not supplied"
        placeholders -= set(MACHINE_PLACEHOLDERS)
        assert placeholders <= supplied, f"{path.name}: {sorted(placeholders - supplied)} has no Terraform function"
        tasks = {t for t in task_resources(json.loads(asl)) if not START_EXECUTION.fullmatch(t)}
        assert tasks, f"{path.name} has no Task"
        unwired = {t for t in tasks if not re.fullmatch(r"\$\{\w+_arn\}", t)}
        assert not unwired, f"{path.name}: Task resources {sorted(unwired)} are not a function placeholder"
        assert {t[2:-1] for t in tasks} <= supplied
        invoked |= {t[2:-1] for t in tasks}
    assert invoked == supplied, f"step functions no state machine invokes: {sorted(supplied - invoked)}"
    assert sm.count('replace(k, "-", "_")}_arn') == len(asl_files())
    for path in asl_files():
        assert f'templatefile("${{path.module}}/{path.name}"' in sm, f"{path.name} is not rendered by state_machine.tf"
    # Each state machine's functions (locals.tf) are exactly the placeholders of its ASL file.
    text = (TERRAFORM / "locals.tf").read_text()
    restore = set(re.findall(r'"([a-z-]+)"', re.search(r"restore_functions\s*=\s*\[([^\]]*)\]", text).group(1)))
    restore_asl = {t[2:-5].replace("_", "-") for t in task_resources(json.loads((TERRAFORM / "restore.asl.json").read_text()))}
    backup_asl = {t[2:-5].replace("_", "-") for t in task_resources(json.loads((TERRAFORM / "backup.asl.json").read_text()))}
    fleet = set(re.findall(r'"([a-z-]+)"', re.search(r"fleet_functions\s*=\s*\[([^\]]*)\]", text).group(1)))
    fleet_asl = {t[2:-5].replace("_", "-") for t in task_resources(json.loads((TERRAFORM / "fleet.asl.json").read_text()))
                 if not START_EXECUTION.fullmatch(t)}
    assert restore == restore_asl
    assert fleet == fleet_asl
    assert backup_asl == steps - restore - fleet


def test_the_adapters_are_read():
    ops = adapter_operations()
    assert ops["ElastiCacheSnapshots"]["create_snapshot"] == {"create_snapshot", "create_serverless_cache_snapshot"}
    assert ops["S3ExportStore"]["list"] == {"list_objects_v2"}
    assert ops["SfnHistory"]["failure_context"] == {"get_execution_history"}
    assert ops["SfnExecutions"]["executions_since"] == {"list_executions", "describe_execution"}
    assert ops["S3ExportStore"]["put_tagged"] == {"put_object"}


def test_every_call_a_handler_makes_is_allowed_by_its_role_and_nothing_more():
    adapters = adapter_operations()
    roles = terraform_functions()
    for crate in sorted(function_crates()):
        made = handler_actions(crate, adapters)
        assert made, f"{crate}: no AWS operation found; the derivation is broken"
        allowed = roles[crate]
        assert made <= allowed, f"{crate} calls {sorted(made - allowed)} which its role does not allow"
        extra = allowed - made - REQUIRED_BY_AWS.get(crate, set())
        assert not extra, f"{crate}'s role allows {sorted(extra)} which it never calls"


def test_derivation_sees_each_step():
    adapters = adapter_operations()
    assert handler_actions("check-export", adapters) == {"s3:ListBucket", "elasticache:DescribeEvents",
                                                         "elasticache:DescribeServerlessCacheSnapshots"}
    assert handler_actions("create-snapshot", adapters) == {
        "elasticache:DescribeReplicationGroups", "elasticache:DescribeCacheClusters",
        "elasticache:DescribeServerlessCaches", "elasticache:DescribeServerlessCacheSnapshots",
        "elasticache:CreateServerlessCacheSnapshot",
        "elasticache:DescribeSnapshots", "elasticache:CreateSnapshot", "elasticache:ListTagsForResource",
        "s3:ListBucket", "s3:GetBucketLocation", "s3:GetBucketPolicy", "s3:GetBucketAcl", "s3:GetObject"}
    assert handler_actions("notify", adapters) == {
        "states:GetExecutionHistory", "secretsmanager:GetSecretValue", "elasticache:DescribeCacheClusters",
        "elasticache:DescribeSnapshots", "elasticache:DescribeServerlessCacheSnapshots", "s3:GetObject", "s3:PutObject"}
    # The evidence function: through the shared gathering helper (backup_core::evidence::gather) and its own put.
    assert handler_actions("evidence", adapters) == {
        "s3:ListBucket", "s3:GetObject", "s3:PutObject", "states:ListExecutions", "states:DescribeExecution"}


def test_terraform_reads_the_metrics_the_backup_publishes():
    """The dashboard graphs every metric of backup_core::metrics and nothing else under its namespace; the alarms
    read only metrics it publishes."""
    rust = set(re.findall(r'^pub const \w+: &str = "(\w+)";', core_file_with("pub const RUNS_STARTED").read_text(), re.M))
    assert len(rust) >= 5, rust
    dashboard = (TERRAFORM / "dashboard.tf").read_text()
    per_target = re.search(r"per_target = \{ for m, stat in \{(.*?)\}", dashboard, re.S)
    assert per_target, "dashboard.tf: the per_target metric map is not where this test reads it"
    graphed = set(re.findall(r'^\s*(\w+)\s*=\s*"(?:Maximum|Sum|Average)"$', per_target.group(1), re.M))
    assert graphed == rust, f"dashboard graphs {sorted(graphed)}, the backup publishes {sorted(rust)}"
    alerts = (TERRAFORM / "alerts.tf").read_text()
    alarmed = set(re.findall(r'namespace\s*=\s*local\.metric_namespace\s*\n\s*metric_name\s*=\s*"(\w+)"', alerts))
    assert alarmed and alarmed <= rust, f"alarms read {sorted(alarmed)}, the backup publishes {sorted(rust)}"


def test_the_fleet_lists_prefix_is_the_one_iam_grants():
    """The fleet function writes a Distributed Map fleet's lists under backup_core::fleet::FLEET_RUNS_PREFIX; the
    fleet function's and the fleet state machine's S3 grants are on the Terraform local fleet_runs_prefix."""
    rust = re.search(r'pub const FLEET_RUNS_PREFIX: &str = "([^"]+)";',
                     core_file_with("pub const FLEET_RUNS_PREFIX").read_text()).group(1)
    terraform = re.search(r'fleet_runs_prefix\s*=\s*"([^"]+)"', (TERRAFORM / "locals.tf").read_text()).group(1)
    assert rust == terraform
