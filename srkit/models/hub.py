"""Official checkpoints by name: ``load("imdn_x4")`` or ``srkit upscale --model imdn_x4``.

Each name maps to the file its authors published (repository, commit, path) and that file's
SHA-256. A name is downloaded once into the cache (``$SRKIT_CACHE_DIR``, else ``~/.cache/srkit``) under
``weights/``, into a ``.part`` file that a later call resumes, and is put in place only when its
hash matches. ``$SRKIT_WEIGHTS_URL`` replaces the published addresses with a mirror that serves the
files by their srkit names (``<mirror>/<name>.pth``); a test serves ../shared this way.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import sys
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

from .. import cache

CHUNK = 1 << 16
TIMEOUT_S = 30


class WeightsError(RuntimeError):
    """An official checkpoint that cannot be had: offline, refused, or not the published bytes."""


@dataclass(frozen=True)
class Official:
    name: str
    repo: str  # owner/name on GitHub
    commit: str
    path: str
    sha256: str
    size: int

    @property
    def filename(self) -> str:
        return f"{self.name}.pth"

    @property
    def url(self) -> str:
        return f"https://github.com/{self.repo}/raw/{self.commit}/{self.path}"


IMDN, RLFN, RFDN = "Zheng222/IMDN", "bytedance/RLFN", "njulj/RFDN"
NTIRE22, NTIRE24 = "ofsoundof/NTIRE2022_ESR", "Amazingren/NTIRE2024_ESR"
CARN, FSRCNN = "nmhkahn/CARN-pytorch", "yjn870/FSRCNN-pytorch"
IMDN_AT, RLFN_AT, RFDN_AT = (
    "8f158e6a5ac9db6e5857d9159fd4a6c4214da574",
    "bccfde91bf8b2de80789ec033a029e6f2a932330",
    "7cf4e25b6633e81fd7e26891aeee2baca4f8f927",
)
NTIRE22_AT, NTIRE24_AT = "e95ba4a4916bb13d6348f7ee172827e2452e8a31", "6404fa48dde4a4adbf241a51debdc661aef20449"
CARN_AT, FSRCNN_AT = "40d3514f81cccd680d846cd5ab07af35f2c8e0e2", "597b52f7e8118ea014c079d32193a712181e003b"

# sha256 and size of each file as published at that commit (the FSRCNN files come with the
# repository's pull request #6, whose commit this is)
OFFICIAL: dict[str, Official] = {
    o.name: o
    for o in (
        Official(
            "imdn_x2",
            IMDN,
            IMDN_AT,
            "checkpoints/IMDN_x2.pth",
            "740b39653592bd3f49955a21cd9e16f2d37f2c413368cc09327601b8fbe42ce1",
            2796052,
        ),
        Official(
            "imdn_x3",
            IMDN,
            IMDN_AT,
            "checkpoints/IMDN_x3.pth",
            "11b1716a19bc16e5e353e1db798d476169338e631eb170c82d765559888cb028",
            2830672,
        ),
        Official(
            "imdn_x4",
            IMDN,
            IMDN_AT,
            "checkpoints/IMDN_x4.pth",
            "e660c38221147217a136debeb99eb304d62d9c0f73ac421ed66281b619719714",
            2879112,
        ),
        Official(
            "rlfn_x2",
            RLFN,
            RLFN_AT,
            "model_zoo/rlfn_x2.pth",
            "eafe5d5feeb122022453595c06d79160facdc157ae88deb02a44c50f5eba2d41",
            2145309,
        ),
        Official(
            "rlfn_x4",
            RLFN,
            RLFN_AT,
            "model_zoo/rlfn_x4.pth",
            "8c7edb57dfc89048bafba29d591d4c27d4099964b4a9e22df23d6dc257a637c0",
            2212893,
        ),
        Official(
            "rlfn_ntire_x4",
            RLFN,
            RLFN_AT,
            "model_zoo/rlfn_ntire_x4.pth",
            "3c9be7b9d7a4bece9b68c83a56a1ffb38010f76413d5f215be6b4be842e18fb2",
            1294011,
        ),
        Official(
            "rfdn_aim2020_x4",
            RFDN,
            RFDN_AT,
            "trained_model/RFDN_AIM.pth",
            "11af8ec8ebd68689e90ef1e29044f9804c72d3bd9f7573820b7b26035782760c",
            1754927,
        ),
        Official(
            "span_ch28_ntire24_x4",
            NTIRE24,
            NTIRE24_AT,
            "model_zoo/team38_span_ch28_slim.pth",
            "6c80f05048313289c6526e5fc9726688d7bb3dfdd6ae3c8b1e7dd09f601e5971",
            618658,
        ),
        Official(
            "spantiny_ch26_ntire24_x4",
            NTIRE24,
            NTIRE24_AT,
            "model_zoo/team39_spantiny_ch26_slim.pth",
            "30bf224aee5d3fb9cbc7a3bf164a294f957f65c45f5b271052947097922040a5",
            538017,
        ),
        Official(
            "efdn_ntire_x4",
            NTIRE22,
            NTIRE22_AT,
            "model_zoo/team01_efdn.pth",
            "71069f10ef234cd123f45ac8e69099f0a1fdc0c16afcfe2189e50071d47ce477",
            1153119,
        ),
        Official(
            "bsrn_s_ntire22_x4",
            NTIRE22,
            NTIRE22_AT,
            "model_zoo/team18_bsrn.pth",
            "29ac393975ec709912282da97765daf722d9efd40589f4abcb95b3a407f62e40",
            699603,
        ),
        Official(
            "carn_m_x234",
            CARN,
            CARN_AT,
            "checkpoint/carn_m.pth",
            "d48a759a84509351facb6b7c6d5bd6edec98b98519b8c464ee4ab44d2ba964ff",
            1670695,
        ),
        Official(
            "fsrcnn_x2",
            FSRCNN,
            FSRCNN_AT,
            "weights/fsrcnn_x2.pth",
            "1af70e2cbf0d11b942008d6c425e469e9fe275a68f3ac8b6c21e8672d6e67b69",
            54998,
        ),
        Official(
            "fsrcnn_x3",
            FSRCNN,
            FSRCNN_AT,
            "weights/fsrcnn_x3.pth",
            "f65b55819c1258048bc8c1ca96f9e24bd4339f779951d7f928144c08e3868d75",
            54998,
        ),
        Official(
            "fsrcnn_x4",
            FSRCNN,
            FSRCNN_AT,
            "weights/fsrcnn_x4.pth",
            "c15150d6787d487f38a68e66be5ec8a964182403af494e6a935fa03eeb56a630",
            54998,
        ),
    )
}


def cache_dir() -> Path:
    return cache.root() / "weights"


def cached(name: str) -> Path:
    """Where ``name``'s file lives once downloaded (or where a user puts it by hand)."""
    return cache_dir() / OFFICIAL[name].filename


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(CHUNK), b""):
            h.update(block)
    return h.hexdigest()


