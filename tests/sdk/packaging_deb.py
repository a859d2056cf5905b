#!/usr/bin/python3
"""packaging.deb: `cpack -G DEB` makes one package per install component,
with the files and dependencies a packager expects: stripped ELF files with
their debug symbols in <package>-dbgsym, the virtual axle-abi-<major> that the
kernel provides and every module depends on, /etc/axle/axle.toml as a
conffile, the systemd units, and a copyright file and changelog per package.

Runs cpack on the build tree into a temporary directory (it installs each
component itself; nothing is written to the build tree but cpack's own
preinstall build step).
"""

import argparse
import gzip
import re
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

CPACK_TIMEOUT = 540
MODULE_H = Path(__file__).resolve().parents[2] / "plugin-api" / "include" / "axle" / "module.h"


def check(cond, message):
    if not cond:
        sys.exit(f"FAILED: {message}")


def dpkg_deb(*args):
    res = subprocess.run(["dpkg-deb", *map(str, args)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         text=True, timeout=60)
    check(res.returncode == 0, f"dpkg-deb {' '.join(map(str, args))}: {res.stdout}")
    return res.stdout


def contents(deb):
    """Paths in the package, './usr/...' form, from `dpkg-deb -c`."""
    return {line.split(None, 5)[5].split(" -> ")[0] for line in dpkg_deb("-c", deb).splitlines() if line.strip()}


def field(deb, name):
    return dpkg_deb("-f", deb, name).strip()


def extract(deb, into):
    Path(into).mkdir(parents=True, exist_ok=True)
    dpkg_deb("-x", deb, into)
    return Path(into)


def check_elf_split(package, deb, dbgsym, tmp):
    """Every ELF file of the package is stripped, and the -dbgsym package
    holds its debug file under its build id."""
    root = extract(deb, tmp / package)
    debug_files = contents(dbgsym)
    elves = 0
    for path in root.rglob("*"):
        if not path.is_file() or path.read_bytes()[:4] != b"\x7fELF":
            continue
        elves += 1
        desc = subprocess.run(["file", "-b", path], capture_output=True, text=True, timeout=30).stdout
        check(", stripped" in desc, f"{package}: {path.relative_to(root)} is not stripped: {desc}")
        build_id = re.search(r"BuildID\[sha1\]=([0-9a-f]+)", desc)
        check(build_id, f"{package}: {path.relative_to(root)} has no build id: {desc}")
        bid = build_id.group(1)
        want = f"./usr/lib/debug/.build-id/{bid[:2]}/{bid[2:]}.debug"
        check(want in debug_files, f"{package}-dbgsym lacks {want}: {sorted(debug_files)}")
    check(elves > 0, f"{package} holds no ELF file")


def check_docs(package, deb, tmp):
    """/usr/share/doc/<package>/copyright (MIT) and changelog.Debian.gz whose
    newest entry is this package's version."""
    root = extract(deb, tmp / f"doc-{package}")
    doc = root / "usr" / "share" / "doc" / package
    copyright_text = (doc / "copyright").read_text() if (doc / "copyright").exists() else ""
    check("License: MIT" in copyright_text and "The axle authors" in copyright_text,
          f"{package}: no MIT copyright file in /usr/share/doc/{package}")
    check((doc / "changelog.Debian.gz").exists(), f"{package}: no /usr/share/doc/{package}/changelog.Debian.gz")
    head = gzip.decompress((doc / "changelog.Debian.gz").read_bytes()).decode().splitlines()[0]
    version = field(deb, "Version")
    check(head.startswith(f"axle ({version})"), f"{package}: changelog starts {head!r}, package version {version}")


def default_config_modules(path):
    """Package names of the modules the embedded default config selects."""
    cfg = tomllib.loads(Path(path).read_text())
    kinds = {"io": "io", "allocator": "alloc", "parser": "parser", "router": "router", "metrics": "metrics"}
    names = {f"axle-module-{kinds[k]}-{v}" for k, v in cfg.get("modules", {}).items() if k in kinds and v != "none"}
    names |= {f"axle-module-handler-{r['handler']}" for r in cfg.get("route", [])}
    return names


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build-dir", required=True)
    ap.add_argument("--cpack", required=True)
    ap.add_argument("--default-config", required=True)
    ap.add_argument("--modules", nargs="*", default=[], help="module install components")
    args = ap.parse_args()

    with tempfile.TemporaryDirectory(prefix="axle-deb-") as out:
        out = Path(out)
        res = subprocess.run([args.cpack, "-G", "DEB", "-B", out, "--config",
                              Path(args.build_dir) / "CPackConfig.cmake"],
                             cwd=args.build_dir, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                             timeout=CPACK_TIMEOUT)
        print(res.stdout)
        check(res.returncode == 0, f"cpack failed with {res.returncode}")

        debs = {p.name.split("_")[0]: p for p in out.glob("*.deb")}
        dbgsyms = {p.name.split("_")[0]: p for p in out.glob("*.ddeb")}
        print("debug symbol packages:", ", ".join(sorted(dbgsyms)))
        print("packages:", ", ".join(sorted(debs)))
        module_packages = {"axle-" + c.replace("_", "-") for c in args.modules}
        want = {"axle", "axle-sdk"} | module_packages
        check(set(debs) == want, f"packages {sorted(debs)}, want {sorted(want)}")

        abi_major = re.search(r"#define\s+AXLE_ABI_MAJOR\s+(\d+)", MODULE_H.read_text()).group(1)
        abi_package = f"axle-abi-{abi_major}"
        kernel = contents(debs["axle"])
        check({"./usr/bin/axle", "./usr/share/axle/default.toml", "./etc/axle/axle.toml",
               "./lib/systemd/system/axle.service", "./lib/systemd/system/axle.socket"} <= kernel,
              f"axle package holds {sorted(kernel)}")
        check(dpkg_deb("-I", debs["axle"], "conffiles").split() == ["/etc/axle/axle.toml"],
              "axle: /etc/axle/axle.toml is not (the only) conffile")
        check(abi_package in [p.strip() for p in field(debs["axle"], "Provides").split(",")],
              f"axle does not provide {abi_package}")
        tmp = Path(out) / "extracted"
        for package, deb in debs.items():
            maintainer = field(deb, "Maintainer")
            check(re.fullmatch(r"[^<>]+ <[^@<>\s]+@[^@<>\s]+\.[a-z]+>", maintainer) and "localhost" not in maintainer,
                  f"{package}: maintainer {maintainer!r} is not a real address")
            check_docs(package, deb, tmp)
            if package != "axle-sdk":
                check(f"{package}-dbgsym" in dbgsyms, f"no {package}-dbgsym package")
                check_elf_split(package, deb, dbgsyms[f"{package}-dbgsym"], tmp)
        check(not any("/lib/axle/modules/" in p and p.endswith(".so") for p in kernel),
              "the kernel package must not carry modules")
        recommends = {r.strip() for r in field(debs["axle"], "Recommends").split(",") if r.strip()}
        missing = (default_config_modules(args.default_config) & module_packages) - recommends
        check(not missing, f"axle does not recommend {sorted(missing)}, which the default config needs")

        for component in args.modules:
            # The package name has '-' for the module name's '_'; the file keeps it.
            package, so = "axle-" + component.replace("_", "-"), component.removeprefix("module-")
            files = contents(debs[package])
            check(f"./usr/lib/axle/modules/axle-{so}.so" in files, f"{package} holds {sorted(files)}")
            check(not any(p.endswith(".so") and not p.endswith(f"axle-{so}.so") for p in files),
                  f"{package} carries another module: {sorted(files)}")
            depends = [d.strip() for d in field(debs[package], "Depends").split(",")]
            check(any(d.startswith("axle (>= ") for d in depends), f"{package} does not depend on axle")
            check(abi_package in depends, f"{package} does not depend on {abi_package}: {depends}")
        if "axle-module-io-epoll" in module_packages:
            check("./usr/lib/axle/modules/axle-io-epoll.so" in contents(debs["axle-module-io-epoll"]),
                  "io-epoll package lacks lib/axle/modules/axle-io-epoll.so")

        sdk = contents(debs["axle-sdk"])
        for path in ("./usr/include/axle/module.h", "./usr/include/axle/handler.h",
                     "./usr/include/axle/sdk/handler.hpp", "./usr/share/cmake/axle-sdk/axle-sdkConfig.cmake",
                     "./usr/share/cmake/axle-sdk/axle-sdkConfigVersion.cmake",
                     "./usr/share/cmake/axle-sdk/axle-sdk-targets.cmake",
                     "./usr/share/cmake/axle-sdk/AxleModule.cmake", "./usr/share/cmake/axle-sdk/module-exports.map"):
            check(path in sdk, f"axle-sdk lacks {path}")
        check(field(debs["axle-sdk"], "Architecture") == "all", "axle-sdk is headers only: Architecture all")
    print("ok:", len(debs), "packages")


if __name__ == "__main__":
    main()
