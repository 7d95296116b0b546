"""Official checkpoints by name (srkit.models.hub), fetched from an HTTP server this test starts on
127.0.0.1 serving ../shared's weights: verified, cached once, resumed after a cut, never used when
the bytes are wrong, and one line when no server answers."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import torch

from srkit.cli.main import main
from srkit.data import read_image, write_image
from srkit.models import hub, list_models, load

CUT_AT = 1 << 20  # bytes served before a "cut" connection closes


class Mirror(BaseHTTPRequestHandler):
    """Serves ``folder/<name>.pth`` with HTTP ranges; ``mode`` makes it cut, corrupt or ignore ranges."""

    folder: Path
    mode = "ok"
    ranges: list[str | None] = []

    def do_GET(self) -> None:
        type(self).ranges.append(self.headers.get("Range"))
        f = self.folder / self.path.lstrip("/")
        if not f.is_file():
            self.send_error(404)
            return
        data = f.read_bytes()
        if self.mode == "corrupt":
            data = data[:-1] + bytes([data[-1] ^ 1])
        start = int(self.headers["Range"].split("=")[1].rstrip("-")) if self.headers.get("Range") else 0
        partial = start and self.mode != "norange"
        self.send_response(206 if partial else 200)
        body = data[start:] if partial else data
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body[:CUT_AT] if self.mode == "cut" else body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def mirror(shared_data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[type[Mirror]]:
    handler = type("M", (Mirror,), {"folder": shared_data / "weights", "mode": "ok", "ranges": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv("SRKIT_WEIGHTS_URL", f"http://127.0.0.1:{server.server_address[1]}")
    monkeypatch.setenv("SRKIT_CACHE_DIR", str(tmp_path / "cache"))
    yield handler
    server.shutdown()
    server.server_close()


def test_the_registry_records_the_published_files(shared_data: Path) -> None:
    assert not set(hub.OFFICIAL) & set(list_models())  # a name means one thing
    for o in hub.OFFICIAL.values():
        f = shared_data / "weights" / o.filename
        assert f.stat().st_size == o.size and hub.sha256(f) == o.sha256, o.name
        assert o.url.startswith("https://github.com/") and len(o.commit) == 40


def test_a_name_downloads_once_and_loads(mirror: type[Mirror], shared_data: Path) -> None:
    net = load("fsrcnn_x4")
    assert net.scale == 4 and hub.cached("fsrcnn_x4").is_file()
    reference = load(shared_data / "weights" / "fsrcnn_x4.pth")
    assert all((a == b).all() for a, b in zip(net.state_dict().values(), reference.state_dict().values(), strict=True))
    load("fsrcnn_x4")
    assert len(mirror.ranges) == 1  # the second load used the cache


def test_a_cut_download_resumes_and_is_never_used_half(mirror: type[Mirror]) -> None:
    mirror.mode = "cut"
    with pytest.raises(hub.WeightsError, match="cannot download"):
        hub.fetch("imdn_x4", progress=False)
    assert not hub.cached("imdn_x4").exists()
    part = hub.cached("imdn_x4").with_name("imdn_x4.pth.part")
    assert part.stat().st_size == CUT_AT
    mirror.mode = "ok"
    assert hub.sha256(hub.fetch("imdn_x4", progress=False)) == hub.OFFICIAL["imdn_x4"].sha256
    assert mirror.ranges[-1] == f"bytes={CUT_AT}-" and not part.exists()


def test_a_server_that_ignores_ranges_starts_over(mirror: type[Mirror]) -> None:
    part = hub.cached("rlfn_x4").with_name("rlfn_x4.pth.part")
    part.parent.mkdir(parents=True)
    part.write_bytes(b"\0" * 1000)  # a stale part the server will not continue
    mirror.mode = "norange"
    assert hub.sha256(hub.fetch("rlfn_x4", progress=False)) == hub.OFFICIAL["rlfn_x4"].sha256


def test_wrong_bytes_are_refused_and_not_kept(mirror: type[Mirror]) -> None:
    mirror.mode = "corrupt"
    with pytest.raises(hub.WeightsError, match="not the published file"):
        hub.fetch("fsrcnn_x2", progress=False)
    assert not list(hub.cache_dir().iterdir())
    hub.cached("fsrcnn_x2").write_bytes(b"not a checkpoint")  # a file put in the cache by hand
    with pytest.raises(hub.WeightsError, match="sha256 differs"):
        hub.fetch("fsrcnn_x2", progress=False)


def test_the_cli_upscales_with_a_name(mirror: type[Mirror], tmp_path: Path) -> None:
    src = tmp_path / "lr.png"
    write_image(src, torch.randint(0, 256, (3, 12, 10), dtype=torch.uint8))
    assert main(["upscale", str(src), "-o", str(tmp_path / "out"), "--model", "fsrcnn_x3"]) == 0
    assert read_image(tmp_path / "out" / "lr_x3.png").shape == (3, 36, 30)


def test_offline_is_one_line_saying_where_to_put_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SRKIT_CACHE_DIR", str(tmp_path))
    monkeypatch.setenv("SRKIT_WEIGHTS_URL", "http://127.0.0.1:9")  # the discard port: nothing listens
    src = tmp_path / "lr.png"
    write_image(src, torch.zeros(3, 8, 8, dtype=torch.uint8))
    assert main(["upscale", str(src), "-o", str(tmp_path / "out"), "--model", "imdn_x4"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and str(tmp_path / "weights" / "imdn_x4.pth") in err[0]
    assert not (tmp_path / "out").exists()


def test_an_unknown_name_lists_where_to_look(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(hub.WeightsError, match="srkit weights"):
        hub.fetch("imdn_x5")
    assert main(["weights"]) == 0
    assert "rlfn_ntire_x4" in capsys.readouterr().out
