"""An existing deployment upgrades to the per-region module (terraform/modules/region, issue 23) without destroying
anything: the functions, their roles, policies and log groups, in the primary and in the DR region, are moved in
state (terraform/moved.tf), not replaced.

The "existing deployment" is made offline, with no AWS account: the terraform/ of BASE (the last commit before the
module) plans terraform/examples/complete, with a DR region, from nothing; the planned values become a state file
(format 4), with each value AWS would compute (ARNs, ids, versions) filled with a placeholder of its type; the old
code then plans against that state (-refresh=false) and its planned updates are written back until it plans no
change at all, so the state is what the old code would leave after an apply. The current terraform/ then plans
against that state: no resource may be destroyed or replaced, every old address of a moved resource must show up
as a change's previous_address, and nothing may change but addresses — except inline role policies that only gained
grants (features added since BASE need new permissions; no old grant may be lost), state machines whose ASL
changed (and nothing else about them), and what a function added since BASE brings (NEW_FUNCTIONS: its resources
are created, and the role policies and the dashboard that Terraform can only read at apply once it exists).

Terraform runs offline against the provider mirror the Makefile uses (TF_PLUGIN_DIR, else found on disk), with the
same provider settings as `make plan TF_OFFLINE=1`.
"""

import http.server
import io
import json
import os
import re
import shutil
import subprocess
import tarfile
import threading
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TERRAFORM = ROOT / "terraform"
# The last commit whose terraform/ had the functions at the root (aws_lambda_function.this, .dr, …).
BASE = "92ce8f282a9f5f6319cb0505b28c42d1b098a549"
EXAMPLE = Path("terraform/examples/complete")
ACCOUNT = "123456789012"
REGION, DR_REGION = "ap-northeast-2", "ap-northeast-1"
AWS = "registry.terraform.io/hashicorp/aws"
# The example's providers as the override below passes them to the module: its aws and aws.dr are the root's.
PROVIDERS = {"aws": f'provider["{AWS}"]', "aws.dr": f'provider["{AWS}"].dr'}
# Old address (in module.elasticache_backup) → new address: what moved.tf moves.
MOVED = {
    "aws_cloudwatch_log_group.function": "module.primary.aws_cloudwatch_log_group.this",
    "aws_iam_role.function": "module.primary.aws_iam_role.this",
    "aws_iam_role_policy.function": "module.primary.aws_iam_role_policy.this",
    "aws_lambda_function.this": "module.primary.aws_lambda_function.this",
    "aws_cloudwatch_log_group.dr_function": "module.dr[0].aws_cloudwatch_log_group.this",
    "aws_iam_role.dr_function": "module.dr[0].aws_iam_role.this",
    "aws_iam_role_policy.dr_function": "module.dr[0].aws_iam_role_policy.this",
    "aws_lambda_function.dr": "module.dr[0].aws_lambda_function.this",
}
OFFLINE = """
  access_key                  = "offline"
  secret_key                  = "offline"
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
  endpoints {
    sfn = "SFN_ENDPOINT"
  }
"""
# A new file: the DR region's provider. An override file: the offline settings (as `make plan TF_OFFLINE=1`), the
# DR region and the test zips (the example reads target/lambda, which `make build` writes).
DR_PROVIDER = f'provider "aws" {{\n  alias  = "dr"\n  region = "{DR_REGION}"\n{OFFLINE}}}\n'
OVERRIDE = f"""provider "aws" {{{OFFLINE}}}

module "elasticache_backup" {{
  providers = {{
    aws    = aws
    aws.dr = aws.dr
  }}
  dr_region            = "{DR_REGION}"
  lambda_artifacts_dir = "{TERRAFORM / "tests" / "fixtures" / "lambda"}"
}}
"""


