#!/usr/bin/env bash
# Build librdb's rdb-cli (https://github.com/redis/librdb) reproducibly, offline.
#
# Usage: build-librdb.sh LIBRDB_SRC
#   LIBRDB_SRC  a librdb source dir, a tarball (.tar/.tar.gz/.tgz, e.g. from `git archive`),
#               or a (bare) git dir whose HEAD is archived.
#
# Environment (all optional):
#   WORK_DIR       build tree (default target/tools/librdb-src; recreated unless it *is* LIBRDB_SRC)
#   OUT_DIR        where rdb-cli is copied (default target/tools; `make bench RDB_CLI=target/tools/rdb-cli`)
#   JOBS           parallel make jobs (default 2)
#   HIREDIS_SRC    hiredis sources for deps/hiredis: a dir, a tarball, or a git dir
#                  (default: none; then the PyPI sdist below)
#   HIREDIS_COMMIT commit to archive when HIREDIS_SRC is a git dir
#                  (default 869f3d0ef1513dd0258ad7190c9914df16dcc4a4 = librdb's submodule pin, hiredis v1.2.0-8)
#   HIREDIS_PYPI   hiredis-py sdist to fall back on; its vendor/hiredis holds the C sources
#                  (default "hiredis==2.3.2", which vendors hiredis C 1.2.0; set empty to skip)
#   VERIFY         1 (default) = smoke-test with a throw-away redis-server on 127.0.0.1 if available; 0 = skip
#
# hiredis is only needed by librdb's tests (and the top-level `make` insists on deps/hiredis/hiredis.h);
# rdb-cli itself links only lib/librdb.a + lib/librdb-ext.a. When deps/hiredis has no Makefile
# (the PyPI sdist strips it) or is absent, only what rdb-cli needs is built:
#   deps/redis, src/lib, src/ext, src/cli.
#
# Prints the path of the rdb-cli binary as the last line of stdout; logs go to stderr.
set -euo pipefail

