"""`ecb keys`, `ecb report` and `ecb diff` against RDB files written by a real redis-server: every type and encoding
the server writes (strings plain, integer and LZF-compressed; lists as one listpack node and as many; sets as intset,
listpack where the server has it, hashtable; sorted sets as listpack and skiplist; hashes as listpack and hashtable;
a stream with a consumer group and pending entries; keys with TTLs; databases 0 and 3; a key that is not UTF-8).

- `keys` equals `KEYS *` per database, with `TYPE` and `PEXPIRETIME`; its DUMP payloads equal the server's own `DUMP`
  byte for byte; `--match` selects what `KEYS pattern` selects.
- `diff` of two saves finds the known additions, deletions, value and TTL changes and not a pure re-encoding; `diff`
  of a backup against the live server finds the changes made since, also when DUMP is refused (type and expiry).
- Bad input (a corrupt file, an unclosed `[`, a database the server does not have) ends in a clear error and exit 2,
  a missing file in exit 3, a server that cannot be reached or refuses AUTH in exit 4 (as for restore-keys).
- The `diff` table stops at `--limit` rows per kind and says how many more; `--json` lists them all.
- A manifest in S3 (moto) is read shard by shard.

No local AWS stack is needed: these tests start their own redis-server and, for S3, their own moto server."""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis
import redis.cluster

from cargo import binary
from stack import CREDENTIALS, free_port, port_open, wait_until

ECB = binary("ecb")


@pytest.fixture(autouse=True)
def _no_leftover_faults():
    """Overrides conftest's: nothing here runs on the local stack, so it is not started."""
    yield


def ecb(*args: str, env: dict | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    # No AWS configuration at all for local files: ecb must not need one.
    base = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "ECB_"))}
    return subprocess.run([str(ECB), *args], capture_output=True, text=True, timeout=timeout, env={**base, **(env or {})})


def ecb_json(*args: str, env: dict | None = None):
    proc = ecb(*args, "--json", env=env)
    assert proc.returncode in (0, 1), proc.stderr
    return proc.returncode, json.loads(proc.stdout)


def key_of(item: dict) -> bytes:
    return base64.b64decode(item["keyBase64"]) if "keyBase64" in item else item["key"].encode()


def rfc3339_ms(text: str | None) -> int | None:
    if text is None:
        return None
    from datetime import datetime
    return round(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() * 1000)


class Server:
    """A redis-server on a free port, saving into its own directory."""

    def __init__(self, workdir: Path, *extra: str):
        self.dir = workdir
        self.port = free_port()
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(workdir), "--enable-debug-command", "local", *extra],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_until(lambda: port_open(self.port), 10, "redis-server", self.proc)
        self.version = tuple(int(x) for x in self.db(0).info("server")["redis_version"].split(".")[:2])

    def db(self, n: int, **kw) -> redis.Redis:
        return redis.Redis(port=self.port, db=n, **kw)

    def save(self, name: str) -> Path:
        self.db(0).save()
        path = self.dir.parent / name
        shutil.copy(self.dir / "dump.rdb", path)
        return path

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=30)