def source_url(o: Official) -> str:
    mirror = os.environ.get("SRKIT_WEIGHTS_URL")
    return f"{mirror.rstrip('/')}/{o.filename}" if mirror else o.url


def fetch(name: str, *, progress: bool = True) -> Path:
    """The verified local file of official checkpoint ``name``, downloaded first if not cached."""
    if name not in OFFICIAL:
        raise WeightsError(f"{name!r} is not an official checkpoint srkit knows; `srkit weights` lists them")
    o, dest = OFFICIAL[name], cached(name)
    if dest.is_file():
        if sha256(dest) == o.sha256:
            return dest
        raise WeightsError(f"{dest}: not the published {name} (sha256 differs): delete it and run again")
    part = dest.with_name(dest.name + ".part")
    dest.parent.mkdir(parents=True, exist_ok=True)
    _download(o, part, progress)
    if part.stat().st_size != o.size or sha256(part) != o.sha256:
        part.unlink()  # never kept: a resumed download must not build on wrong bytes
        raise WeightsError(f"{name}: the download from {source_url(o)} is not the published file (sha256 differs)")
    os.replace(part, dest)
    return dest


def _download(o: Official, part: Path, progress: bool) -> None:
    """Append the missing bytes of ``o`` to ``part`` (resuming with an HTTP range where the server
    takes one, starting over where it does not)."""
    have = part.stat().st_size if part.is_file() else 0
    if have > o.size:
        part.unlink()
        have = 0
    url = source_url(o)
    req = urllib.request.Request(url, headers={"Range": f"bytes={have}-"} if have else {})
    try:
        with urllib.request.urlopen(req, timeout=TIMEOUT_S) as r:
            resumed = have and r.status == 206
            mode, start = ("ab", have) if resumed else ("wb", 0)
            _copy(r, part, mode, start, o, progress)
    except (urllib.error.URLError, OSError, http.client.HTTPException) as e:
        reason = getattr(e, "reason", None) or e
        raise WeightsError(
            f"{o.name}: cannot download {url} ({reason}); put the published file at {cached(o.name)} "
            f"(sha256 {o.sha256[:12]}...) or set SRKIT_WEIGHTS_URL to a mirror"
        ) from None


def _copy(r: object, part: Path, mode: str, start: int, o: Official, progress: bool) -> None:
    bar = tqdm(
        total=o.size, initial=start, unit="B", unit_scale=True, desc=o.name, disable=not progress, file=sys.stderr
    )
    with part.open(mode) as f, bar:
        for block in iter(lambda: r.read(CHUNK), b""):  # type: ignore[attr-defined]
            f.write(block)
            bar.update(len(block))
    if part.stat().st_size < o.size:
        raise OSError(f"the connection closed after {part.stat().st_size} of {o.size} bytes (kept to resume)")
