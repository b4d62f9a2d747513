"""The user's preferences, kept in QSettings, read defensively.

A settings file can hold anything: a hand edit, a value written by another version, a
damaged file. Each value is checked; one that is wrong is ignored (and removed, so the
message is not repeated at every launch) and a sentence says what was ignored. The studio
always starts.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from pathlib import Path

from PySide6.QtCore import QSettings, QStandardPaths

THEMES = {"system": "Follow the system", "light": "Light", "dark": "Dark"}
AUTOSAVE_RANGE = (1, 60)  # minutes

#: The QSettings key of each preference ("runs/root" predates this module: kept).
KEYS = {"runs_folder": "runs/root", "theme": "appearance/theme",
        "autosave_minutes": "recovery/autosave_minutes"}


@dataclass(frozen=True)
class Preferences:
    runs_folder: str = ""  # where runs are recorded; "" is the default folder
    theme: str = "system"  # a key of THEMES
    autosave_minutes: int = 1  # how often unsaved work is auto-saved for recovery

    def runs_root(self) -> Path:
        return Path(self.runs_folder).expanduser() if self.runs_folder else default_runs_root()


def default_runs_root() -> Path:
    """The user's data folder: runs are recorded there unless the preference says otherwise."""
    data = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation)
    return Path(data or Path.home() / ".training-studio") / "runs"


def load_preferences(settings: QSettings) -> tuple[Preferences, list[str]]:
    """The preferences, and one sentence per value that was wrong and ignored."""
    problems = settings_file_problems(settings)
    values: dict[str, object] = {}
    defaults = Preferences()
    for field in fields(Preferences):
        key = KEYS[field.name]
        if not settings.contains(key):
            continue
        raw = settings.value(key)
        value, why = _check(field.name, raw)
        if why:
            problems.append(ignored(settings, key, raw, why,
                                    repr(getattr(defaults, field.name))))
            settings.remove(key)
        else:
            values[field.name] = value
    return Preferences(**values), problems  # type: ignore[arg-type]


def save_preferences(settings: QSettings, preferences: Preferences) -> str:
    """Store the preferences; returns why they could not be written ("" when they were)."""
    for field in fields(Preferences):
        settings.setValue(KEYS[field.name], getattr(preferences, field.name))
    settings.sync()
    if settings.status() == QSettings.Status.AccessError and settings.fileName():
        return (f"{settings.fileName()}: the preferences could not be saved (the file or its "
                "folder is not writable); they apply until the studio closes.")
    return ""


def settings_file_problems(settings: QSettings) -> list[str]:
    """A sentence if the settings file itself could not be read in full."""
    settings.contains("")  # makes QSettings read the file, which sets status()
    if settings.status() == QSettings.Status.FormatError:
        return [f"{settings.fileName()}: the settings file is damaged; the entries that could "
                "not be read were ignored and defaults used instead."]
    # (Also reported, harmlessly, for an application without an organization name: only a
    # file that exists and cannot be read is worth a message.)
    if settings.status() == QSettings.Status.AccessError and Path(settings.fileName()).exists():
        return [f"{settings.fileName()}: the settings file cannot be read; defaults are used."]
    return []


def ignored(settings: QSettings, key: str, raw: object, why: str, instead: str) -> str:
    shown = repr(raw)
    if len(shown) > 60:
        shown = shown[:57] + "..."
    return (f"Ignored the setting {key} = {shown} in {settings.fileName()} ({why}); "
            f"using {instead} instead.")


def _check(name: str, raw: object) -> tuple[object, str]:
    """(value, "") when ``raw`` is valid for the preference ``name``, else (None, why)."""
    if name == "runs_folder":
        if not isinstance(raw, str):
            return None, "expected a folder path"
        return raw.strip(), ""
    if name == "theme":
        if raw not in THEMES:
            *first, last = THEMES
            return None, f"expected {', '.join(first)} or {last}"
        return raw, ""
    if name == "autosave_minutes":
        low, high = AUTOSAVE_RANGE
        # An ini file gives numbers back as text.
        text = str(raw).strip() if isinstance(raw, int | str) and not isinstance(raw, bool) else ""
        if not text.isdigit() or not low <= int(text) <= high:
            return None, f"expected a whole number of minutes from {low} to {high}"
        return int(text), ""
    raise KeyError(name)