def fill(server: Server) -> None:
    r = server.db(0)
    r.config_set("list-max-listpack-size", 4)
    r.set("s:plain", "hello")
    r.set("s:int", 12345)
    r.set("s:neg", -42)
    r.set("s:long", "abcdefgh" * 40)  # compressible, over 20 bytes: LZF
    r.rpush("l:small", "a", "b", 3)
    r.rpush("l:big", *[f"item-{i}" for i in range(50)])  # 4 per node: many quicklist nodes
    r.sadd("set:int", 1, 2, 3)
    if server.version >= (7, 2):
        r.sadd("set:lp", "a", "b", "c")
    r.sadd("set:ht", *[f"m{i}" for i in range(600)])
    r.zadd("z:lp", {"a": 1.5, "b": 2, "c": -3})
    r.zadd("z:sl", {f"m{i}": i / 7 for i in range(200)})
    r.hset("h:lp", mapping={"f1": "v1", "f2": 2, "f3": "v3"})
    r.hset("h:ht", mapping={f"f{i}": f"v{i}" for i in range(600)})
    for i in range(5):
        r.xadd("st", {"n": i, "p": "x" * i})
    r.xgroup_create("st", "g", id="0")
    r.xreadgroup("g", "c1", {"st": ">"}, count=2)
    r.set("ttl:1", "v", ex=3600)
    r.hset("ttl:2", "f", "v")
    r.pexpire("ttl:2", 86_400_000)
    r.set(b"bin:\xff\xfe", "v")
    for k in ("user:1", "user:2", "user:10", "usr:1", "a*b", "abc", "bbc", "cbc", "dbc", "[x]"):
        r.set(k, k)
    d3 = server.db(3)
    d3.set("d3:x", "x")
    d3.hset("d3:h", "f", "v")
    # Let the server finish rehashing the big dicts (a save and a later DUMP then walk them in the same order).
    time.sleep(0.3)


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """The server (left running, equal to save B) and its two saves: A as filled, B after known changes."""
    work = tmp_path_factory.mktemp("keys")
    (work / "data").mkdir()
    server = Server(work / "data")
    try:
        fill(server)
        a = server.save("a.rdb")
        expected_a = snapshot(server)
        # DUMP as the server that wrote the file answers it (another server would walk its hashtables in another
        # order: Redis seeds its hash function per process).
        dumps_a = {(n, k): server.db(n).dump(k) for (n, k) in expected_a}
        r = server.db(0)
        r.set("new:1", "fresh")  # added
        r.delete("user:2")  # removed
        r.set("s:plain", "changed")  # value
        r.expire("ttl:1", 7200)  # expiry
        # A pure re-encoding: the same fields, now a hashtable (and a skiplist for the sorted set).
        r.config_set("hash-max-listpack-entries", 0)
        r.config_set("zset-max-listpack-entries", 0)
        fields, members = r.hgetall("h:lp"), r.zrange("z:lp", 0, -1, withscores=True)
        r.delete("h:lp", "z:lp")
        r.hset("h:lp", mapping=fields)
        r.zadd("z:lp", dict(members))
        r.config_set("hash-max-listpack-entries", 128)
        r.config_set("zset-max-listpack-entries", 128)
        time.sleep(0.3)
        b = server.save("b.rdb")
        yield {"server": server, "a": a, "b": b, "expected_a": expected_a, "dumps_a": dumps_a}
    finally:
        server.stop()


def snapshot(server: Server) -> dict:
    """(db, key) -> (type, PEXPIRETIME or None) of every key, as the server says."""
    out = {}
    for n in (0, 3):
        r = server.db(n)
        for k in r.keys("*"):
            at = r.execute_command("PEXPIRETIME", k)
            out[(n, k)] = (r.type(k).decode(), None if at < 0 else at)
    return out


def test_keys_lists_what_keys_star_lists_per_database_with_type_and_expiry(saved):
    code, items = ecb_json("keys", str(saved["a"]))
    assert code == 0
    got = {(i["db"], key_of(i)): (i["type"], rfc3339_ms(i["expiresAt"])) for i in items}
    expected = saved["expected_a"]
    assert set(got) == set(expected)
    for k, (kind, at) in expected.items():
        assert got[k][0] == kind, k
        assert (got[k][1] is None) == (at is None), k
        if at is not None:
            assert abs(got[k][1] - at) <= 1000, k
    assert all(i["sizeBytes"] > 0 and "shard" not in i for i in items)
    assert any("keyBase64" in i for i in items)
    # Every encoding the server wrote is among them.
    encodings = {line.split()[2] for line in ecb("keys", str(saved["a"])).stdout.splitlines()[1:]}
    for e in ("string", "list-quicklist-2", "set-intset", "set-hashtable", "zset-listpack", "zset-skiplist",
              "hash-listpack", "hash-hashtable"):
        assert e in encodings, (e, encodings)
    assert any(e.startswith("stream-listpacks") for e in encodings), encodings


