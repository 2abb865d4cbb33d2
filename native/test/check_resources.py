#!/usr/bin/env python3
"""The resource check of the real nvcc build, which the emulator cannot see.

Compiles each kernel source for every architecture with `ptxas -v`, reads each kernel's
registers, static shared memory, spills and __launch_bounds__ (the PTX .maxntid), and joins them
with the (kernel, block size) pairs that the host code launches, which the emulated tests logged
(CULOSS_EMU_LAUNCH_LOG). It fails, naming the class, the kernel and the architecture, when:
  - registers over budget: registers (allocated per warp in units of 256) x the block's warps
    exceed the 65536 registers of an SM (the launch would fail: too many resources requested);
  - shared memory: static shared memory over 48 KB (no kernel opts into more);
  - spills: a kernel spills to local memory, unless the allow file lists it with a reason;
  - launch bounds: a block larger than the kernel's __launch_bounds__ (the launch would fail), a
    smaller one unless the allow file lists it, or a launched kernel without __launch_bounds__;
  - a kernel launched but not compiled, or compiled but never launched by the tests (so that every
    kernel's launch is checked).

usage: check_resources.py --nvcc NVCC --include DIR... --arch 80 90 --log LAUNCHES [--allow FILE]
                          SOURCE.cu...
       check_resources.py --nvcc NVCC --include DIR... --arch 80 90 --save FILE SOURCE.cu...
       check_resources.py --load FILE --log LAUNCHES [--allow FILE] SOURCE.cu...
--save compiles and writes what ptxas reported, without the launch log, so that the compiling can
run beside the emulated tests that write the log; --load then joins the saved numbers with it.
"""
import json
import argparse
import concurrent.futures
import os
import re
import subprocess
import sys
import tempfile

REGS_PER_SM = 65536
REG_UNIT = 256  # registers are allocated to a warp in units of 256
STATIC_SHARED_LIMIT = 48 * 1024


def normalize(name):
    """One spelling for a kernel's name with its template arguments, whether it comes from
    c++filt (nvcc's symbol) or from g++'s __PRETTY_FUNCTION__ (the emulator's launch log)."""
    name = name.strip()
    if name.startswith("void "):
        name = name[5:]
    # drop the parameter list: the last balanced (...) at the end
    if name.endswith(")"):
        depth = 0
        for i in range(len(name) - 1, -1, -1):
            if name[i] == ")":
                depth += 1
            elif name[i] == "(":
                depth -= 1
                if depth == 0:
                    name = name[:i]
                    break
    name = name.replace("(anonymous namespace)::", "").replace("{anonymous}::", "")
    name = re.sub(r"[A-Za-z_][A-Za-z0-9_]*::", "", name)
    return name.replace(" ", "")


def demangle(names):
    if not names:
        return {}
    out = subprocess.run(["c++filt"], input="\n".join(names), capture_output=True, text=True, check=True).stdout
    return dict(zip(names, out.splitlines()))


def compile_source(nvcc, includes, archs, source, workdir):
    """{arch: {mangled: {regs, smem, spill_stores, spill_loads, stack, maxntid}}} for one source,
    from one nvcc run for every architecture."""
    stem = os.path.splitext(os.path.basename(source))[0]
    cmd = [nvcc, "-std=c++17", "--expt-relaxed-constexpr", "-c", "-Xptxas", "-v", "--keep", "--keep-dir", workdir,
           "-o", os.path.join(workdir, stem + ".o")]
    for inc in includes:
        cmd += ["-I", inc]
    for arch in archs:
        cmd += ["-gencode", f"arch=compute_{arch},code=sm_{arch}"]
    run = subprocess.run(cmd + [source], capture_output=True, text=True)
    if run.returncode != 0:
        sys.stderr.write(run.stdout + run.stderr)
        raise SystemExit(f"FAIL: nvcc could not build {source}")
    found = {arch: {} for arch in archs}
    current = None
    for line in run.stderr.splitlines():
        m = re.search(r"Compiling entry function '([^']+)' for 'sm_(\d+)'", line)
        if m:
            current = found.setdefault(m.group(2), {}).setdefault(m.group(1), {"maxntid": None})
            continue
        m = re.search(r"(\d+) bytes stack frame, (\d+) bytes spill stores, (\d+) bytes spill loads", line)
        if m and current is not None:
            current.update(stack=int(m.group(1)), spill_stores=int(m.group(2)), spill_loads=int(m.group(3)))
            continue
        m = re.search(r"Used (\d+) registers", line)
        if m and current is not None:
            current["regs"] = int(m.group(1))
            s = re.search(r"(\d+) bytes smem", line)
            current["smem"] = int(s.group(1)) if s else 0
    # __launch_bounds__ from the PTX: ".entry NAME(" ... ".maxntid X, Y, Z" before the body
    for arch in archs:
        ptx = os.path.join(workdir, f"{stem}.compute_{arch}.ptx")
        if len(archs) == 1 and not os.path.exists(ptx):
            ptx = os.path.join(workdir, f"{stem}.ptx")  # nvcc's --keep name when there is one architecture
        text = open(ptx).read()
        for m in re.finditer(r"\.entry\s+(\S+)\s*\((.*?)\)([^{]*)\{", text, re.S):
            bounds = re.search(r"\.maxntid\s+(\d+),\s*(\d+),\s*(\d+)", m.group(3))
            if m.group(1) in found[arch] and bounds:
                found[arch][m.group(1)]["maxntid"] = int(bounds.group(1)) * int(bounds.group(2)) * int(bounds.group(3))
    return found


