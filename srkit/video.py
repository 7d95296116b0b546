"""Video in and out through PyAV: ``srkit upscale clip.mp4 -o clip_x4.mp4``.

Frames are decoded, upscaled in batches on the model's device, and encoded in segments of
``segment_frames`` frames, each written beside the output (``<out>.parts/``) and put in place only
when whole. A run that stops keeps its finished segments; the same command resumes after them.
When every segment is done they are joined with the source's audio, copied as it is, into a
temporary file that replaces the output in one rename: a truncated file is never at the output's
path. Every frame keeps its source timestamp (variable frame rates included).
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch

VIDEO_SUFFIXES = {".mp4": "mp4", ".mkv": "matroska", ".mov": "mov", ".webm": "webm", ".avi": "avi"}
Upscale = Callable[[torch.Tensor], torch.Tensor]  # (N, 3, h, w) uint8 -> (N, 3, h s, w s) uint8


class VideoError(ValueError):
    """A video srkit cannot read or write, or a resume that does not match."""


@dataclass(frozen=True)
class VideoJob:
    src: Path
    dst: Path
    model: str  # the label that names the model in the parts' manifest (a resume must use the same)
    scale: int
    batch: int = 4
    segment_frames: int = 240
    crf: int = 18


def is_video(path: str | os.PathLike[str]) -> bool:
    return Path(path).suffix.lower() in VIDEO_SUFFIXES


def _av() -> Any:
    try:
        import av
    except ImportError:
        raise VideoError("video needs PyAV: pip install 'srkit[video]'") from None
    return av


def _open(av: Any, src: Path) -> Any:
    try:
        box = av.open(str(src))
    except (av.error.FFmpegError, OSError) as e:
        raise VideoError(f"{src}: not a readable video ({e})") from None
    if not box.streams.video:
        box.close()
        raise VideoError(f"{src}: has no video stream")
    return box


def _manifest(job: VideoJob) -> dict[str, Any]:
    st = job.src.stat()
    keep = {"model": job.model, "scale": job.scale, "segment_frames": job.segment_frames, "crf": job.crf}
    return {"source": str(job.src.resolve()), "source_bytes": st.st_size, "source_mtime_ns": st.st_mtime_ns, **keep}


def parts_dir(job: VideoJob, overwrite: bool) -> Path:
    """The segments folder: new, or an earlier run's of this very job (anything else is refused)."""
    parts = job.dst.with_name(job.dst.name + ".parts")
    want = _manifest(job)
    if parts.is_dir():
        try:
            had = json.loads((parts / "manifest.json").read_text())
        except (OSError, ValueError):
            had = None
        if had != want and not overwrite:
            raise VideoError(
                f"{parts} holds segments of another job ({(had or {}).get('model', 'unknown')}, another source or "
                "settings): remove it or pass --overwrite"
            )
        if had != want:
            shutil.rmtree(parts)
    parts.mkdir(parents=True, exist_ok=True)
    from . import atomic

    atomic.write_json(parts / "manifest.json", want)
    return parts


def _segments(av: Any, box: Any, size: int) -> Iterator[list[Any]]:
    chunk: list[Any] = []
    n = 0
    try:
        for frame in box.decode(box.streams.video[0]):
            chunk.append(frame)
            n += 1
            if len(chunk) == size:
                yield chunk
                chunk = []
    except av.error.FFmpegError as e:
        raise VideoError(f"{box.name}: damaged after frame {n} ({e}); finished segments are kept") from None
    if chunk:
        yield chunk


def _sr_frames(frames: list[Any], up: Upscale, batch: int) -> Iterator[tuple[Any, torch.Tensor]]:
    for i in range(0, len(frames), batch):
        group = frames[i : i + batch]
        lr = torch.stack([torch.from_numpy(f.to_ndarray(format="rgb24")).permute(2, 0, 1) for f in group])
        yield from zip(group, up(lr), strict=True)


def _codec(av: Any) -> str:
    return "libx264" if "libx264" in av.codecs_available else "mpeg4"


