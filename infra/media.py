"""What an uploaded file is, judged by its bytes only.

libmagic names the type; Pillow reads images (dimensions, a WebP thumbnail) with its
decompression-bomb guard on; mutagen reads the duration of the audio and video it knows.
Every function here blocks: call them in a worker thread.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass
from pathlib import Path

import magic
import mutagen
from PIL import Image, ImageOps

MAX_IMAGE_PIXELS = 40_000_000
THUMBNAIL_BOX = (320, 320)
THUMBNAIL_TYPE = "image/webp"
PILLOW_FORMATS = {
    "image/jpeg": "JPEG",
    "image/png": "PNG",
    "image/gif": "GIF",
    "image/webp": "WEBP",
}
SWAPPING_ORIENTATIONS = {5, 6, 7, 8}
EXIF_ORIENTATION = 0x0112

Image.MAX_IMAGE_PIXELS = MAX_IMAGE_PIXELS
warnings.simplefilter("error", Image.DecompressionBombWarning)


class TooManyPixels(Exception):
    """The image declares more pixels than we are willing to decode."""


class Undecodable(Exception):
    """The bytes look like a known type but cannot be read as one."""


@dataclass(frozen=True)
class ImageInfo:
    width: int
    height: int
    thumbnail: bytes


def sniff_mime(path: Path) -> str:
    """The MIME type libmagic reads from the content (the name is never consulted)."""
    return magic.from_file(str(path), mime=True)


def read_image(path: Path, mime_type: str) -> ImageInfo:
    """Dimensions as displayed (EXIF orientation applied) and a thumbnail of at most 320 px."""
    try:
        with Image.open(path, formats=[PILLOW_FORMATS[mime_type]]) as image:
            # Also when the host reset warning filters, so the warning above was not raised.
            if image.width * image.height > MAX_IMAGE_PIXELS:
                raise TooManyPixels
            width, height = image.size
            if image.getexif().get(EXIF_ORIENTATION) in SWAPPING_ORIENTATIONS:
                width, height = height, width
            image.draft("RGB", THUMBNAIL_BOX)
            thumbnail = ImageOps.exif_transpose(image)
            thumbnail.thumbnail(THUMBNAIL_BOX)
            mode = "RGBA" if thumbnail.has_transparency_data else "RGB"
            buffer = io.BytesIO()
            thumbnail.convert(mode).save(buffer, "WEBP", quality=80)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise TooManyPixels from exc
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise Undecodable(str(exc)) from exc
    return ImageInfo(width, height, buffer.getvalue())


def read_duration(path: Path) -> float | None:
    """Seconds of audio or video, when mutagen knows the container; otherwise None."""
    try:
        parsed = mutagen.File(path)
    except (mutagen.MutagenError, OSError, ValueError):
        return None
    length = getattr(getattr(parsed, "info", None), "length", None)
    return round(float(length), 3) if length else None