def test_every_dump_payload_equals_the_servers_own_dump(saved):
    code, items = ecb_json("keys", str(saved["a"]), "--payload")
    assert code == 0 and len(items) == len(saved["dumps_a"])
    for item in items:
        ours = base64.b64decode(item["dumpBase64"])
        theirs = saved["dumps_a"][(item["db"], key_of(item))]
        assert ours == theirs, (item["db"], key_of(item), item["type"])


@pytest.mark.parametrize("pattern", ["*", "user:*", "user:?", "user:??", "[a-c]bc", "[^a-c]bc", "?bc", r"a\*b",
                                     r"\[x\]", "*:1*", "u*r:1", "[ab][b]c", "bin:*"])
def test_match_selects_what_keys_pattern_selects(saved, pattern):
    server = saved["server"]
    for db in (0, 3):
        code, items = ecb_json("keys", str(saved["b"]), "--match", pattern, "--db", str(db))
        assert code == 0
        assert sorted(key_of(i) for i in items) == sorted(server.db(db).keys(pattern)), (pattern, db)
        assert all(i["db"] == db for i in items)


def test_type_filter_and_plain_lines(saved):
    code, items = ecb_json("keys", str(saved["a"]), "--type", "zset")
    assert sorted(key_of(i) for i in items) == [b"z:lp", b"z:sl"]
    plain = ecb("keys", str(saved["a"]), "--db", "3")
    assert plain.returncode == 0
    lines = plain.stdout.splitlines()
    assert lines[0].split() == ["db", "type", "encoding", "expires", "at", "size", "key"]
    assert sorted(line.split()[-1] for line in lines[1:]) == ["d3:h", "d3:x"]
    bad = ecb("keys", str(saved["a"]), "--type", "bloom")
    assert bad.returncode == 2 and "--type" in bad.stderr


def test_report_counts_types_prefixes_and_the_biggest_keys(saved):
    code, doc = ecb_json("report", str(saved["a"]), "--top", "3")
    assert code == 0
    expected = saved["expected_a"]
    assert doc["keys"] == len(expected)
    types = {t["type"]: t["keys"] for t in doc["types"]}
    for kind in {v[0] for v in expected.values()}:
        assert types[kind] == sum(1 for v in expected.values() if v[0] == kind), kind
    assert {d["db"]: d["keys"] for d in doc["databases"]} == {
        n: sum(1 for (db, _) in expected if db == n) for n in (0, 3)}
    assert sum(b["keys"] for b in doc["ttl"]) == len(expected)
    assert next(b for b in doc["ttl"] if b["bucket"] == "none")["keys"] == len(expected) - 2
    user = next(p for p in doc["prefixes"]["entries"] if p.get("prefix") == "user:*")
    assert user["keys"] == 3 and user["depth"] == 1
    assert len(doc["biggestKeys"]) == 3 and doc["biggestKeys"][0]["key"] in ("h:ht", "set:ht")
    assert doc["shards"][0]["magic"] == "REDIS" and doc["shards"][0]["engine"].startswith("redis-ver")
    assert doc["fileBytes"] == saved["a"].stat().st_size
    table = ecb("report", str(saved["a"]))
    assert table.returncode == 0 and "biggest keys" in table.stdout and "user:*" in table.stdout