class ValidDefinitions(http.server.BaseHTTPRequestHandler):
    """Step Functions' ValidateStateMachineDefinition, which the provider calls at plan once a definition is known:
    every definition is valid (asl-validator and the local stack check them; here only addresses matter)."""

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        ok = self.headers.get("X-Amz-Target", "").endswith(".ValidateStateMachineDefinition")
        body = json.dumps({"result": "OK", "diagnostics": []} if ok else {"__type": "UnknownOperationException"}).encode()
        self.send_response(200 if ok else 400)
        self.send_header("Content-Type", "application/x-amz-json-1.0")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def plugin_dir():
    """The offline provider mirror (the directory holding registry.terraform.io/), found as the Makefile finds it."""
    if os.environ.get("TF_PLUGIN_DIR"):
        return os.environ["TF_PLUGIN_DIR"]
    found = subprocess.run(["find", "/", "-maxdepth", "5", "-type", "d", "-path", f"*{AWS}"],
                           capture_output=True, text=True).stdout.split()
    return str(Path(found[0]).parents[2]) if found else None


def terraform(cwd: Path, *args: str) -> str:
    out = subprocess.run(["terraform", *args, "-no-color"], cwd=cwd, capture_output=True, text=True, timeout=600,
                         env={**os.environ, "TF_IN_AUTOMATION": "1"})
    assert out.returncode == 0, f"terraform {' '.join(args)} in {cwd} failed:\n{out.stdout[-3000:]}\n{out.stderr[-3000:]}"
    return out.stdout


# The example's other providers (the vault account's, issue 28) get the same offline settings; without a vault
# nothing uses them, but Terraform configures every provider the configuration declares.
ALIASED = re.compile(r'^provider "aws" \{\n\s*alias\s*=\s*"(\w+)"', re.M)


def prepare(checkout: Path, sfn_endpoint: str) -> Path:
    """examples/complete of a terraform/ checkout, with a DR region, offline, initialised."""
    example = checkout / EXAMPLE
    (example / "zz_moved_test_dr.tf").write_text(DR_PROVIDER.replace("SFN_ENDPOINT", sfn_endpoint))
    aliased = "".join(f'provider "aws" {{\n  alias = "{a}"\n{OFFLINE}}}\n'
                      for a in ALIASED.findall((example / "main.tf").read_text()))
    (example / "zz_moved_test_override.tf").write_text((OVERRIDE + aliased).replace("SFN_ENDPOINT", sfn_endpoint))
    mirror = plugin_dir()
    terraform(example, "init", "-input=false", "-backend=false", *([f"-plugin-dir={mirror}"] if mirror else []))
    return example


def plan(example: Path) -> dict:
    terraform(example, "plan", "-input=false", "-refresh=false", "-lock=false", f"-var=account_id={ACCOUNT}",
              "-out=moved-test.tfplan")
    return json.loads(terraform(example, "show", "-json", "moved-test.tfplan"))


def placeholder(typ, where: str):
    """A value of cty type `typ` standing for one AWS computes (or one computed from another such value)."""
    if typ == "string":
        # ARNs are ARN-shaped (they are validated where they are used); other strings are not empty (required ones
        # may not be).
        name = where.rsplit("/", 1)[-1]
        path = re.sub(r"[^A-Za-z0-9._/-]+", "-", where)
        return f"arn:aws:placeholder:{REGION}:{ACCOUNT}:{path}" if "arn" in name else f"placeholder-{path}"
    if typ == "number":
        return 0
    if typ == "bool":
        return False
    if typ[0] in ("list", "set"):
        return []
    if typ[0] == "map":
        return {}
    if typ[0] == "object":
        return {k: None for k in typ[1]}
    return None


def fill_value(value, unknown, typ, where: str):
    """`value` with each leaf `unknown` marks replaced by a placeholder of its type."""
    if unknown is True:
        return placeholder(typ, where)
    if not unknown or value is None:
        return value
    if typ[0] in ("list", "set"):
        return [fill_value(v, unknown[i] if i < len(unknown) else False, typ[1], f"{where}/{i}") for i, v in enumerate(value)]
    if typ[0] == "map":
        return {k: fill_value(v, unknown.get(k), typ[1], f"{where}/{k}") for k, v in value.items()}
    if typ[0] == "object":
        return {k: fill_value(value.get(k), unknown.get(k), t, f"{where}/{k}") for k, t in typ[1].items()}
    return value


