"""Timestamps: every form an export writes, time-zone abbreviations from the tz database, ``--tz``.

CrowdTangle CSV writes the dashboard's zone as an abbreviation (``2021-01-12 17:03:40 EST``, ``BRT`` …).
The abbreviation table is derived from the IANA tz database (`zoneinfo`, with the ``tzdata`` package as
fallback): every alphabetic abbreviation any zone used since 2000, plus the abbreviations the tz database
itself used until release 2017a/2017c replaced its invented ones by numeric offsets (``BRT``, ``SGT``,
``ICT`` … — CrowdTangle still writes those; the zones and their former names are transcribed from the tz
NEWS file). An abbreviation that different zones use for different offsets (``CST``, ``IST``, ``BST``,
``PST`` …) is ambiguous: the file fails with a message naming ``--tz``. Nothing is guessed.

Examples
--------
>>> parse_ts("2021-01-12 17:03:40 BRT").isoformat()
'2021-01-12T20:03:40+00:00'
>>> parse_ts("2021-01-12 17:03:40", tz="America/Sao_Paulo").isoformat()
'2021-01-12T20:03:40+00:00'
"""

from __future__ import annotations

import functools
import math
import re
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from cib.errors import RecordError

__all__ = ["AmbiguousZone", "abbreviation_offset", "opt_ts", "parse_ts", "zone"]

_TWITTER_FMT = "%a %b %d %H:%M:%S %z %Y"
_NUMERIC = re.compile(r"\d{9,13}(\.\d+)?")
_WITH_ABBR = re.compile(r"(.*\d)\s+([A-Z]{2,6})")
_EPOCH_MIN, _EPOCH_MAX = datetime(1970, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC)

# Abbreviations the tz database used before 2017 for zones that now carry numeric ones ("-03"):
# zone -> (standard, daylight). From tz NEWS 2017a-2017c ("invented abbreviations" removed).
_FORMER: dict[str, tuple[str, str | None]] = {
    "America/Sao_Paulo": ("BRT", "BRST"), "America/Bahia": ("BRT", "BRST"), "America/Fortaleza": ("BRT", None),
    "America/Recife": ("BRT", None), "America/Belem": ("BRT", None), "America/Maceio": ("BRT", None),
    "America/Manaus": ("AMT", "AMST"), "America/Cuiaba": ("AMT", "AMST"), "America/Noronha": ("FNT", None),
    "America/Argentina/Buenos_Aires": ("ART", "ARST"), "America/Santiago": ("CLT", "CLST"),
    "America/Bogota": ("COT", None), "America/Lima": ("PET", None), "America/Caracas": ("VET", None),
    "America/Montevideo": ("UYT", "UYST"), "America/La_Paz": ("BOT", None), "America/Asuncion": ("PYT", "PYST"),
    "America/Guayaquil": ("ECT", None), "America/Guyana": ("GYT", None), "America/Paramaribo": ("SRT", None),
    "America/Cayenne": ("GFT", None), "Atlantic/Azores": ("AZOT", "AZOST"), "Atlantic/Cape_Verde": ("CVT", None),
    "Asia/Singapore": ("SGT", None), "Asia/Kuala_Lumpur": ("MYT", None), "Asia/Bangkok": ("ICT", None),
    "Asia/Ho_Chi_Minh": ("ICT", None), "Asia/Phnom_Penh": ("ICT", None), "Asia/Vientiane": ("ICT", None),
    "Asia/Dubai": ("GST", None), "Asia/Muscat": ("GST", None), "Asia/Dhaka": ("BDT", None),
    "Asia/Kathmandu": ("NPT", None), "Asia/Tehran": ("IRST", "IRDT"), "Asia/Kabul": ("AFT", None),
    "Asia/Tashkent": ("UZT", None), "Asia/Almaty": ("ALMT", None), "Asia/Yerevan": ("AMT", None),
    "Asia/Baku": ("AZT", "AZST"), "Asia/Tbilisi": ("GET", None), "Asia/Yangon": ("MMT", None),
    "Asia/Thimphu": ("BTT", None), "Asia/Colombo": ("IST", None), "Asia/Brunei": ("BNT", None),
    "Asia/Ulaanbaatar": ("ULAT", "ULAST"), "Asia/Dili": ("TLT", None), "Asia/Kuching": ("MYT", None),
    "Asia/Yekaterinburg": ("YEKT", None), "Asia/Omsk": ("OMST", None), "Asia/Novosibirsk": ("NOVT", None),
    "Asia/Krasnoyarsk": ("KRAT", None), "Asia/Irkutsk": ("IRKT", None), "Asia/Yakutsk": ("YAKT", None),
    "Asia/Vladivostok": ("VLAT", None), "Asia/Magadan": ("MAGT", None), "Europe/Samara": ("SAMT", None),
    "Indian/Maldives": ("MVT", None), "Indian/Mauritius": ("MUT", None), "Indian/Reunion": ("RET", None),
    "Indian/Mahe": ("SCT", None), "Pacific/Fiji": ("FJT", "FJST"), "Pacific/Tongatapu": ("TOT", None),
    "Pacific/Port_Moresby": ("PGT", None), "Pacific/Bougainville": ("BST", None), "Pacific/Noumea": ("NCT", None),
    "Pacific/Efate": ("VUT", None), "Pacific/Tahiti": ("TAHT", None), "Pacific/Apia": ("WSST", "WSDT"),
    "Pacific/Tarawa": ("GILT", None), "Pacific/Majuro": ("MHT", None), "Pacific/Palau": ("PWT", None),
}


