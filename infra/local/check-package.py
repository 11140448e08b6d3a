#!/usr/bin/env python3
"""Checks a deployment zip the way the Functions host reads it: host.json at
the root, the handler executable (mode 0755) named by host.json, and one
<FunctionName>/function.json per function. check-package.py ZIP NAME..."""
import json
import sys
import zipfile

path, names = sys.argv[1], sys.argv[2:]
problems = []
with zipfile.ZipFile(path) as z:
    entries = {i.filename: i for i in z.infolist()}
    if "host.json" not in entries:
        problems.append("host.json is not at the zip root")
    else:
        exe = json.loads(z.read("host.json"))["customHandler"]["description"]["defaultExecutablePath"]
        info = entries.get(exe)
        if info is None:
            problems.append(f"handler {exe!r} named by host.json is missing")
        elif (info.external_attr >> 16) & 0o777 != 0o755:
            problems.append(f"handler {exe!r} has mode {oct((info.external_attr >> 16) & 0o777)}, want 0o755")
    for n in names:
        if f"{n}/function.json" not in entries:
            problems.append(f"{n}/function.json is missing")
    folders = {e.split("/")[0] for e in entries if e.endswith("/function.json")}
    extra = folders - set(names)
    if extra:
        problems.append(f"function folders with no registered function: {sorted(extra)}")
if problems:
    sys.exit("package check failed:\n  " + "\n  ".join(problems))
print(f"package check: {path} has host.json, the handler (0755) and {len(names)} function folders")
