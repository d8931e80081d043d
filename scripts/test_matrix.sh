#!/usr/bin/env bash
# `make test-matrix`: the whole suite (unit tests, QGIS tests, the headless demo)
# on every QGIS release we support, then one table of pass/fail per release.
#
#   host    the machine's own QGIS (Debian bookworm: 3.22), run in this checkout
#   trixie  Debian trixie (QGIS 3.40 LTR) in a debootstrap chroot
#   sid     Debian sid (QGIS 3.44) in a debootstrap chroot
#
# The chroots are built on first use and cached OUTSIDE the checkout, so a fresh
# clone reuses them: ${OS_DOWNLOADS_MATRIX_CACHE:-/var/cache/os-downloads-matrix}/<suite>.
# Building one needs root, the Debian mirror and PyPI, nothing else (debootstrap
# is installed with apt when missing). Inside, a copy of this checkout runs the
# README's own set-up and tests: `make venv` (apt packages + .venv), `make
# test-unit`, `make test-qgis` (together that is `make test`), then
# `OS_DOWNLOADS_DEMO_HEADLESS=1 make demo`.
#
# Usage: scripts/test_matrix.sh [RELEASE...]        (default: host trixie sid)
#        scripts/test_matrix.sh --build RELEASE...  (only build the chroots)
#        scripts/test_matrix.sh --exec RELEASE CMD... (CMD in the chroot's copy of
#            the checkout, as the last run left it: for looking into a failure)
# Environment: OS_DOWNLOADS_MATRIX_CACHE, OS_DOWNLOADS_MATRIX_MIRROR (a Debian
# mirror, default http://deb.debian.org/debian), OS_DOWNLOADS_MATRIX_TIMEOUT
# (seconds per step, default 1800), OS_DOWNLOADS_MATRIX_LOGS (default .build/matrix).
#
# Exits non-zero when any cell of the table is not a pass.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE="${OS_DOWNLOADS_MATRIX_CACHE:-/var/cache/os-downloads-matrix}"
MIRROR="${OS_DOWNLOADS_MATRIX_MIRROR:-http://deb.debian.org/debian}"
STEP_TIMEOUT="${OS_DOWNLOADS_MATRIX_TIMEOUT:-1800}"
LOGS="${OS_DOWNLOADS_MATRIX_LOGS:-$ROOT/.build/matrix}"
# pytest-timeout's thread method dumps every thread's stack and ends the process
# even when the main thread is stuck in C++ (its default signal method cannot).
PYTEST_TIMEOUT_OPTS="--timeout=600 --timeout-method=thread"
CHROOT_WORK=/work/os_downloads  # the checkout's copy inside a chroot
# The demo's headless QGIS gets its own time limit in run_demo.py; this only
# stops a hung make.
DEMO_TIMEOUT=1200

ALL_RELEASES=(host trixie sid)
declare -A QGIS_OF=([host]="3.22" [trixie]="3.40" [sid]="3.44")