def fill_block(value, unknown, block: dict, where: str):
    """A resource's (or nested block's) values with its unknown attributes filled, after its schema."""
    value = dict(value or {})
    if unknown is True:
        unknown = {name: True for name in block.get("attributes", {})}
    unknown = unknown or {}
    for name, attr in block.get("attributes", {}).items():
        if name == "id" and unknown.get(name) is True:
            # Most of these resources' ids are their names (a role policy's is <role>:<name>, which nothing reads).
            value[name] = next((value[k] for k in ("name", "bucket", "function_name", "rule")
                                if isinstance(value.get(k), str)), re.sub(r"[^A-Za-z0-9_-]+", "-", where))
        elif unknown.get(name) is True and attr.get("optional") and attr.get("computed") and attr.get("type") == "string":
            value[name] = None  # what AWS sets when it is not set here (an empty string may be invalid)
        elif "type" in attr:
            value[name] = fill_value(value.get(name), unknown.get(name), attr["type"], f"{where}/{name}")
        elif unknown.get(name) is True:  # a nested attribute (plugin framework): an empty collection will do
            value[name] = None if attr["nested_type"]["nesting_mode"] == "single" else []
    for name, nested in block.get("block_types", {}).items():
        v, u = value.get(name), unknown.get(name)
        if not u or v is None:
            continue
        if nested["nesting_mode"] in ("single", "group"):
            value[name] = fill_block(v, u, nested["block"], f"{where}/{name}")
        elif nested["nesting_mode"] in ("list", "set"):
            value[name] = [fill_block(x, u[i] if isinstance(u, list) and i < len(u) else u is True, nested["block"],
                                      f"{where}/{name}/{i}") for i, x in enumerate(v)]
    return value


def merge_unknown(after, unknown, before):
    """A planned update's values, with each value that stays unknown until apply taken from the prior state."""
    if unknown is True:
        return before
    if not unknown:
        return after
    if isinstance(after, dict) and isinstance(unknown, dict):
        prior = before if isinstance(before, dict) else {}
        return {k: merge_unknown(after.get(k), unknown.get(k), prior.get(k)) for k in set(after) | set(unknown)}
    if isinstance(after, list) and isinstance(unknown, list):
        prior = before if isinstance(before, list) else []
        return [merge_unknown(a, unknown[i] if i < len(unknown) else False, prior[i] if i < len(prior) else None)
                for i, a in enumerate(after)]
    return after


def instance(change: dict) -> tuple:
    return change.get("module_address", ""), change["type"], change["name"], change.get("index")


def state_of(planned: dict, schemas: dict) -> dict:
    """A state file (format 4) holding what `planned` (a plan from nothing) creates, computed values filled."""
    keys = {r["address"]: r["provider_config_key"]
            for r in planned["configuration"]["root_module"]["module_calls"]["elasticache_backup"]["module"]["resources"]}
    resources = {}
    for change in planned["resource_changes"]:
        if change["mode"] != "managed":
            continue
        assert change["change"]["actions"] == ["create"], change["address"]
        module, typ, name, index = instance(change)
        schema = schemas[typ]
        values = fill_block(change["change"]["after"], change["change"]["after_unknown"], schema["block"],
                            change["address"])
        if typ == "aws_sfn_state_machine" and isinstance(values.get("name"), str):
            # A state machine's ARN has the documented form (Step Functions API Reference, "CreateStateMachine"),
            # which the module also writes itself where it must be known at plan time.
            region = DR_REGION if PROVIDERS[keys[f"{typ}.{name}"]].endswith(".dr") else REGION
            values["arn"] = values["id"] = f"arn:aws:states:{region}:{ACCOUNT}:stateMachine:{values['name']}"
        resource = resources.setdefault((module, typ, name), {
            "module": module, "mode": "managed", "type": typ, "name": name,
            "provider": PROVIDERS[keys[f"{typ}.{name}"]], "instances": [],
        })
        resource["instances"].append({
            **({} if index is None else {"index_key": index}),
            "schema_version": schema.get("version", 0), "attributes": values, "sensitive_attributes": [],
        })
    return {"version": 4, "terraform_version": planned["terraform_version"], "serial": 1, "lineage": str(uuid.uuid4()),
            "outputs": {}, "resources": list(resources.values()), "check_results": None}