log() { printf '[build-librdb] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

[ $# -ge 1 ] || die "usage: $0 LIBRDB_SRC_DIR_OR_TARBALL"
SRC=$1
WORK_DIR=${WORK_DIR:-$PWD/target/tools/librdb-src}
OUT_DIR=${OUT_DIR:-$PWD/target/tools}
JOBS=${JOBS:-2}
HIREDIS_COMMIT=${HIREDIS_COMMIT:-869f3d0ef1513dd0258ad7190c9914df16dcc4a4}
HIREDIS_PYPI=${HIREDIS_PYPI-hiredis==2.3.2}
VERIFY=${VERIFY:-1}
HIREDIS_SRC=${HIREDIS_SRC:-}

TMP=$(mktemp -d)
REDIS_PID=
cleanup() {
    if [ -n "$REDIS_PID" ]; then kill "$REDIS_PID" 2>/dev/null || true; fi
    rm -rf "$TMP"
}
trap cleanup EXIT

is_git_dir() { git --git-dir="$1" rev-parse --git-dir >/dev/null 2>&1; }
# git dir of a work tree (".git") or the dir itself if bare
git_dir_of() { if [ -e "$1/.git" ]; then echo "$1/.git"; else echo "$1"; fi; }

# Extract a tarball into $2, stripping a single top-level directory if there is one.
untar_into() {
    local tarball=$1 dest=$2 x="$TMP/untar.$RANDOM"
    mkdir -p "$x" "$dest"
    tar -xf "$tarball" -C "$x"
    local entries=("$x"/* "$x"/.[!.]*)
    local real=()
    for e in "${entries[@]}"; do [ -e "$e" ] && real+=("$e"); done
    if [ ${#real[@]} -eq 1 ] && [ -d "${real[0]}" ]; then
        cp -a "${real[0]}"/. "$dest"/
    else
        cp -a "$x"/. "$dest"/
    fi
}

# ---------------------------------------------------------------- librdb sources
LIBRDB_COMMIT=unknown
SRC_ABS=$(cd "$(dirname "$SRC")" && pwd)/$(basename "$SRC")
WORK_ABS=$(mkdir -p "$(dirname "$WORK_DIR")" && cd "$(dirname "$WORK_DIR")" && pwd)/$(basename "$WORK_DIR")
if [ "$SRC_ABS" = "$WORK_ABS" ]; then
    log "building in place in $WORK_ABS"
else
    rm -rf "$WORK_ABS"
    mkdir -p "$WORK_ABS"
    if [ -d "$SRC" ] && [ ! -f "$SRC/Makefile" ] && is_git_dir "$SRC"; then
        log "archiving HEAD of git dir $SRC"
        LIBRDB_COMMIT=$(git --git-dir="$SRC" rev-parse HEAD)
        git --git-dir="$SRC" archive HEAD | tar -x -C "$WORK_ABS"
    elif [ -d "$SRC" ]; then
        log "copying source dir $SRC"
        cp -a "$SRC"/. "$WORK_ABS"/
    elif [ -f "$SRC" ]; then
        log "extracting tarball $SRC"
        # a `git archive` tarball records its commit in a pax header
        LIBRDB_COMMIT=$( { if [[ $SRC == *gz ]]; then gzip -dc "$SRC"; else cat "$SRC"; fi; } \
                         | git get-tar-commit-id 2>/dev/null || echo unknown)
        untar_into "$SRC" "$WORK_ABS"
    else
        die "no such source: $SRC"
    fi
fi
if [ -d "$SRC_ABS" ] && [ -e "$SRC_ABS/.git" ]; then
    LIBRDB_COMMIT=$(git -C "$SRC_ABS" rev-parse HEAD 2>/dev/null || echo "$LIBRDB_COMMIT")
fi
cd "$WORK_ABS"
[ -f src/cli/rdb-cli.c ] && [ -f Makefile ] || die "$WORK_ABS does not look like librdb"
log "librdb version $(sed -n 's/.*LIBRDB_VERSION_STRING "\(.*\)"/\1/p' src/version.h), commit $LIBRDB_COMMIT"

# ---------------------------------------------------------------- deps/hiredis
HIREDIS_USED=none
if [ -f deps/hiredis/hiredis.h ]; then
    HIREDIS_USED="already present in deps/hiredis"
else
    rm -rf deps/hiredis
    mkdir -p deps/hiredis
    if [ -n "$HIREDIS_SRC" ] && [ -d "$HIREDIS_SRC" ] && is_git_dir "$(git_dir_of "$HIREDIS_SRC")" \
       && git --git-dir="$(git_dir_of "$HIREDIS_SRC")" cat-file -e "$HIREDIS_COMMIT^{commit}" 2>/dev/null; then
        git --git-dir="$(git_dir_of "$HIREDIS_SRC")" archive "$HIREDIS_COMMIT" | tar -x -C deps/hiredis
        HIREDIS_USED="git $HIREDIS_SRC @ $HIREDIS_COMMIT"
    elif [ -n "$HIREDIS_SRC" ] && [ -d "$HIREDIS_SRC" ] && [ -f "$HIREDIS_SRC/hiredis.h" ]; then
        cp -a "$HIREDIS_SRC"/. deps/hiredis/
        HIREDIS_USED="dir $HIREDIS_SRC"
    elif [ -n "$HIREDIS_SRC" ] && [ -f "$HIREDIS_SRC" ]; then
        untar_into "$HIREDIS_SRC" deps/hiredis
        HIREDIS_USED="tarball $HIREDIS_SRC"
    elif [ -n "$HIREDIS_PYPI" ] && command -v pip >/dev/null 2>&1; then
        log "fetching hiredis C sources from the PyPI sdist $HIREDIS_PYPI"
        if pip download "$HIREDIS_PYPI" --no-binary :all: --no-deps -d "$TMP/pypi" >&2; then
            mkdir -p "$TMP/pypi/x"
            tar -xzf "$TMP"/pypi/hiredis-*.tar.gz -C "$TMP/pypi/x"
            cp -a "$TMP"/pypi/x/hiredis-*/vendor/hiredis/. deps/hiredis/
            HIREDIS_USED="PyPI sdist $(basename "$TMP"/pypi/hiredis-*.tar.gz) vendor/hiredis"
        fi
    fi
    if [ ! -f deps/hiredis/hiredis.h ]; then
        log "WARNING: no hiredis sources found; building only rdb-cli's parts (tests need hiredis)"
        HIREDIS_USED=none
    fi
fi
if [ -f deps/hiredis/hiredis.h ]; then
    HV=$(awk '/define HIREDIS_(MAJOR|MINOR|PATCH) /{v=v (v?".":"") $3} END{print v}' deps/hiredis/hiredis.h)
    HIREDIS_USED="$HIREDIS_USED (hiredis $HV)"
fi
log "hiredis: $HIREDIS_USED"

# ---------------------------------------------------------------- build
build_cli_only() {
    log "building only deps/redis, src/lib, src/ext, src/cli"
    make -j"$JOBS" -C deps/redis all >&2
    make -j"$JOBS" -C src/lib all >&2
    make -j"$JOBS" -C src/ext all >&2
    make -j"$JOBS" -C src/cli all >&2
}
if [ -f deps/hiredis/Makefile ]; then
    log "full build: make -j$JOBS"
    if ! make -j"$JOBS" all >&2; then
        log "full build failed; falling back to the rdb-cli-only build"
        build_cli_only
    fi
else
    build_cli_only
fi
[ -x bin/rdb-cli ] || die "bin/rdb-cli was not produced"

mkdir -p "$OUT_DIR"
OUT=$(cd "$OUT_DIR" && pwd)/rdb-cli
cp -f bin/rdb-cli "$OUT"
# librdb is linked statically (librdb.a, librdb-ext.a); copy any non-system lib it still needs
if command -v ldd >/dev/null 2>&1; then
    ldd "$OUT" >&2 || true
    while read -r lib; do
        case $lib in "$WORK_ABS"/*) log "copying $lib beside rdb-cli"; cp -f "$lib" "$OUT_DIR"/ ;; esac
    done < <(ldd "$OUT" 2>/dev/null | awk '$2=="=>" && $3 ~ /^\// {print $3}')
    if ldd "$OUT" 2>/dev/null | grep -q 'not found'; then die "unresolved shared libraries"; fi
fi
"$OUT" 2>&1 | head -1 >&2 || true

# ---------------------------------------------------------------- smoke test
if [ "$VERIFY" = 1 ] && command -v redis-server >/dev/null && command -v redis-cli >/dev/null; then
    PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    mkdir -p "$TMP/redis"
    redis-server --port "$PORT" --bind 127.0.0.1 --save '' --dir "$TMP/redis" --logfile "$TMP/redis/log" &
    REDIS_PID=$!
    for _ in $(seq 50); do redis-cli -p "$PORT" ping >/dev/null 2>&1 && break; sleep 0.1; done
    redis-cli -p "$PORT" set smoke:str v >/dev/null
    redis-cli -p "$PORT" rpush smoke:list a b >/dev/null
    redis-cli -p "$PORT" hset smoke:hash f v >/dev/null
    redis-cli -p "$PORT" save >/dev/null
    kill "$REDIS_PID"; wait "$REDIS_PID" 2>/dev/null || true; REDIS_PID=
    KEYS=$(cd "$TMP" && "$OUT" "$TMP/redis/dump.rdb" print -k '%k' | sort | tr '\n' ' ')
    [ "$KEYS" = "smoke:hash smoke:list smoke:str " ] || die "smoke test: rdb-cli print -k %k gave '$KEYS'"
    log "smoke test OK: rdb-cli FILE print -k '%k' -> $KEYS"
else
    log "smoke test skipped"
fi

echo "$OUT"
