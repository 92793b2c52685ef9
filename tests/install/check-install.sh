#!/bin/sh
# `cmake --install` of the build into an empty folder (DESTDIR), then: no installed program holds
# a path of the checkout it was built from, and the installed `dmacycle demo` runs the main job
# from a working directory outside both, finding its dmacycled and the shipped configuration
# through its own install prefix (docs/architecture.md, "The programs").
# usage: check-install.sh BUILD_DIR SOURCE_DIR WORK_DIR strings|no-strings
# (no-strings: a build whose debug information or sanitizers name the source files by design)
set -eu
build=$1 source=$2 work=$3 check=$4
rm -rf "$work"
mkdir -p "$work/root" "$work/elsewhere"
DESTDIR="$work/root" cmake --install "$build" >"$work/install.log"
prefix=$(sed -n 's/^CMAKE_INSTALL_PREFIX:PATH=//p' "$build/CMakeCache.txt")
bin="$work/root$prefix/bin"
for program in dmacycle dmacycled dmacycle-sim; do
    [ -x "$bin/$program" ] || { echo "$bin/$program was not installed"; exit 1; }
    if [ "$check" = strings ] && strings "$bin/$program" | grep -F "$source"; then
        echo "$bin/$program holds the checkout's path $source (above)"
        exit 1
    fi
done
[ -f "$work/root$prefix/share/dmacycle/jobs/mode1-0-200.yaml" ] ||
    { echo "no share/dmacycle/jobs/mode1-0-200.yaml under $work/root$prefix"; exit 1; }
status=0
(cd "$work/elsewhere" && env -u DMACYCLE_CONFIG_DIR "$bin/dmacycle" demo) >"$work/demo.out" 2>&1 ||
    status=$?
# 0: the fits are judged good; 1: a fit came out unusable, which the noise can do (still a run).
if [ "$status" -gt 1 ]; then
    echo "installed dmacycle demo exited $status:"
    cat "$work/demo.out"
    exit 1
fi
grep -q "mode1-0-200" "$work/demo.out" || { cat "$work/demo.out"; exit 1; }
echo "installed under $work/root$prefix ($check): demo exited $status"
