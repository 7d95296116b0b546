"""The demo's one figure (srkit.demo) from the files make demo writes, and from a folder missing some."""

from __future__ import annotations

import json
from pathlib import Path

from PIL import Image

from srkit.demo import _verdict, main


def test_the_figure_is_made_from_the_demo_files_and_says_what_is_missing(tmp_path: Path) -> None:
    Image.new("RGB", (60, 20), "white").save(tmp_path / "compare_skimage_x4.png")
    row = {"model": "espcn", "variant": "eager", "backend_ran": "torch", "median_ms": 3.0, "scale": 4}
    rows = [row | {"out_hw": [360, 640]}, row | {"variant": "ort", "median_ms": 1.5, "out_hw": [360, 640]}]
    (tmp_path / "model_cpu.json").write_text(json.dumps({"rows": rows}))
    assert main([str(tmp_path)]) == 0
    assert Image.open(tmp_path / "demo.png").size[0] > 1000
    assert _verdict(tmp_path / "search") == "the search wrote no front.json"  # named on the figure, not left out
    (tmp_path / "search").mkdir()
    comparison = {"one_found_dominates_two": False, "front_dominates_baseline_front": True}
    (tmp_path / "search" / "front.json").write_text(json.dumps({"comparison": comparison}))
    assert "dominates two or more baselines: False" in _verdict(tmp_path / "search")
    assert main([str(tmp_path / "nowhere")]) == 2