class AmbiguousZone(RecordError):
    """A time-zone abbreviation that names different offsets in different zones."""


def zone(name: str) -> tzinfo:
    """The `tzinfo` of an IANA zone name (``Europe/Kyiv``), ``UTC`` or a fixed offset (``+03:00``)."""
    match = re.fullmatch(r"(?:UTC|GMT)?([+-])(\d{1,2}):?(\d{2})?", name.strip())
    if match:
        sign = -1 if match.group(1) == "-" else 1
        return timezone(sign * timedelta(hours=int(match.group(2)), minutes=int(match.group(3) or 0)))
    if name.strip().upper() in ("UTC", "Z", "GMT"):
        return UTC
    try:
        return ZoneInfo(name.strip())
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise RecordError(f"unknown time zone {name!r} (use an IANA name such as Europe/Kyiv, or +03:00)") from exc


def _abbreviation(z: ZoneInfo, name: str, moment: datetime) -> str | None:
    local = moment.astimezone(z)
    abbr = local.tzname()
    if abbr and abbr[0] in "+-" and name in _FORMER:
        std, dst = _FORMER[name]
        abbr = dst if (dst and local.dst()) else std
    return abbr if abbr and abbr[0].isalpha() else None


@functools.cache
def _table() -> dict[str, dict[str, float]]:
    """abbreviation -> zone -> the UTC offset (hours) under which that zone last used it (sampled 2000-2030)."""
    table: dict[str, dict[str, float]] = {}
    moments = [datetime(y, m, 15, 12, tzinfo=UTC) for y in range(2000, 2031) for m in (1, 4, 7, 10)]
    for name in sorted(available_timezones()):
        if name.startswith(("Etc/", "SystemV/")) or "/" not in name:
            continue
        try:
            z = ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):  # pragma: no cover - a broken tz database entry
            continue
        for moment in moments:
            abbr = _abbreviation(z, name, moment)
            if abbr:
                offset = moment.astimezone(z).utcoffset()
                table.setdefault(abbr, {})[name] = offset.total_seconds() / 3600 if offset else 0.0
    return table


def _ambiguous(abbr: str) -> bool:
    """True when the zones using `abbr` do not agree on its (latest) offset."""
    return len(set(_table().get(abbr, {}).values())) > 1


@functools.lru_cache(maxsize=4096)
def abbreviation_offset(abbr: str, local: datetime) -> timedelta:
    """UTC offset that `abbr` denotes at naive local time `local`; `AmbiguousZone`/`RecordError` otherwise.

    Examples
    --------
    >>> abbreviation_offset("SGT", datetime(2020, 5, 1))
    datetime.timedelta(seconds=28800)
    >>> try:
    ...     abbreviation_offset("CST", datetime(2020, 5, 1))
    ... except AmbiguousZone as exc:
    ...     print(str(exc).split(";")[0])
    time-zone abbreviation 'CST' is ambiguous (UTC-06:00, UTC-05:00, UTC+08:00)
    """
    if abbr in ("UTC", "GMT", "Z"):
        return timedelta(0)
    zones, offsets, error = _abbreviation_zones(abbr)
    if error is not None:
        raise error[0](error[1])  # a fresh exception each time (a shared one would collect tracebacks)
    for name, z in zones:  # the offset the zone had at that date, when it used the abbreviation then
        aware = local.replace(tzinfo=z)
        if _abbreviation(z, name, aware.astimezone(UTC)) == abbr:
            offset = aware.utcoffset()
            if offset is not None:
                return offset
    return timedelta(hours=max(offsets))