def changes(planned: dict) -> list:
    """The managed resources' changes, except updates that change no value (the SDK's legacy providers plan those
    where the state holds null and the provider would have written its zero value, as in a state it wrote)."""
    return [c for c in planned["resource_changes"] if c["mode"] == "managed" and c["change"]["actions"] != ["no-op"]
            and not (c["change"]["actions"] == ["update"] and c["change"]["before"] == c["change"]["after"]
                     and not has_unknown(c["change"]["after_unknown"]))]


def has_unknown(unknown) -> bool:
    if isinstance(unknown, dict):
        return any(has_unknown(v) for v in unknown.values())
    if isinstance(unknown, list):
        return any(has_unknown(v) for v in unknown)
    return unknown is True


def settle(example: Path, state: dict) -> dict:
    """Writes the old code's planned updates into the state until it plans no change (what an apply leaves)."""
    for _ in range(6):
        (example / "terraform.tfstate").write_text(json.dumps(state))
        pending = changes(plan(example))
        if not pending:
            return state
        # Values computed from another resource's placeholder differ from their own (even where that replaces).
        wrong = [f"{c['address']}: {c['change']['actions']}" for c in pending
                 if c["change"]["actions"] not in (["update"], ["delete", "create"], ["create", "delete"])]
        assert not wrong, f"the old code's state is not consistent: {wrong}"
        by_instance = {(r["module"], r["type"], r["name"], i.get("index_key")): i
                       for r in state["resources"] for i in r["instances"]}
        for c in pending:
            held = by_instance[instance(c)]
            held["attributes"] = merge_unknown(c["change"]["after"], c["change"]["after_unknown"], c["change"]["before"])
        state["serial"] += 1
    pytest.fail(f"the old code still plans updates after 6 rounds: {[c['address'] for c in pending]}")


@pytest.fixture(scope="module")
def upgrade(tmp_path_factory):
    """(the state of a deployment of BASE, the current code's plan against it)."""
    if shutil.which("terraform") is None:
        pytest.fail("terraform is not installed (make deps-checks checks for it)")
    tmp = tmp_path_factory.mktemp("moved")
    archive = subprocess.run(["git", "archive", "--format=tar", BASE, "terraform"], cwd=ROOT, capture_output=True)
    assert archive.returncode == 0, f"git archive {BASE} (the code before modules/region) failed: {archive.stderr.decode()}"
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(tmp / "old", filter="data")
    shutil.copytree(TERRAFORM, tmp / "new" / "terraform", ignore=shutil.ignore_patterns(
        ".terraform", ".terraform.lock.hcl", "terraform.tfstate*", "*.tfplan", "*_offline_override.tf"))

    sfn = http.server.ThreadingHTTPServer(("127.0.0.1", 0), ValidDefinitions)
    threading.Thread(target=sfn.serve_forever, daemon=True).start()
    try:
        endpoint = f"http://127.0.0.1:{sfn.server_address[1]}"
        old = prepare(tmp / "old", endpoint)
        schemas = json.loads(terraform(old, "providers", "schema", "-json"))["provider_schemas"][AWS]["resource_schemas"]
        state = settle(old, state_of(plan(old), schemas))

        new = prepare(tmp / "new", endpoint)
        (new / "terraform.tfstate").write_text(json.dumps(state))
        yield state, plan(new)
    finally:
        sfn.shutdown()