def compile_all(args):
    """[(source, {arch: {mangled: numbers}})] for every source, compiled side by side."""
    if not args.nvcc:
        raise SystemExit("FAIL: --nvcc is required to compile")
    with tempfile.TemporaryDirectory() as work:
        with concurrent.futures.ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
            return list(pool.map(lambda src: (src, compile_source(args.nvcc, args.include, args.arch, src, work)),
                                 args.sources))


def read_allow(path):
    """Lines "class<TAB>kernel pattern<TAB>reason" (class: spills or smaller-block)."""
    allow = []
    if path and os.path.exists(path):
        for line in open(path):
            line = line.rstrip("\n")
            if not line or line.startswith("#"):
                continue
            parts = line.split("\t")
            if len(parts) != 3 or not parts[2].strip():
                raise SystemExit(f"FAIL: {path}: '{line}' is not class<TAB>kernel regex<TAB>reason")
            allow.append((parts[0], re.compile(parts[1]), parts[2]))
    return allow


def allowed(allow, cls, kernel):
    return any(c == cls and p.search(kernel) for c, p, _ in allow)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--nvcc")
    ap.add_argument("--include", nargs="*", default=[])
    ap.add_argument("--arch", nargs="+", default=["80", "90"])
    ap.add_argument("--log", help="the emulator's launch log (CULOSS_EMU_LAUNCH_LOG)")
    ap.add_argument("--allow", help="kernels allowed to spill or to take smaller blocks, with the reason")
    ap.add_argument("--save", help="compile only, and write the numbers ptxas gave to this file")
    ap.add_argument("--load", help="the numbers a --save run wrote: compile nothing")
    ap.add_argument("sources", nargs="+")
    args = ap.parse_args()

    if args.save:
        with open(args.save, "w") as f:
            json.dump(compile_all(args), f)
        return
    if not args.log:
        raise SystemExit("FAIL: --log is required (unless --save)")

    if not os.path.exists(args.log) or os.path.getsize(args.log) == 0:
        raise SystemExit(f"FAIL: no launch log at {args.log}: run the emulated tests with CULOSS_EMU_LAUNCH_LOG first")
    launches = {}  # normalized kernel -> set of block sizes
    for line in open(args.log):
        threads, _, kernel = line.rstrip("\n").partition("\t")
        launches.setdefault(normalize(kernel), set()).add(int(threads))
    allow = read_allow(args.allow)

    failures, rows = [], []
    compiled_names = set()
    if args.load:
        with open(args.load) as f:
            builds = json.load(f)
        saved = sorted(source for source, _ in builds)
        if saved != sorted(args.sources):
            raise SystemExit(f"FAIL: {args.load} holds {saved}, not the sources given: compile them again (--save)")
    else:
        builds = compile_all(args)
    for source, per_arch in builds:
        for arch, kernels in per_arch.items():
            names = demangle(list(kernels))
            for mangled, k in kernels.items():
                name = normalize(names[mangled])
                compiled_names.add(name)
                where = f"kernel {name} (sm_{arch}, {os.path.basename(source)})"
                spills = k.get("spill_stores", 0) + k.get("spill_loads", 0)
                if k.get("smem", 0) > STATIC_SHARED_LIMIT:
                    failures.append(f"shared memory: {where} declares {k['smem']} bytes (more than 48 KB)")
                if spills and not allowed(allow, "spills", name):
                    failures.append(f"spills: {where} spills {k['spill_stores']} bytes and reloads "
                                    f"{k['spill_loads']} (list it with the reason in the allow file if it must)")
                blocks = launches.get(name)
                if not blocks:
                    failures.append(f"never launched: {where} is compiled but no emulated test launched it")
                    continue
                for threads in sorted(blocks):
                    warps = (threads + 31) // 32
                    regs_per_warp = (k["regs"] * 32 + REG_UNIT - 1) // REG_UNIT * REG_UNIT
                    used = regs_per_warp * warps
                    rows.append((name, arch, threads, k["regs"], used, k.get("smem", 0), spills, k["maxntid"]))
                    if used > REGS_PER_SM:
                        failures.append(f"registers over budget: {where} uses {k['regs']} registers x "
                                        f"{threads} threads ({used} > {REGS_PER_SM})")
                    if k["maxntid"] is None:
                        failures.append(f"launch bounds: {where} has no __launch_bounds__ and is launched "
                                        f"with {threads} threads")
                    elif threads > k["maxntid"]:
                        failures.append(f"launch bounds: {where} is launched with {threads} threads, more "
                                        f"than its __launch_bounds__ ({k['maxntid']})")
                    elif threads < k["maxntid"] and not allowed(allow, "smaller-block", name):
                        failures.append(f"launch bounds: {where} is launched with {threads} threads, fewer "
                                        f"than its __launch_bounds__ ({k['maxntid']})")
    for name in sorted(set(launches) - compiled_names):
        failures.append(f"not compiled: kernel {name} is launched but not in the nvcc build of the sources given")

    print(f"{'kernel':70} {'arch':>4} {'block':>5} {'regs':>4} {'regs/SM':>7} {'smem':>5} {'spill':>5} {'bound':>5}")
    for r in sorted(rows):
        print(f"{r[0][:70]:70} {r[1]:>4} {r[2]:>5} {r[3]:>4} {r[4]:>7} {r[5]:>5} {r[6]:>5} {str(r[7]):>5}")
    for cls, pattern, reason in allow:
        print(f"allowed: {cls} {pattern.pattern}: {reason}")
    if failures:
        for f in failures:
            print("FAIL: " + f)
        return 1
    print(f"resources: {len(rows)} (kernel, arch, block) launches checked, all within the limits")
    return 0


if __name__ == "__main__":
    sys.exit(main())
