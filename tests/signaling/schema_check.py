#!/usr/bin/python3
"""Checks docs/signaling/schemas against the shared message corpus.

Every schema must be a valid JSON Schema (draft 2020-12), and each message in
tests/signaling/data/messages.jsonl must validate exactly when the corpus says it is valid. The C++
parser is checked against the same corpus (protocol_test.cpp), so the schemas and the parser agree.
Usage: schema_check.py SOURCE_ROOT
"""
import json
import pathlib
import sys

import jsonschema

root = pathlib.Path(sys.argv[1])
schema_dir = root / "docs" / "signaling" / "schemas"
schemas = {}
for path in sorted(schema_dir.glob("*.json")):
    schema = json.loads(path.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    schemas[schema["$id"]] = schema

expected = {"defs", "client", "server", "hello", "join", "offer", "answer", "candidate", "leave",
            "ping", "pong", "registered", "joined", "invite", "participant", "layout", "speaker",
            "muted", "hand", "ended", "left", "error"}
found = {pathlib.PurePosixPath(i).stem for i in schemas}
if found != expected:
    print(f"schema files differ: missing {sorted(expected - found)}, extra {sorted(found - expected)}")
    sys.exit(1)

base = "https://plateau.local/signaling/v1/"
validators = {}
for direction in ("client", "server"):
    resolver = jsonschema.RefResolver(base_uri=base + direction + ".json",
                                      referrer=schemas[base + direction + ".json"], store=schemas)
    validators[direction] = jsonschema.Draft202012Validator(schemas[base + direction + ".json"],
                                                            resolver=resolver)

passed = failed = 0
corpus = root / "tests" / "signaling" / "data" / "messages.jsonl"
for line_no, line in enumerate(corpus.read_text(encoding="utf-8").splitlines(), 1):
    row = json.loads(line)
    if "msg" not in row:
        continue  # raw bytes (malformed JSON) are the parser's business only
    valid = validators[row["dir"]].is_valid(row["msg"])
    if valid == row["valid"]:
        passed += 1
    else:
        failed += 1
        print(f"messages.jsonl:{line_no}: schema says {'valid' if valid else 'invalid'}, "
              f"corpus says {'valid' if row['valid'] else 'invalid'}: {line[:200]}")
print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