def test_the_old_deployment_has_every_moved_resource_in_both_regions(upgrade):
    state, _ = upgrade
    held = {f"{r['type']}.{r['name']}": len(r["instances"]) for r in state["resources"]}
    assert {k: held.get(k, 0) for k in MOVED} == {
        "aws_cloudwatch_log_group.function": 14, "aws_iam_role.function": 14, "aws_iam_role_policy.function": 14,
        "aws_lambda_function.this": 14, "aws_cloudwatch_log_group.dr_function": 5, "aws_iam_role.dr_function": 5,
        "aws_iam_role_policy.dr_function": 5, "aws_lambda_function.dr": 5,
    }


def test_the_upgrade_destroys_and_replaces_nothing(upgrade):
    _, planned = upgrade
    destroyed = [f"{c['address']}: {c['change']['actions']}" for c in planned["resource_changes"]
                 if "delete" in c["change"]["actions"] or c["change"].get("replace_paths")]
    assert not destroyed, f"the upgrade would destroy or replace {destroyed}"


def test_every_old_address_is_moved_to_the_region_module(upgrade):
    state, planned = upgrade
    moved = {c["previous_address"]: c["address"] for c in planned["resource_changes"] if c.get("previous_address")}
    prefix = "module.elasticache_backup."
    expected = {}
    for r in state["resources"]:
        if f"{r['type']}.{r['name']}" in MOVED:
            for i in r["instances"]:
                key = json.dumps(i["index_key"])
                expected[f"{prefix}{r['type']}.{r['name']}[{key}]"] = f"{prefix}{MOVED[r['type'] + '.' + r['name']]}[{key}]"
    assert len(expected) == 76
    assert {old: moved.get(old) for old in expected} == expected


def grants(policy_json: str) -> set[tuple]:
    """Every (effect, action, resource, conditions) an IAM policy document states, one per action and resource."""
    out = set()
    for st in json.loads(policy_json).get("Statement", []):
        listed = lambda v: v if isinstance(v, list) else [v]  # noqa: E731
        cond = json.dumps(st.get("Condition", {}), sort_keys=True)
        for action in listed(st.get("Action", [])):
            for resource in listed(st.get("Resource", [])):
                out.add((st.get("Effect"), action, resource, cond))
    return out


def only_adds_grants(change: dict) -> bool:
    """An in-place update of an inline role policy that keeps every grant of the old policy (features added since
    BASE add permissions; none may be lost, and nothing else about the policy may change)."""
    before, after = change["change"]["before"], change["change"]["after"]
    if change["type"] != "aws_iam_role_policy" or change["change"]["actions"] != ["update"]:
        return False
    if {k: v for k, v in before.items() if k != "policy"} != {k: v for k, v in after.items() if k != "policy"}:
        return False
    # A policy Terraform cannot know before the apply cannot be shown to keep its grants.
    return "policy" in after and grants(before["policy"]) <= grants(after["policy"])


def only_changes_a_definition(change: dict) -> bool:
    """An in-place update of a state machine that changes its ASL and nothing else (features added since BASE change
    the state machines; the new definition must still be JSON)."""
    before, after = change["change"]["before"], change["change"]["after"]
    if change["type"] != "aws_sfn_state_machine" or change["change"]["actions"] != ["update"]:
        return False
    # Only what the provider computes from the definition (revision, version) may be unknown besides.
    unknown = {k for k, v in change["change"]["after_unknown"].items() if has_unknown(v)}
    if not unknown <= {"revision_id", "state_machine_version_arn", "status", "update_date"}:
        return False
    same = lambda d: {k: v for k, v in d.items() if k != "definition" and k not in unknown}  # noqa: E731
    try:
        asl = json.loads(after["definition"])
    except (TypeError, ValueError):
        return False
    return same(before) == same(after) and isinstance(asl, dict)


