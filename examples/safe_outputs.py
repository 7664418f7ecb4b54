"""What the package guarantees for its outputs, shown on the SYNTHETIC demo store.

Builds a temporary store of the synthetic demo layers, then shows, through the real
``kcmr`` command and the library:

1. an output that would replace the store is refused (whatever ``--overwrite`` says),
   through a symbolic link too, with exit code 1;
2. an operator name that is a spreadsheet formula is written as text in the report's
   CSV (a leading single quote, the OWASP rule);
3. a writer that fails half-way leaves the previous file as it was;
4. every failure has its exit code, and its JSON under ``--format json``.

See docs/guides/safety.rst. Run from anywhere::

    python examples/safe_outputs.py
"""

import json
import subprocess
import sys
import tempfile
from pathlib import Path

from kosovo_cmr import settings
from kosovo_cmr._files import atomic_output
from kosovo_cmr.demo import load_layers, run_demo

out = Path(tempfile.mkdtemp(prefix="kcmr-safety-"))
ctx = run_demo(out, boundaries=settings.resolve_boundaries_path(), steps=[load_layers])
store = Path(ctx.store.uri)


def kcmr(*args):
    """Run the real command line on the demo store; return the finished process."""
    argv = [sys.executable, "-m", "kosovo_cmr", "--store", str(store), *map(str, args)]
    return subprocess.run(argv, capture_output=True, text=True)


# 1. The store is never an output: by its name or through a link to it.
(out / "latest.gpkg").symlink_to(store)
for target in (store, out / "latest.gpkg"):
    done = kcmr("report", "--year", "2024", "-o", target, "--overwrite")
    print(f"report -o {target.name}: exit {done.returncode}: {done.stderr.strip()}")
print(f"the store still holds {len(ctx.store.read('hazards'))} hazards\n")

# 2. A formula in an operator's name is written as text.
releases = ctx.store.read("releases")
cleared = releases.index[(releases["date"].dt.year == 2024) & (releases["method"] == "clearance")]
releases.loc[cleared[0], "operator"] = '=HYPERLINK("http://example.org","click")'
ctx.store.write(releases, "releases", source="examples/safe_outputs.py (a hostile name)")
csv = kcmr("report", "--year", "2024", "--format", "csv").stdout
print("report CSV:", next(line for line in csv.splitlines() if "HYPERLINK" in line), "\n")

# 3. A writer that fails half-way leaves the previous file.
report = out / "report.md"
report.write_text("yesterday's report\n")
try:
    with atomic_output(report, overwrite=True) as tmp:
        tmp.write_text("half of today's rep")
        raise OSError(28, "No space left on device")
except OSError as exc:
    print(f"the write failed ({exc.strerror}); {report.name} still reads: {report.read_text()}")

# 4. Exit codes, and the failure as JSON when JSON was asked.
done = kcmr("report", "--year", "2031", "--format", "json")
print(f"report --year 2031: exit {done.returncode}")
print(json.dumps(json.loads(done.stdout), indent=2))