def test_diff_of_two_saves_finds_the_known_changes_and_not_a_re_encoding(saved):
    # B really re-encoded the hash and the sorted set.
    plain = ecb("keys", str(saved["b"]), "--match", "[hz]:lp").stdout
    assert "hash-hashtable" in plain and "zset-skiplist" in plain, plain
    code, doc = ecb_json("diff", str(saved["a"]), str(saved["b"]))
    assert code == 1
    assert [key_of(i) for i in doc["added"]] == [b"new:1"]
    assert [key_of(i) for i in doc["removed"]] == [b"user:2"]
    changed = {key_of(i): i for i in doc["changed"]}
    assert set(changed) == {b"s:plain", b"ttl:1"}, changed
    assert changed[b"s:plain"]["change"] == "value"
    assert changed[b"ttl:1"]["change"] == "expiry"
    assert rfc3339_ms(changed[b"ttl:1"]["b"]["expiresAt"]) > rfc3339_ms(changed[b"ttl:1"]["expiresAt"])
    assert doc["summary"] == {**doc["summary"], "added": 1, "removed": 1, "changed": 2, "comparison": "digest",
                              "sorted": True}
    same = ecb("diff", str(saved["a"]), str(saved["a"]))
    assert same.returncode == 0 and "no differences" in same.stdout
    table = ecb("diff", str(saved["a"]), str(saved["b"]), "--match", "user:*")
    assert table.returncode == 1 and "removed" in table.stdout and "0 added, 1 removed, 0 changed" in table.stdout
    # The table: at most --limit rows per kind, then how many more; the summary counts them all.
    cut = ecb("diff", str(saved["a"]), str(saved["b"]), "--limit", "1")
    lines = cut.stdout.splitlines()
    assert cut.returncode == 1 and [l.split()[0] for l in lines[1:4]] == ["added", "removed", "changed"], cut.stdout
    assert lines[4:] == ["… and 1 more changed (--json or --limit 0 lists all)",
                         lines[-1]] and lines[-1].startswith("1 added, 1 removed, 2 changed"), cut.stdout
    every = ecb("diff", str(saved["a"]), str(saved["b"]), "--limit", "0")
    assert len(every.stdout.splitlines()) == 6 and "more" not in every.stdout, every.stdout


def test_diff_against_the_live_server_finds_what_changed_since_the_backup(saved):
    server = saved["server"]
    r = server.db(0)
    url = f"redis://127.0.0.1:{server.port}"
    # Right after save B the server equals it: nothing differs (expiries within ±2 s).
    code, doc = ecb_json("diff", str(saved["b"]), url)
    assert code == 0, doc
    assert doc["summary"]["comparison"] == "digest"
    r.delete("l:small")
    r.set("added:live", "v")
    r.hset("h:ht", "f0", "changed")
    r.pexpire("s:int", 600_000)
    try:
        code, doc = ecb_json("diff", str(saved["b"]), url)
        assert code == 1
        assert [key_of(i) for i in doc["added"]] == [b"added:live"]
        assert [key_of(i) for i in doc["removed"]] == [b"l:small"]
        changed = {key_of(i): i["change"] for i in doc["changed"]}
        assert changed == {b"h:ht": "value", b"s:int": "expiry"}
        # --match goes to SCAN MATCH and to the backup side alike.
        code, doc = ecb_json("diff", str(saved["b"]), url, "--match", "h:*")
        assert code == 1 and [key_of(i) for i in doc["changed"]] == [b"h:ht"] and not doc["added"]
        # Another database: the URL's, or --db.
        assert ecb("diff", str(saved["b"]), f"{url}/3").returncode == 0
        assert ecb("diff", str(saved["b"]), url, "--db", "3").returncode == 0
    finally:
        r.rpush("l:small", "a", "b", 3)
        r.delete("added:live")
        r.hset("h:ht", "f0", "v0")
        r.persist("s:int")


def test_a_server_refusing_dump_is_compared_by_type_and_expiry_and_its_password_never_shown(saved):
    server = saved["server"]
    r = server.db(0)
    secret = "s3cr@t-pw"
    r.execute_command("ACL", "SETUSER", "nodump", "on", f">{secret}", "~*", "+@all", "-dump")
    url = f"redis://nodump:s3cr%40t-pw@127.0.0.1:{server.port}"
    r.set("s:plain", "another value")  # a value change DUMP would see
    r.delete("usr:1")
    try:
        proc = ecb("diff", str(saved["b"]), url, "--json")
        assert proc.returncode == 1, proc.stderr
        doc = json.loads(proc.stdout)
        assert doc["summary"]["comparison"] == "type+expiry", doc["summary"]
        assert "DUMP refused" in doc["summary"]["comparisonNote"]
        assert [key_of(i) for i in doc["removed"]] == [b"usr:1"]
        assert doc["changed"] == [] and doc["added"] == []
        assert secret not in proc.stdout + proc.stderr and "s3cr%40t" not in proc.stdout + proc.stderr
        wrong = ecb("diff", str(saved["b"]), f"redis://nodump:wrong-{secret}@127.0.0.1:{server.port}")
        assert wrong.returncode == 4 and secret not in wrong.stderr + wrong.stdout, wrong.stderr
        assert f"127.0.0.1:{server.port}" in wrong.stderr, wrong.stderr
    finally:
        r.execute_command("ACL", "DELUSER", "nodump")
        r.set("s:plain", "changed")
        r.set("usr:1", "usr:1")


