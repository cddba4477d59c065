"""The tracks a stylized video keeps beside its frames: sound and subtitles (copied, or encoded again where the
output's container cannot hold their codec), with their language, title and marks, on one time line starting
at 0; and the chapters. fast_style/media/video.py stylizes the frames and writes them all."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

log = logging.getLogger(__name__)


# sound codecs on a container's list that FFmpeg's muxer refuses all the same, or that players do not read there:
# PCM and Vorbis in MP4 (Safari, QuickTime), Opus and FLAC in QuickTime ("only supported in MP4"); such sound is
# re-encoded as AAC
_LISTED_BUT_REFUSED: dict[str, tuple[str, ...]] = {"mp4": ("pcm_", "vorbis"), "mov": ("opus", "flac", "vorbis")}


# tags a muxer writes for itself: not copied from the source file
MUXER_TAGS = {"major_brand", "minor_version", "compatible_brands", "encoder", "duration"}


# the channel order an AAC track takes for a sound that names none, by its number of channels
_AAC_LAYOUTS = {1: "mono", 2: "stereo", 3: "3.0", 4: "4.0", 5: "5.0", 6: "5.1"}


# the text subtitle format each output container takes, for text subtitles it does not hold as they are
_TEXT_SUBTITLES = {"mp4": "mov_text", "mov": "mov_text", "matroska": "subrip"}


@dataclass
class Track:
    """A sound or subtitle track of the source and its stream in the output: copied unchanged where the output's
    container takes its codec, else decoded and encoded again (sound as AAC, text subtitles in the container's
    text format)."""

    source: Any
    out: Any
    copy: bool
    damaged: bool = False  # a packet damaged, or a subtitle's undecodable or out of order (said once)
    offset: int = 0  # ticks added to the source's times since they jumped back (`continuous`)
    last: tuple[int, int] | None = None  # the last packet's decoding time and duration, after the offset

    def continuous(self, packet: Any, jumps: dict[str, Fraction]) -> bool:
        """`packet` on one time line with the track's packets before it. Where a sound track's times jump back
        (two transport streams joined with `cat`), it goes on from its last packet's end, as the video's frames
        do (_FrameTimes; the muxer had refused the jump, failing the video: "Invalid argument"), and `jumps`
        ["seconds"] says by how much; subtitles, whose cues are sparse (and may start together), move by that
        amount, and a cue still before the last one is left out (said once): False."""
        if packet.dts is None or not packet.time_base:
            return True
        if self.source.type == "audio":
            if self.last is not None and packet.dts + self.offset < self.last[0]:
                self.offset = self.last[0] + max(1, self.last[1]) - packet.dts
                jumps["seconds"] = self.offset * packet.time_base
        else:
            self.offset = round(jumps.get("seconds", Fraction(0)) / packet.time_base)
            if self.last is not None and packet.dts + self.offset < self.last[0]:
                if not self.damaged:
                    log.warning("subtitles at %.1f s are out of order (joined files?): left out", _seconds(packet))
                self.damaged = True  # (not written: the muxer refuses a time going back)
                return False
        packet.dts += self.offset
        if packet.pts is not None:
            packet.pts += self.offset
        self.last = (packet.dts, packet.duration or 0)
        return True

    @classmethod
    def of(cls, sound: Any, out: Any, fmt: str, name: str, suffix: str) -> Track:
        codec = sound.codec_context.name
        copy = codec in out.supported_codecs and not codec.startswith(_LISTED_BUT_REFUSED.get(fmt, ()))
        if fmt == "mp4" and codec.startswith("mp3") and (sound.rate or 0) < 16000:  # MPEG-2.5's 8-12 kHz (an old
            copy = False  # camera's .avi): "not standard" to the muxer, which failed the whole video
        if copy:
            stream = out.add_stream_from_template(sound)
        else:  # e.g. 8-bit PCM from an .avi written as .mp4: the sound is kept, as AAC
            log.info("%s: %s audio re-encoded as AAC for %s", name, codec, suffix)
            import av

            # the rate nearest the sound's among those AAC has (192 kHz or 4 kHz failed the whole video); the
            # encoder resamples to it
            rate = min(av.Codec("aac", "w").audio_rates, key=lambda r: abs(r - (sound.rate or 48000)))
            stream = out.add_stream("aac", rate=rate)
            layout = sound.layout.name  # an .avi or .mkv may not name the channels' order ("6 channels"): AAC's
            if "channels" in layout:  # usual order for that many (six were mixed down to two)
                layout = _AAC_LAYOUTS.get(sound.channels, "stereo")
                if layout == "stereo" and sound.channels > 2:
                    log.warning("%s: %d sound channels in no named order mixed down to stereo", name, sound.channels)
            stream.layout = layout
        return cls(sound, _labelled(stream, sound), copy)

    @classmethod
    def copied(cls, track: Any, out: Any) -> Track:
        """Another kind of track (subtitles) whose packets go into the output unchanged."""
        return cls(track, _labelled(out.add_stream_from_template(track), track), True)

    @classmethod
    def subtitles(cls, sub: Any, out: Any, fmt: str, name: str, suffix: str) -> Track | None:
        """Text subtitles (SRT, ASS, WebVTT, MP4's mov_text, ...) in the output container's own text format where
        it does not hold theirs (an .mkv's SRT into .mp4, an .mp4's into .mkv); None for picture subtitles (PGS,
        DVB), which cannot become text."""
        target = _TEXT_SUBTITLES.get(fmt)
        if target is None or not sub.codec_context.codec.text_sub:
            return None
        decoder = sub.codec_context
        decoder.open(strict=False)  # the decoder writes the events' ASS header, which the encoder starts from
        stream = out.add_stream(target)
        stream.codec_context.subtitle_header = decoder.subtitle_header
        log.info("%s: %s subtitles written as %s for %s", name, decoder.name, target, suffix)
        return cls(sub, _labelled(stream, sub), False)

    def decoded(self, packet: Any) -> list:
        """What the writer takes from one of the source's packets: sound frames, or the subtitle events with the
        packet that gives their times."""
        if self.source.type != "subtitle":
            return [] if self._damaged(packet) else packet.decode()  # (its decoder failed the whole video)
        if not packet.size or packet.pts is None:
            return []
        import av

        try:
            events = self.source.codec_context.decode2(packet)
        except av.FFmpegError as e:  # one damaged cue: left out, not the whole video (it failed the file)
            if not self.damaged:
                log.warning("subtitles at %.1f s cannot be decoded (%s): left out", _seconds(packet), ffmpeg_reason(e))
            self.damaged = True
            return []
        return [] if events is None else [(events, packet)]

    def packets(self, item: Any) -> list:
        """The output's packets for `item`: a packet copied, a sound frame or subtitle events encoded (None:
        the sound encoder's last packets)."""
        if self.copy:
            if self._damaged(item):
                return []
            item.stream = self.out
            return [item]
        if self.source.type != "subtitle":
            return self.out.encode(item)
        if item is None:
            return []
        events, timing = item
        packet = self.out.codec_context.encode_subtitle(events)
        packet.pts, packet.dts, packet.duration = timing.pts, timing.dts, timing.duration
        packet.time_base, packet.stream = timing.time_base, self.out
        return [packet]

    def _damaged(self, packet: Any) -> bool:
        """Whether FFmpeg marks `packet` damaged (a file cut short: its last packet, which no decoder reads); left
        out, said once."""
        if not getattr(packet, "is_corrupt", False):
            return False
        if not self.damaged:
            log.warning("%s at %.1f s is damaged (a file cut short?): left out", self.source.type, _seconds(packet))
        self.damaged = True
        return True


# ISO 639-2 codes whose twin (bibliographic or terminology form) is the one in QuickTime's list of languages, the
# only ones FFmpeg's .mov writer keeps: an MP4's German (deu; Matroska says ger), Chinese, Dutch, Greek or a French
# "fre" lost its language in a .mov without a word
QUICKTIME_TWINS = {
    "sqi": "alb", "hye": "arm", "eus": "baq", "mya": "bur", "zho": "chi", "cze": "ces", "nld": "dut", "fre": "fra",
    "kat": "geo", "deu": "ger", "ell": "gre", "isl": "ice", "mkd": "mac", "msa": "may", "fas": "per", "rum": "ron",
    "slo": "slk", "bod": "tib", "cym": "wel",
}  # fmt: skip


def _labelled(stream: Any, source: Any) -> Any:
    """`stream` with the language, title and disposition (which track plays by default, a commentary's or the
    forced subtitles' mark) of the source's track it comes from."""
    for key in ("language", "title"):
        if source.metadata.get(key):
            stream.metadata[key] = source.metadata[key]
    language = source.metadata.get("language")
    if language in QUICKTIME_TWINS and stream.container.format.name == "mov":
        stream.metadata["language"] = QUICKTIME_TWINS[language]
    stream.disposition = source.disposition
    return stream


def moved_chapters(chapters: list[dict], origin: Fraction) -> list[dict]:
    """`chapters` (PyAV's dicts: start, end, time_base) `origin` seconds earlier; one that ended before it is left
    out, one that began before it begins at 0."""
    moved = []
    for chapter in chapters:
        ticks = round(origin / chapter["time_base"])
        if chapter["end"] - ticks > 0:
            moved.append({**chapter, "start": max(0, chapter["start"] - ticks), "end": chapter["end"] - ticks})
    return moved


def moved_back(packet: Any, ticks: int) -> None:
    if packet.pts is not None:
        packet.pts -= ticks
    if packet.dts is not None:
        packet.dts -= ticks


def _seconds(packet: Any) -> float:
    return float(packet.pts * packet.time_base) if packet.pts is not None and packet.time_base else 0.0


def ffmpeg_reason(error: Exception) -> str:
    """FFmpeg's words for a failure, without PyAV's "[Errno 1094995529] ...: 'path'" wrapping."""
    return getattr(error, "strerror", None) or str(error)
