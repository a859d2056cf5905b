#!/usr/bin/python3
"""packaging.deb: `cpack -G DEB` makes one package per install component,
with the files and dependencies a packager expects.

Runs cpack on the build tree into a temporary directory (it installs each
component itself; nothing is written to the build tree but cpack's own
preinstall build step).
"""

import argparse
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

CPACK_TIMEOUT = 540


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
        print("packages:", ", ".join(sorted(debs)))
        module_packages = {"axle-" + c.replace("_", "-") for c in args.modules}
        want = {"axle", "axle-sdk"} | module_packages
        check(set(debs) == want, f"packages {sorted(debs)}, want {sorted(want)}")

        kernel = contents(debs["axle"])
        check({"./usr/bin/axle", "./usr/share/axle/default.toml"} <= kernel, f"axle package holds {sorted(kernel)}")
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
            check("axle (>= " in field(debs[package], "Depends"), f"{package} does not depend on axle")
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
