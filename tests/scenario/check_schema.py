#!/usr/bin/env python3
"""Checks the scenario JSON Schema against the loader's verdicts, with Debian's python3-jsonschema
(an independent validator): every bundled scenario must validate; every file in
tests/scenario/invalid/ must be rejected (the loader rejects them too: bundled_test.cpp);
files in tests/scenario/invalid_semantic/ have valid shapes (the schema accepts them) and only
the loader's reference, range and 802.1D checks reject them."""
import json
import pathlib
import sys

import jsonschema

root = pathlib.Path(sys.argv[1])
schema = json.loads((root / "scenarios/schema/vnetsim-scenario.schema.json").read_text())
jsonschema.Draft7Validator.check_schema(schema)
validator = jsonschema.Draft7Validator(schema)
failures = 0
# The bundled scenarios, and the skeleton `simulate import` wrote from scenarios/import_sample/.
bundled = sorted((root / "scenarios").glob("*.json")) + sorted((root / "scenarios/import_sample").glob("*.json"))
for path in bundled:
    errors = list(validator.iter_errors(json.loads(path.read_text())))
    for e in errors:
        print(f"FAIL {path.name}: schema rejects a bundled scenario: /{'/'.join(map(str, e.absolute_path))}: {e.message}")
    failures += bool(errors)
invalid = sorted((root / "tests/scenario/invalid").glob("*.json"))
for path in invalid:
    if validator.is_valid(json.loads(path.read_text())):
        print(f"FAIL {path.name}: schema accepts a file the loader rejects")
        failures += 1
semantic = sorted((root / "tests/scenario/invalid_semantic").glob("*.json"))
for path in semantic:
    if not validator.is_valid(json.loads(path.read_text())):
        print(f"FAIL {path.name}: schema rejects the shape of a semantic-error file")
        failures += 1
print(f"{len(bundled)} bundled valid, {len(invalid)} invalid rejected, {len(semantic)} semantic shapes accepted, "
      f"{failures} failure(s)")
sys.exit(1 if failures or len(bundled) < 8 or len(invalid) < 10 else 0)