# Functions added since BASE (their Lambda, role, policy, log group and schedule are new resources, not moves).
NEW_FUNCTIONS = {"evidence"}


def creates_a_new_function(change: dict) -> bool:
    """A pure create of a resource of a function added since BASE (keyed by its name, or its own schedule)."""
    if change["change"]["actions"] != ["create"]:
        return False
    return any(f'["{f}"]' in change["address"] or change["address"].endswith(f"aws_scheduler_schedule.{f}[0]")
               for f in NEW_FUNCTIONS)


def unknown_until_a_new_function_exists(change: dict) -> bool:
    """An in-place update of a role policy or the dashboard whose only difference is a value Terraform cannot know
    before the apply: a new function's log group or ARN is in it (a data source with a pending dependency is read at
    apply), so its grants cannot be compared here; nothing else about it may change."""
    if not NEW_FUNCTIONS or change["change"]["actions"] != ["update"]:
        return False
    field = {"aws_iam_role_policy": "policy", "aws_cloudwatch_dashboard": "dashboard_body"}.get(change["type"])
    if field is None:
        return False
    before, after = change["change"]["before"], change["change"]["after"]
    unknown = {k for k, v in change["change"]["after_unknown"].items() if has_unknown(v)}
    if field in after and field not in unknown:
        # Known: a role policy must keep every grant; the dashboard every widget it had (by title: the per-function
        # graphs gain the new function's series).
        if change["type"] == "aws_iam_role_policy":
            return only_adds_grants(change)
        titles = lambda body: [w.get("properties", {}).get("title") for w in json.loads(body)["widgets"]]  # noqa: E731
        return all(t in titles(after[field]) for t in titles(before[field]))
    same = lambda d: {k: v for k, v in d.items() if k != field and k not in unknown}  # noqa: E731
    return unknown <= {field} and same(before) == same(after)


def test_the_upgrade_changes_nothing_but_addresses(upgrade):
    _, planned = upgrade
    changed = [f"{c['address']}: {c['change']['actions']}" for c in changes(planned)
               if not only_adds_grants(c) and not only_changes_a_definition(c) and not creates_a_new_function(c)
               and not unknown_until_a_new_function_exists(c)]
    assert not changed, f"the upgrade plans changes besides the moves: {changed}"


def test_a_policy_update_that_drops_a_grant_is_a_change():
    old = json.dumps({"Statement": [{"Effect": "Allow", "Action": ["a:X", "a:Y"], "Resource": "r"}]})
    wider = json.dumps({"Statement": [{"Effect": "Allow", "Action": ["a:X", "a:Y", "a:Z"], "Resource": ["r", "s"]}]})
    narrower = json.dumps({"Statement": [{"Effect": "Allow", "Action": "a:X", "Resource": "r"}]})
    change = lambda b, a, **other: {"type": "aws_iam_role_policy", "change": {  # noqa: E731
        "actions": ["update"], "before": {"name": "p", "policy": b}, "after": {"name": "p", "policy": a, **other}}}
    assert only_adds_grants(change(old, wider))
    assert not only_adds_grants(change(old, narrower))
    assert not only_adds_grants(change(old, wider, name="q"))


def test_a_state_machine_update_beyond_its_definition_is_a_change():
    before = {"name": "m", "role_arn": "r", "definition": '{"StartAt": "A"}', "revision_id": "1"}
    change = lambda after, unknown=None: {"type": "aws_sfn_state_machine", "change": {  # noqa: E731
        "actions": ["update"], "before": before, "after": after, "after_unknown": unknown or {}}}
    assert only_changes_a_definition(change({**before, "definition": '{"StartAt": "B"}'}, {"revision_id": True}))
    assert not only_changes_a_definition(change({**before, "definition": '{"StartAt": "B"}', "role_arn": "s"}))
    assert not only_changes_a_definition(change({**before, "definition": "not json"}))
    assert not only_changes_a_definition(change({**before, "definition": '{"StartAt": "B"}'}, {"role_arn": True}))
