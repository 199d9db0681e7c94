"""Regenerate pwa/test/fixtures/hlc-vectors.json from the server clock.

Run from the repository root: `.venv/bin/python pwa/scripts/hlc_vectors.py`.
The PWA's HLC test replays these steps and must get the same stamps.
"""

import json
import random

from sync.hlc import HLC, HlcError, encode

rnd = random.Random(7)
node = "0193a1b2-c3d4-7e5f-8a6b-7c8d9e0f1a2b"
clock = HLC(node)
wall = 1_730_000_000_000
steps = []
for _ in range(400):
    wall += rnd.choice([0, 0, 0, 1, 2, 50, -3, -1000, 5000])
    step = {"op": "now", "wall": wall}
    if rnd.random() >= 0.5:
        rphys = max(0, wall + rnd.choice([-5000, -1, 0, 0, 1, 3, 2000]))
        step = {"op": "update", "wall": wall, "remote": encode(rphys, rnd.choice([0, 1, 5, 200, 65534]), "srv1")}
    try:
        step["out"] = clock.now(wall) if step["op"] == "now" else clock.recv(step["remote"], wall)
    except HlcError as e:
        step["error"] = type(e).__name__
        clock = HLC(node)  # the JS test starts a fresh clock after an error too
    steps.append(step)
with open("pwa/test/fixtures/hlc-vectors.json", "w") as f:
    f.write('{\n"generated_by": "sync/hlc.py (the server clock), random seed 7",\n"node": "%s",\n"steps": [\n' % node)
    f.write(",\n".join(json.dumps(s) for s in steps))
    f.write("\n]\n}\n")
print(f"{len(steps)} steps, {sum(1 for s in steps if 'error' in s)} errors")