@functools.cache
def _abbreviation_zones(abbr: str) -> tuple[list[tuple[str, ZoneInfo]], list[float],
                                            tuple[type[RecordError], str] | None]:
    """The zones that use `abbr` (sorted by name), its offsets, and the error to raise for it, once per
    abbreviation (a CrowdTangle file repeats one abbreviation on every row)."""
    zones = _table().get(abbr)
    if not zones:
        return [], [], (RecordError, f"unknown time-zone abbreviation {abbr!r}; pass --tz ZONE")
    offsets = sorted(set(zones.values()))
    if _ambiguous(abbr):
        example = sorted(zones)[0]
        pretty = ", ".join(f"UTC{'+' if o >= 0 else '-'}{int(abs(o)):02d}:{int(round(abs(o) % 1 * 60)):02d}"
                           for o in offsets)
        return [], offsets, (AmbiguousZone, f"time-zone abbreviation {abbr!r} is ambiguous ({pretty}); pass --tz "
                                            f"ZONE (for example --tz {example})")
    return [(name, ZoneInfo(name)) for name in sorted(zones)], offsets, None


def parse_ts(value: Any, tz: str | None = None) -> datetime:
    """Parse any timestamp an export uses into an aware UTC datetime; `RecordError` otherwise.

    Naive times are in `tz` when given, else UTC; a trailing abbreviation (CrowdTangle) is applied unless
    `tz` overrides it. Years outside 1970-2099 are rejected.

    Examples
    --------
    >>> parse_ts(1633823999).isoformat()
    '2021-10-09T23:59:59+00:00'
    >>> parse_ts("2021-01-12 17:03:40 EST").isoformat()
    '2021-01-12T22:03:40+00:00'
    >>> parse_ts("Thu Jul 28 16:10:07 +0000 2022").isoformat()
    '2022-07-28T16:10:07+00:00'
    >>> parse_ts("2021-06-18 23:54:22", tz="Europe/Berlin").isoformat()
    '2021-06-18T21:54:22+00:00'
    """
    if value is None or value == "" or isinstance(value, bool):
        raise RecordError("missing timestamp")
    if isinstance(value, datetime):
        return _in_range(value if value.tzinfo else value.replace(tzinfo=UTC), value).astimezone(UTC)
    if isinstance(value, int | float) or (isinstance(value, str) and _NUMERIC.fullmatch(value)):
        number = float(value)
        if not math.isfinite(number):
            raise RecordError(f"timestamp out of range: {value!r}")
        if number > 1e11:  # milliseconds
            number /= 1000.0
        try:
            parsed = datetime.fromtimestamp(number, tz=UTC)
        except (OverflowError, OSError, ValueError) as exc:
            raise RecordError(f"timestamp out of range: {value!r}") from exc
        return _in_range(parsed, value)
    text = str(value).strip()
    try:
        if text[:3].isalpha() and text[3:4] == " ":
            return _in_range(datetime.strptime(text, _TWITTER_FMT).astimezone(UTC), value)
        abbr = None
        match = _WITH_ABBR.fullmatch(text) if "A" <= text[-1:] <= "Z" and "A" <= text[-2:-1] <= "Z" else None
        if match:
            text, abbr = match.group(1), match.group(2)
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00") if text.endswith("Z") else text)
        if parsed.tzinfo is None:
            if tz is not None:
                parsed = parsed.replace(tzinfo=zone(tz))
            elif abbr is not None:
                parsed = parsed.replace(tzinfo=timezone(abbreviation_offset(abbr, parsed)))
            else:
                parsed = parsed.replace(tzinfo=UTC)
        return _in_range(parsed.astimezone(UTC), value)
    except (ValueError, OverflowError) as exc:
        raise RecordError(f"unparseable timestamp {str(value)[:80]!r}") from exc


def _in_range(parsed: datetime, value: Any) -> datetime:
    if not _EPOCH_MIN <= parsed < _EPOCH_MAX:
        raise RecordError(f"timestamp out of range (1970-2099): {str(value)[:80]!r}")
    return parsed


def opt_ts(value: Any, tz: str | None = None) -> datetime | None:
    """`parse_ts`, or None for a missing or unparseable value (for optional fields such as creation dates).

    Account creation dates repeat on every post of an account, so string and integer values are cached."""
    if value is None or value == "":
        return None
    if isinstance(value, str | int) and not isinstance(value, bool):
        return _opt_ts_cached(value, tz)
    try:
        return parse_ts(value, tz)
    except RecordError:
        return None


@functools.lru_cache(maxsize=1 << 16)
def _opt_ts_cached(value: str | int, tz: str | None) -> datetime | None:
    try:
        return parse_ts(value, tz)
    except RecordError:
        return None
