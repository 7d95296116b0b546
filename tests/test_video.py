"""Video through PyAV (srkit.video, ``srkit upscale CLIP -o OUT.mp4``), on a short clip with an audio
track that the test makes: frames, timestamps and audio kept, a crash resumed after its finished
segments with every frame upscaled once, and a truncated file never at the output's path."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest
import torch

from srkit.cli.main import main
from srkit.data.degrade import bicubic_sr
from srkit.metrics import psnr
from srkit.video import VideoError, VideoJob, upscale_video

FRAMES, W, H, FPS, RATE = 20, 32, 24, 10, 16000


def make_clip(path: Path) -> None:
    """A moving colour ramp at 10 fps and a 440 Hz tone, encoded losslessly enough to compare."""
    with av.open(str(path), "w") as out:
        v = out.add_stream("libx264", rate=FPS)
        v.width, v.height, v.pix_fmt, v.options = W, H, "yuv444p", {"qp": "0"}
        a = out.add_stream("aac", rate=RATE)
        a.layout = "mono"
        for i in range(FRAMES):
            img = np.zeros((H, W, 3), np.uint8)
            img[..., 0] = (np.arange(W) * 8 + i * 5) % 256
            img[..., 1] = (np.arange(H)[:, None] * 10) % 256
            f = av.VideoFrame.from_ndarray(img, format="rgb24")
            f.pts = i
            out.mux(v.encode(f))
        out.mux(v.encode())
        t = np.arange(1024) / RATE
        for k in range(FRAMES * RATE // FPS // 1024):
            tone = (0.3 * np.sin(2 * np.pi * 440 * (t + k * 1024 / RATE))).astype(np.float32)[None]
            af = av.AudioFrame.from_ndarray(tone, format="fltp", layout="mono")
            af.sample_rate, af.pts = RATE, k * 1024
            out.mux(a.encode(af))
        out.mux(a.encode())


def frames(path: Path) -> list[tuple[int, torch.Tensor]]:
    with av.open(str(path)) as box:
        return [(f.pts, torch.from_numpy(f.to_ndarray(format="rgb24")).permute(2, 0, 1)) for f in box.decode(video=0)]


def audio_packets(path: Path) -> list[tuple[int, bytes]]:
    with av.open(str(path)) as box:
        return [(p.pts, bytes(p)) for p in box.demux(audio=0) if p.dts is not None]


@pytest.fixture
def clip(tmp_path: Path) -> Path:
    make_clip(tmp_path / "clip.mp4")
    return tmp_path / "clip.mp4"


def test_frames_timestamps_and_audio_are_kept(clip: Path, tmp_path: Path) -> None:
    out = tmp_path / "clip_x2.mp4"
    argv = ["upscale", str(clip), "-o", str(out), "--model", "bicubic", "--scale", "2", "--segment-frames", "8"]
    assert main(argv) == 0
    src, sr = frames(clip), frames(out)
    assert [p for p, _ in sr] == [p for p, _ in src]  # every frame, at its source timestamp
    assert all(x.shape == (3, 2 * H, 2 * W) for _, x in sr)
    expect = bicubic_sr(torch.stack([x for _, x in src]), 2)
    assert psnr(torch.stack([x for _, x in sr]), expect).min() > 30  # the upscaled frames, through a lossy encode
    assert audio_packets(out) == audio_packets(clip)  # copied as it was
    assert not out.with_name(out.name + ".parts").exists()


class Crash(RuntimeError):
    pass


def test_a_crash_resumes_after_its_finished_segments(clip: Path, tmp_path: Path) -> None:
    job = VideoJob(clip, tmp_path / "out.mp4", "bicubic", 2, batch=4, segment_frames=8)
    seen: list[int] = []

    def up(lr: torch.Tensor, crash_at: int | None) -> torch.Tensor:
        if crash_at is not None and len(seen) >= crash_at:
            raise Crash
        seen.append(lr.shape[0])
        return bicubic_sr(lr, 2)

    with pytest.raises(Crash):
        upscale_video(job, lambda lr: up(lr, crash_at=3), progress=False)  # in the second segment
    assert not job.dst.exists()
    assert sorted(p.name for p in (tmp_path / "out.mp4.parts").iterdir()) == ["manifest.json", "segment_00000.mp4"]
    seen.clear()
    done = upscale_video(job, lambda lr: up(lr, crash_at=None), progress=False)
    assert done["reused_segments"] == 1 and done["frames"] == sum(seen) == FRAMES - 8
    assert len(frames(job.dst)) == FRAMES


def test_outputs_and_other_jobs_parts_are_not_replaced_unasked(clip: Path, tmp_path: Path) -> None:
    job = VideoJob(clip, tmp_path / "out.mp4", "bicubic", 2, segment_frames=8)
    (tmp_path / "out.mp4.parts").mkdir()
    (tmp_path / "out.mp4.parts" / "manifest.json").write_text('{"model": "imdn_x4"}')
    with pytest.raises(VideoError, match="imdn_x4"):
        upscale_video(job, lambda lr: bicubic_sr(lr, 2), progress=False)
    upscale_video(job, lambda lr: bicubic_sr(lr, 2), overwrite=True, progress=False)
    with pytest.raises(VideoError, match="already exists"):
        upscale_video(job, lambda lr: bicubic_sr(lr, 2), progress=False)


def test_a_broken_video_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"\0" * 1000)
    assert main(["upscale", str(bad), "-o", str(tmp_path / "o.mp4"), "--model", "bicubic", "--scale", "2"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "not a readable video" in err[0]
    assert not (tmp_path / "o.mp4").exists()


def test_the_work_of_a_clip_is_its_frame_size_and_count(clip: Path) -> None:
    from srkit.video import work_of

    assert work_of(clip) == ((H, W), FRAMES)  # what the default runtime is chosen for
