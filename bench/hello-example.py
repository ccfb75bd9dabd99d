#!/usr/bin/env python3
"""Whole-command timings of testdata/examples/hello: builder against Docker's BuildKit.

For each run, each builder in turn: a cold build (`--no-cache`: every step runs, the base image
is present) then the same build again (the no-op rebuild). `--no-cache` rather than wiping state:
a pruned dockerd 20.10 still finds earlier results through the layers its images keep. Prints medians and the builder/docker ratio paired
within each run, as ../shared/bench does; the machine is shared, so single timings mean little.

    python3 bench/hello-example.py --runs 5 [--builder artifacts/builder/builder]
        [--docker-host unix:///tmp/anchors/docker.sock]

Needs root, a dockerd at --docker-host (../shared/tools/testenv.sh starts one) and the busybox
layout of scripts/setup. Docker's base is that registry's busybox tagged `busybox`; builder's is
the same image read from the layout, which is what README's first command does.
"""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CONTEXT = os.path.join(REPO, "testdata", "examples", "hello")
LAYOUT = os.path.join(REPO, "testdata", "images", "busybox", "oci")
# The 20.10 CLI of ../shared/bench (the one on PATH may be a newer CLI that wants buildx).
DOCKER = "/usr/bin/docker"


def timed(cmd, env):
    os.sync()
    start = time.perf_counter()
    result = subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed ({result.returncode}):\n{result.stderr}")
    return elapsed


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--builder", default=shutil.which("builder") or "builder")
    parser.add_argument("--docker-host", default="unix:///tmp/anchors/docker.sock")
    parser.add_argument("--base", default="127.0.0.1:5000/busybox:latest")
    args = parser.parse_args()

    docker_env = dict(os.environ, DOCKER_HOST=args.docker_host, DOCKER_BUILDKIT="1")
    subprocess.run([DOCKER, "pull", "-q", args.base], env=docker_env, check=True, stdout=subprocess.DEVNULL)
    subprocess.run([DOCKER, "tag", args.base, "busybox:latest"], env=docker_env, check=True)
    docker_build = [DOCKER, "build", "--network", "host", "--progress=plain", "-t", "bench/hello", CONTEXT]

    state = tempfile.mkdtemp(prefix="hello-bench-", dir="/var/tmp")
    builder_env = dict(os.environ, BUILDER_HOST="embedded", BUILDER_ROOT=state)
    builder_build = [args.builder, "build", "--progress", "plain",
                     "--build-context", f"busybox=oci-layout://{LAYOUT}", "-t", "bench/hello", CONTEXT]

    samples = {(tool, phase): [] for tool in ("builder", "docker") for phase in ("cold", "noop")}
    try:
        for run in range(args.runs):
            order = ("builder", "docker") if run % 2 == 0 else ("docker", "builder")
            for tool in order:
                cmd, env = (docker_build, docker_env) if tool == "docker" else (builder_build, builder_env)
                samples[(tool, "cold")].append(timed(cmd[:2] + ["--no-cache"] + cmd[2:], env))
                samples[(tool, "noop")].append(timed(cmd, env))
            print(f"run {run}: " + ", ".join(f"{t} {p} {samples[(t, p)][-1]:.2f}s" for t in ("builder", "docker") for p in ("cold", "noop")), flush=True)
    finally:
        shutil.rmtree(state, ignore_errors=True)

    print("\n| phase | builder s median (min–max) | docker s median (min–max) | builder/docker paired median (min–max) |")
    print("|---|---|---|---|")
    for phase in ("cold", "noop"):
        b, d = samples[("builder", phase)], samples[("docker", phase)]
        ratios = [x / y for x, y in zip(b, d)]
        cell = lambda xs, f="{:.2f}": f"{f.format(statistics.median(xs))} ({f.format(min(xs))}–{f.format(max(xs))})"
        print(f"| {phase} | {cell(b)} | {cell(d)} | {cell(ratios)} |")


if __name__ == "__main__":
    main()
