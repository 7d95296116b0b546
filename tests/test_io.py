"""Image reading and (atomic) writing: round trips, and clear refusals."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from srkit.data import ImageReadError, read_image, write_image


@pytest.mark.parametrize("channels", [1, 3])
def test_png_round_trip_leaves_no_temporary_file(tmp_path: Path, channels: int) -> None:
    x = torch.randint(0, 256, (channels, 7, 9), dtype=torch.uint8)
    write_image(tmp_path / "out" / "a.png", x)
    assert torch.equal(read_image(tmp_path / "out" / "a.png"), x)
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["a.png"]
    read_image(tmp_path / "out" / "a.png").add_(1)  # the tensor owns writable memory


def test_alpha_is_refused_unless_dropped(tmp_path: Path) -> None:
    rgba = np.random.default_rng(0).integers(0, 256, (5, 6, 4), dtype=np.uint8)
    Image.fromarray(rgba, "RGBA").save(tmp_path / "a.png")
    with pytest.raises(ImageReadError, match="alpha channel"):
        read_image(tmp_path / "a.png")
    assert torch.equal(
        read_image(tmp_path / "a.png", alpha="drop"), torch.from_numpy(rgba[:, :, :3].transpose(2, 0, 1).copy())
    )


def test_alpha_can_be_kept(tmp_path: Path) -> None:
    for shape in ((5, 6, 4), (5, 6, 2)):
        x = torch.from_numpy(np.random.default_rng(1).integers(0, 256, shape, dtype=np.uint8).transpose(2, 0, 1).copy())
        write_image(tmp_path / "k.png", x)
        assert torch.equal(read_image(tmp_path / "k.png", alpha="keep"), x)


def test_sixteen_bit_and_corrupt_files_are_named(tmp_path: Path) -> None:
    Image.fromarray(np.full((4, 4), 4000, dtype=np.uint16)).save(tmp_path / "deep.png")
    with pytest.raises(ImageReadError, match="16-bit"):
        read_image(tmp_path / "deep.png")
    (tmp_path / "bad.png").write_bytes(b"\\x89PNG\\r\\n\\x1a\\n truncated")
    with pytest.raises(ImageReadError, match="bad.png: not a readable image"):
        read_image(tmp_path / "bad.png")


def test_write_refuses_what_it_cannot_store(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"\(1-4, H, W\) uint8"):
        write_image(tmp_path / "x.png", torch.zeros(3, 4, 4))


def _png16(path: Path, arr: np.ndarray) -> Path:
    """A 16-bit RGB(A) PNG written by hand (Pillow writes none): (H, W, 3 or 4) uint16."""
    import struct
    import zlib

    h, w, c = arr.shape

    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)

    raw = b"".join(b"\x00" + arr[y].astype(">u2").tobytes() for y in range(h))
    ihdr = struct.pack(">IIBBBBB", w, h, 16, {3: 2, 4: 6}[c], 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")
    )
    return path


@pytest.mark.parametrize("channels", [3, 4])
def test_16_bit_colour_is_refused_not_cut_to_8_bits(tmp_path: Path, channels: int) -> None:
    f = _png16(tmp_path / "deep.png", np.full((4, 5, channels), 40000, dtype=np.uint16))
    with pytest.raises(ImageReadError, match="16-bit images are not supported"):
        read_image(f, alpha="keep")


def test_exif_orientation_is_applied(tmp_path: Path) -> None:
    arr = np.zeros((4, 6, 3), dtype=np.uint8)
    arr[0, 0] = 255  # a marker in the stored top-left corner
    exif = Image.Exif()
    exif[0x0112] = 6  # stored rotated: display after a 90-degree clockwise turn
    Image.fromarray(arr).save(tmp_path / "cam.jpg", exif=exif, quality=100)
    img = read_image(tmp_path / "cam.jpg")
    assert tuple(img.shape) == (3, 6, 4)  # displayed 6 high, 4 wide
    assert img[:, 0, -1].float().mean() > 128  # the marker is now top-right


def test_files_of_several_frames_are_refused(tmp_path: Path) -> None:
    frames = [Image.fromarray(np.full((4, 4, 3), v, dtype=np.uint8)) for v in (0, 255)]
    frames[0].save(tmp_path / "anim.gif", save_all=True, append_images=frames[1:])
    with pytest.raises(ImageReadError, match="holds 2 frames"):
        read_image(tmp_path / "anim.gif")