def test_bad_input_ends_in_a_clear_error(saved, tmp_path):
    data = bytearray(saved["a"].read_bytes())
    data[len(data) // 2] ^= 0x55
    corrupt = tmp_path / "corrupt.rdb"
    corrupt.write_bytes(bytes(data))
    for command in (["keys", str(corrupt), "--json"], ["report", str(corrupt)], ["diff", str(saved["a"]), str(corrupt)]):
        proc = ecb(*command)
        assert proc.returncode == 2, (command, proc.stderr)
        assert "corrupt.rdb: not a sound RDB file" in proc.stderr, proc.stderr
    proc = ecb("keys", str(saved["a"]), "--match", "user:[0-9")
    assert proc.returncode == 2 and "--match" in proc.stderr and "byte 5" in proc.stderr, proc.stderr
    proc = ecb("diff", str(saved["a"]), str(saved["b"]), "--match", "x\\")
    assert proc.returncode == 2 and "lone" in proc.stderr, proc.stderr
    closed = free_port()
    proc = ecb("diff", str(saved["a"]), f"redis://user:pw-secret@127.0.0.1:{closed}")
    assert proc.returncode == 4 and f"connecting to 127.0.0.1:{closed}" in proc.stderr, proc.stderr
    assert "pw-secret" not in proc.stderr
    live = f"redis://127.0.0.1:{saved['server'].port}"
    proc = ecb("diff", str(saved["a"]), live, "--db", "99")
    assert proc.returncode == 2 and "database 99 cannot be selected" in proc.stderr, proc.stderr
    proc = ecb("diff", str(saved["a"]), f"{live}/3", "--db", "4")
    assert proc.returncode == 2 and "--db 4" in proc.stderr, proc.stderr
    proc = ecb("keys", str(tmp_path / "missing.rdb"))
    assert proc.returncode == 3 and "no such file" in proc.stderr


def manifest_of(client, export: str, files: list[Path]) -> str:
    """Puts `files` as the shard objects of backup `export` in bucket `backups`, with its manifest; its URL."""
    objects = []
    for i, path in enumerate(files, start=1):
        body = path.read_bytes()
        key = f"{export}-{i:04d}.rdb"
        client.put_object(Bucket="backups", Key=key, Body=body)
        objects.append({"key": key, "sizeBytes": len(body), "sha256": "0" * 64,
                        "rdb": {"magic": "REDIS", "version": 10, "keys": 1, "keysWithExpiry": 0}})
    manifest = {"manifestVersion": 4, "tool": "elasticache-backup", "exportName": export, "bucket": "backups",
                "verifiedAt": "2026-11-22T03:06:05Z",
                "totals": {"objects": len(objects), "keys": 1, "keysWithExpiry": 0, "bytes": 1}, "objects": objects}
    client.put_object(Bucket="backups", Key=f"{export}.manifest.json", Body=json.dumps(manifest))
    return f"s3://backups/{export}.manifest.json"


@pytest.fixture(scope="module")
def s3():
    """A moto server with a bucket `backups`: (the environment ecb reads it with, a boto3 client)."""
    import boto3
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_until(lambda: port_open(port), 30, "moto server", proc)
        endpoint = f"http://127.0.0.1:{port}"
        client = boto3.client("s3", endpoint_url=endpoint, region_name=CREDENTIALS["AWS_REGION"],
                              aws_access_key_id="test", aws_secret_access_key="test")
        client.create_bucket(Bucket="backups")
        yield {**CREDENTIALS, "AWS_ENDPOINT_URL_S3": endpoint}, client
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_a_manifest_is_read_shard_by_shard_from_s3(saved, s3):
    env, client = s3
    # Saves A and B as the two shards of one backup.
    manifest = manifest_of(client, "ecb-orders-1a2b3c4d", [saved["a"], saved["b"]])
    code, items = ecb_json("keys", manifest, "--match", "user:*", env=env)
    assert code == 0
    shards = sorted((i["shard"], key_of(i)) for i in items)
    assert shards == [("ecb-orders-1a2b3c4d-0001.rdb", b"user:1"), ("ecb-orders-1a2b3c4d-0001.rdb", b"user:10"),
                      ("ecb-orders-1a2b3c4d-0001.rdb", b"user:2"), ("ecb-orders-1a2b3c4d-0002.rdb", b"user:1"),
                      ("ecb-orders-1a2b3c4d-0002.rdb", b"user:10")]
    code, doc = ecb_json("report", manifest, "--part-mib", "1", env=env)
    assert [s["shard"] for s in doc["shards"]] == ["ecb-orders-1a2b3c4d-0001.rdb", "ecb-orders-1a2b3c4d-0002.rdb"]
    # One object, and a diff between a local file and an object.
    code, items = ecb_json("keys", "s3://backups/ecb-orders-1a2b3c4d-0002.rdb", "--db", "3", env=env)
    assert sorted(key_of(i) for i in items) == [b"d3:h", b"d3:x"] and all("shard" not in i for i in items)
    code, doc = ecb_json("diff", str(saved["a"]), "s3://backups/ecb-orders-1a2b3c4d-0002.rdb", env=env)
    assert code == 1 and doc["summary"]["added"] == 1 and doc["summary"]["removed"] == 1
    missing = ecb("keys", "s3://backups/nope.rdb", env=env)
    assert missing.returncode == 3 and "HeadObject s3://backups/nope.rdb" in missing.stderr, missing.stderr


def test_a_cluster_backup_against_the_live_cluster_reads_every_primary(tmp_path, s3):
    env, client = s3
    nodes = []
    # Each node's own bus port: the default (port + 10000) may be taken, or past 65535.
    buses = [free_port() for _ in range(2)]
    try:
        for i in range(2):
            (tmp_path / f"n{i}").mkdir()
            nodes.append(Server(tmp_path / f"n{i}", "--cluster-enabled", "yes", "--cluster-port", str(buses[i])))
        first, second = nodes
        first.db(0).execute_command("CLUSTER", "ADDSLOTSRANGE", 0, 8191)
        second.db(0).execute_command("CLUSTER", "ADDSLOTSRANGE", 8192, 16383)
        first.db(0).execute_command("CLUSTER", "MEET", "127.0.0.1", second.port, buses[1])
        wait_until(lambda: all(b"cluster_state:ok" in n.db(0, decode_responses=False).execute_command(
            "CLUSTER", "INFO") for n in nodes), 30, "the cluster")
        rc = redis.cluster.RedisCluster(host="127.0.0.1", port=first.port)
        for i in range(40):
            rc.set(f"k{i}", i)
        assert all(n.db(0).dbsize() > 0 for n in nodes)
        manifest = manifest_of(client, "ecb-cache-0000feed", [n.save(f"node{i}.rdb") for i, n in enumerate(nodes)])
        url = f"redis://127.0.0.1:{first.port}"
        same = ecb("diff", manifest, url, env=env)
        assert same.returncode == 0, same.stdout + same.stderr
        rc.delete("k1")
        rc.set("k-new", 1)
        rc.set("k2", "changed")
        code, doc = ecb_json("diff", manifest, url, env=env)
        assert code == 1
        assert [key_of(i) for i in doc["removed"]] == [b"k1"] and doc["removed"][0]["shard"].endswith(".rdb")
        assert [key_of(i) for i in doc["added"]] == [b"k-new"]
        assert doc["added"][0]["shard"] in {f"127.0.0.1:{n.port}" for n in nodes}
        assert [(key_of(i), i["change"]) for i in doc["changed"]] == [(b"k2", "value")]
    finally:
        for n in nodes:
            n.stop()