def encode_segment(av: Any, job: VideoJob, frames: list[Any], up: Upscale, target: Path, tick: Callable) -> None:
    """Upscale ``frames`` into ``target`` (video only), written under a temporary name first."""
    tmp = target.with_name(target.name + ".tmp")
    with av.open(str(tmp), "w", format="mp4") as out:
        stream = None
        for frame, sr in _sr_frames(frames, up, job.batch):
            if stream is None:
                stream = _video_stream(av, out, frame, sr.shape[-2:], job.crf)
            vf = av.VideoFrame.from_ndarray(sr.permute(1, 2, 0).contiguous().numpy(), format="rgb24")
            vf.pts, vf.time_base = frame.pts, frame.time_base
            for packet in stream.encode(vf.reformat(format=stream.pix_fmt)):
                out.mux(packet)
            tick(1)
        for packet in stream.encode():
            out.mux(packet)
    os.replace(tmp, target)


def _video_stream(av: Any, out: Any, first: Any, hw: torch.Size, crf: int) -> Any:
    codec = _codec(av)
    stream = out.add_stream(codec)
    stream.height, stream.width = int(hw[0]), int(hw[1])
    even = stream.height % 2 == 0 and stream.width % 2 == 0
    stream.pix_fmt = "yuv420p" if even else "yuv444p"  # 4:2:0 needs even sides
    stream.codec_context.time_base = first.time_base  # every frame keeps its source timestamp
    # no B-frames: each segment's decode order then equals its display order, so segments join in order
    opts = (
        {"crf": str(crf), "preset": "veryfast", "x264-params": "bframes=0"} if codec == "libx264" else {"qscale": "2"}
    )
    stream.options = opts
    return stream


def join(av: Any, job: VideoJob, segments: list[Path]) -> None:
    """The segments' video and the source's audio into ``job.dst`` (temporary file, then one rename)."""
    tmp = job.dst.with_name(f".{job.dst.name}.tmp{job.dst.suffix}")
    fmt = VIDEO_SUFFIXES[job.dst.suffix.lower()]
    with av.open(str(job.src)) as src, av.open(str(segments[0])) as first, av.open(str(tmp), "w", format=fmt) as out:
        video = out.add_stream_from_template(first.streams.video[0])
        audio = {s.index: out.add_stream_from_template(s) for s in src.streams.audio}
        for seg in segments:
            with av.open(str(seg)) as part:
                _copy(out, part.demux(part.streams.video[0]), video)
        if audio:
            for packet in src.demux(*src.streams.audio):
                _copy(out, [packet], audio[packet.stream.index])
    os.replace(tmp, job.dst)


def _copy(out: Any, packets: Any, stream: Any) -> None:
    for packet in packets:
        if packet.dts is None:  # the demuxer's flush packet
            continue
        packet.stream = stream
        out.mux(packet)


def work_of(src: Path) -> tuple[tuple[int, int] | None, int]:
    """(frame size, frame count) from the container's header (count 1 where it does not say):
    the work the default runtime is chosen for. A file that does not open gives (None, 1)."""
    try:
        av = _av()
        with _open(av, src) as box:
            v = box.streams.video[0]
            return (int(v.codec_context.height), int(v.codec_context.width)), max(1, int(v.frames or 1))
    except VideoError:
        return None, 1


def upscale_video(job: VideoJob, up: Upscale, *, overwrite: bool = False, progress: bool = True) -> dict[str, Any]:
    """Run ``job``; returns what it did (frames upscaled, segments reused from an earlier run)."""
    from tqdm import tqdm

    av = _av()
    if job.dst.exists() and not overwrite:
        raise VideoError(f"{job.dst} already exists; pass --overwrite to replace it")
    if not is_video(job.dst):
        raise VideoError(f"{job.dst}: the output needs a video suffix ({', '.join(VIDEO_SUFFIXES)})")
    box = _open(av, job.src)
    parts = parts_dir(job, overwrite)
    total = box.streams.video[0].frames or None
    done = {"frames": 0, "reused_segments": 0, "segments": 0}
    segments: list[Path] = []
    with box, tqdm(total=total, unit="frame", desc=f"{job.src.name} x{job.scale}", disable=not progress) as bar:
        for k, frames in enumerate(_segments(av, box, job.segment_frames)):
            target = parts / f"segment_{k:05d}.mp4"
            segments.append(target)
            if target.is_file():  # finished by an earlier run
                done["reused_segments"] += 1
                bar.update(len(frames))
                continue
            encode_segment(av, job, frames, up, target, bar.update)
            done["frames"] += len(frames)
    if not segments:
        raise VideoError(f"{job.src}: no frames")
    done["segments"] = len(segments)
    join(av, job, segments)
    shutil.rmtree(parts)
    return {**asdict(job), "src": str(job.src), "dst": str(job.dst), **done}