log() { printf '[matrix] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 2; }

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

# ------------------------------------------------------------------ mounts

# Mount points made by this process, innermost last; unmounted by the trap.
MOUNTED=()

mount_chroot() {
    local root="$1" target
    for target in /proc /sys /dev /dev/pts /dev/shm; do
        as_root mkdir -p "$root$target"
        as_root mount --bind "$target" "$root$target"
        MOUNTED+=("$root$target")
    done
    # X servers' sockets: the chroot shares the host's network namespace, so an
    # Xvfb in the chroot and one on the host must not pick the same display.
    # Sharing this folder lets run_demo.py see the host's displays as taken.
    if [ -d /tmp/.X11-unix ]; then
        as_root mkdir -p "$root/tmp/.X11-unix"
        as_root mount --bind /tmp/.X11-unix "$root/tmp/.X11-unix"
        MOUNTED+=("$root/tmp/.X11-unix")
    fi
    as_root cp -L /etc/resolv.conf "$root/etc/resolv.conf" 2>/dev/null || true
}

# Ends whatever still runs inside the chroot (all of it was started by this
# script), then unmounts in reverse order and checks that nothing is left.
unmount_chroot() {
    local root="$1" pid i left
    for pid in $(ls /proc | grep -E '^[0-9]+$'); do
        if [ "$(as_root readlink "/proc/$pid/root" 2>/dev/null)" = "$root" ]; then
            as_root kill -TERM "$pid" 2>/dev/null || true
        fi
    done
    for ((i = ${#MOUNTED[@]} - 1; i >= 0; i--)); do
        case "${MOUNTED[$i]}" in
        "$root"/*)
            as_root umount "${MOUNTED[$i]}" 2>/dev/null \
                || { sleep 2; as_root umount "${MOUNTED[$i]}" 2>/dev/null; } \
                || as_root umount -l "${MOUNTED[$i]}" || true
            unset 'MOUNTED[i]'
            ;;
        esac
    done
    MOUNTED=("${MOUNTED[@]}")
    left="$(findmnt -rn -o TARGET | grep -F "$root/" || true)"
    if [ -n "$left" ]; then
        log "error: still mounted under $root:"
        printf '  %s\n' $left >&2
        return 1
    fi
}

cleanup() {
    local status=$? root
    trap - EXIT INT TERM
    for root in "$CACHE"/*; do
        if printf '%s\n' "${MOUNTED[@]:-}" | grep -qF "$root/"; then
            unmount_chroot "$root" || status=1
        fi
    done
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

in_chroot() {
    local root="$1"
    shift
    as_root env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
        HOME=/root LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive TERM=dumb \
        chroot "$root" "$@"
}

# ------------------------------------------------------------------ chroots

ensure_debootstrap() {
    command -v debootstrap >/dev/null 2>&1 && return
    log "installing debootstrap with apt"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q debootstrap
}

# Copies the checkout (tracked and new files, never .venv/.build/.git) into the
# chroot, replacing the previous copy.
copy_checkout() {
    local root="$1"
    as_root rm -rf "$root$CHROOT_WORK"
    as_root mkdir -p "$root$CHROOT_WORK"
    if git -C "$ROOT" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
        # tracked files deleted in the work tree are listed too: skipped quietly
        (cd "$ROOT" && git ls-files -z -co --exclude-standard \
            | tar --null -T - --ignore-failed-read -cf - 2>/dev/null) \
            | as_root tar -C "$root$CHROOT_WORK" -xf -
    else
        tar -C "$ROOT" --exclude=./.venv --exclude=./.build --exclude=./.git -cf - . \
            | as_root tar -C "$root$CHROOT_WORK" -xf -
    fi
}

# One run at a time per chroot (a second would replace the checkout copy under
# the first): the lock is held until this script ends.
declare -A LOCKED
lock_chroot() {
    local suite="$1" fd
    [ -n "${LOCKED[$suite]:-}" ] && return
    as_root mkdir -p "$CACHE"
    as_root touch "$CACHE/.$suite.lock"
    exec {fd}<"$CACHE/.$suite.lock"
    flock -n "$fd" || die "another test-matrix run is using the $suite chroot ($CACHE/$suite)"
    LOCKED[$suite]=$fd
}

# Builds $CACHE/<suite> once: debootstrap into <suite>.partial, then apt and
# pip set-up, then the README's apt packages (`make apt-packages`), then renames
# it. A half-built chroot is never taken for a finished one.
build_chroot() {
    local suite="$1" root="$CACHE/$1" partial="$CACHE/$1.partial"
    lock_chroot "$suite"
    if [ -e "$root/.os-downloads-matrix-ready" ]; then
        return
    fi
    ensure_debootstrap
    as_root mkdir -p "$CACHE"
    local started=$SECONDS
    if [ ! -e "$partial/.debootstrap-done" ]; then
        as_root rm -rf "$partial"
        log "$suite: debootstrap --variant=minbase $suite (a few minutes)"
        as_root debootstrap --variant=minbase "$suite" "$partial" "$MIRROR"
        as_root touch "$partial/.debootstrap-done"
    fi
    # sid's Release file on a mirror can be past its Valid-Until date.
    if [ "$suite" = sid ]; then
        echo 'Acquire::Check-Valid-Until "false";' \
            | as_root tee "$partial/etc/apt/apt.conf.d/99os-downloads-no-valid-until" >/dev/null
    fi
    # pip and apt over HTTPS through a TLS-intercepting proxy need the host's
    # extra CA certificates and pip's configuration.
    if compgen -G '/usr/local/share/ca-certificates/*' >/dev/null; then
        as_root mkdir -p "$partial/usr/local/share/ca-certificates"
        as_root cp -r /usr/local/share/ca-certificates/. "$partial/usr/local/share/ca-certificates/"
    fi
    if [ -f /etc/pip.conf ]; then
        as_root cp /etc/pip.conf "$partial/etc/pip.conf"
    fi
    mount_chroot "$partial"
    in_chroot "$partial" apt-get update -q
    in_chroot "$partial" apt-get install -y -q make ca-certificates
    in_chroot "$partial" update-ca-certificates
    copy_checkout "$partial"
    log "$suite: installing the README's apt packages (make apt-packages, ~560 packages)"
    in_chroot "$partial" make -C "$CHROOT_WORK" apt-packages
    in_chroot "$partial" apt-get clean
    unmount_chroot "$partial"
    as_root rm -rf "$root"
    as_root mv "$partial" "$root"
    as_root touch "$root/.os-downloads-matrix-ready"
    log "$suite: chroot ready in $((SECONDS - started)) s at $root"
}

# ------------------------------------------------------------------ runs

# Last pytest summary line in a log, e.g. "312 passed, 2 skipped in 40.12s".
pytest_summary() {
    grep -E '^(=+ )?[0-9]+ (passed|failed|error)' "$1" | tail -n 1 \
        | sed -E 's/^=+ //; s/ =+$//; s/ in [0-9.]+s.*$//' || true
}

# One cell from a step's exit status and log: "pass 312", "FAIL 2 failed",
# "TIMEOUT" (the step's time limit ended it), "FAIL rc 2" (no pytest summary).
cell() {
    local rc="$1" logfile="$2" summary passed failed
    summary="$(pytest_summary "$logfile")"
    passed="$(grep -oE '[0-9]+ passed' <<<"$summary" | grep -oE '[0-9]+' || true)"
    failed="$(grep -oE '[0-9]+ (failed|errors?)' <<<"$summary" | paste -sd, - || true)"
    if [ "$rc" = 0 ]; then
        echo "pass${passed:+ $passed}"
    elif [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
        echo "TIMEOUT"
    elif [ -n "$failed" ]; then
        echo "FAIL $failed"
    else
        echo "FAIL rc ${rc:-?}"
    fi
}

# The commands run for one release, in the checkout ($1) by the shell given.
# Writes <logs>/<release>.{setup,unit,qgis,demo}.log and <release>.result.
suite_script() {
    local work="$1"
    cat <<EOF
set -u
cd '$work'
export PYTEST_ADDOPTS='$PYTEST_TIMEOUT_OPTS'
printf 'setup=%s\n' "\$(timeout $STEP_TIMEOUT make venv >"\$LOGDIR/setup.log" 2>&1; echo \$?)"
.venv/bin/python - <<'PY' 2>/dev/null || printf 'qgis=?\npython=?\ngdal=?\n'
import platform
from qgis.core import Qgis
from osgeo import gdal
print("qgis=" + Qgis.version().split("-")[0])
print("python=" + platform.python_version())
print("gdal=" + gdal.__version__)
PY
s=\$SECONDS; timeout -k 30 $STEP_TIMEOUT make test-unit >"\$LOGDIR/unit.log" 2>&1; rc=\$?
printf 'unit=%s\nunit_s=%s\n' \$rc \$((SECONDS - s))
s=\$SECONDS; timeout -k 30 $STEP_TIMEOUT make test-qgis >"\$LOGDIR/qgis.log" 2>&1; rc=\$?
printf 'qgis_rc=%s\nqgis_s=%s\n' \$rc \$((SECONDS - s))
s=\$SECONDS; OS_DOWNLOADS_DEMO_HEADLESS=1 timeout -k 30 $DEMO_TIMEOUT make demo >"\$LOGDIR/demo.log" 2>&1; rc=\$?
printf 'demo=%s\ndemo_s=%s\n' \$rc \$((SECONDS - s))
EOF
}

run_release() {
    local release="$1" started=$SECONDS outdir="$LOGS/$1" result="$LOGS/$1.result"
    rm -rf "$outdir" "$result"
    mkdir -p "$outdir"
    if [ "$release" = host ]; then
        log "host: make venv, test-unit, test-qgis, headless demo in $ROOT"
        LOGDIR="$outdir" bash -c "$(suite_script "$ROOT")" >"$result" 2>"$outdir/runner.log" || true
    else
        local root="$CACHE/$release"
        lock_chroot "$release"
        [ -e "$root/.os-downloads-matrix-ready" ] \
            || log "$release: building the chroot $root (a few minutes), log: $LOGS/$release.build.log"
        build_chroot "$release" >>"$LOGS/$release.build.log" 2>&1 \
            || { log "$release: building the chroot failed, see $LOGS/$release.build.log"
                 echo "setup=build-failed" >"$result"; echo "time_s=$((SECONDS - started))" >>"$result"
                 return; }
        log "$release: copying the checkout into $root$CHROOT_WORK, running the suite there"
        copy_checkout "$root"
        as_root mkdir -p "$root/work/matrix-logs"
        as_root rm -rf "$root/work/matrix-logs/$release"
        as_root mkdir -p "$root/work/matrix-logs/$release"
        mount_chroot "$root"
        in_chroot "$root" env LOGDIR="/work/matrix-logs/$release" \
            bash -c "$(suite_script "$CHROOT_WORK")" >"$result" 2>"$outdir/runner.log" || true
        unmount_chroot "$root"
        as_root cp -r "$root/work/matrix-logs/$release/." "$outdir/"
        # the demo's screenshots and result, for a look afterwards
        if [ -d "$root$CHROOT_WORK/.build/demo" ]; then
            as_root cp -r "$root$CHROOT_WORK/.build/demo" "$outdir/demo-out"
        fi
        as_root chown -R "$(id -u):$(id -g)" "$outdir"
    fi
    echo "time_s=$((SECONDS - started))" >>"$result"
}

value() { sed -n "s/^$2=//p" "$1" | tail -n 1; }

fmt_time() { printf '%dm%02ds' $(($1 / 60)) $(($1 % 60)); }

FAILED=0
ROWS=()

row_for() {
    local release="$1" result="$LOGS/$1.result" outdir="$LOGS/$1"
    local setup unit qgis demo
    setup="$(value "$result" setup)"
    if [ "$setup" != 0 ]; then
        unit="FAIL (set-up rc ${setup:-?}, see $outdir/setup.log)"; qgis="-"; demo="-"
        FAILED=1
    else
        unit="$(cell "$(value "$result" unit)" "$outdir/unit.log")"
        qgis="$(cell "$(value "$result" qgis_rc)" "$outdir/qgis.log")"
        if [ "$(value "$result" demo)" = 0 ]; then demo="pass"; else
            demo="$(cell "$(value "$result" demo)" "$outdir/demo.log")"; fi
        case "$unit $qgis $demo" in *FAIL* | *TIMEOUT*) FAILED=1 ;; esac
    fi
    ROWS+=("$(printf '| %-7s | %-7s | %-7s | %-6s | %-14s | %-14s | %-14s | %-7s |' \
        "$release" "$(value "$result" qgis)" "$(value "$result" python)" \
        "$(value "$result" gdal)" "$unit" "$qgis" "$demo" \
        "$(fmt_time "$(value "$result" time_s || echo 0)")")")
}

print_table() {
    printf '\n| %-7s | %-7s | %-7s | %-6s | %-14s | %-14s | %-14s | %-7s |\n' \
        release QGIS Python GDAL unit qgis demo time
    printf '|%s|%s|%s|%s|%s|%s|%s|%s|\n' --------- --------- --------- -------- \
        ---------------- ---------------- ---------------- ---------
    printf '%s\n' "${ROWS[@]}"
    echo
    echo "Logs: $LOGS/<release>/{setup,unit,qgis,demo}.log"
}

# ------------------------------------------------------------------ main

main() {
    local build_only=0 releases=() release
    if [ "${1:-}" = --exec ]; then
        [ $# -ge 3 ] && [ "$2" != host ] || die "usage: --exec trixie|sid COMMAND..."
        release="$2"
        shift 2
        lock_chroot "$release"
        build_chroot "$release"
        [ -d "$CACHE/$release$CHROOT_WORK" ] || copy_checkout "$CACHE/$release"
        mount_chroot "$CACHE/$release"
        local status=0
        in_chroot "$CACHE/$release" bash -c 'cd "$0" && exec "$@"' "$CHROOT_WORK" "$@" || status=$?
        unmount_chroot "$CACHE/$release"
        return "$status"
    fi
    while [ $# -gt 0 ]; do
        case "$1" in
        --build) build_only=1 ;;
        -h | --help) sed -n '2,25p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; return 0 ;;
        host | trixie | sid) releases+=("$1") ;;
        *) die "unknown release or option: $1 (releases: ${ALL_RELEASES[*]})" ;;
        esac
        shift
    done
    [ ${#releases[@]} -gt 0 ] || releases=("${ALL_RELEASES[@]}")
    if [ "$build_only" -eq 1 ]; then
        for release in "${releases[@]}"; do
            [ "$release" = host ] && continue
            build_chroot "$release"
        done
        return 0
    fi
    if [ "$(id -u)" -ne 0 ] && printf '%s\n' "${releases[@]}" | grep -qv '^host$'; then
        command -v sudo >/dev/null || die "the chroots need root (or sudo)"
    fi
    mkdir -p "$LOGS"
    local started=$SECONDS
    for release in "${releases[@]}"; do
        run_release "$release"
        row_for "$release"
    done
    print_table
    echo "Whole matrix: $(fmt_time $((SECONDS - started)))"
    return "$FAILED"
}

main "$@"
