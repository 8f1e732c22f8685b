"""What the policy page shows: the form's values, the model, the history with its changes, the preview."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .. import runtime
from ..models import PolicyVersion, Site, User
from ..policy import CATEGORIES, Policy
from ..policy_versions import current_policy, versions
from . import access, insights
from .form import LEVELS, PolicyForm, field_label, read_form, threshold_path, values_of
from .history import PolicyDiff, diff
from .preview import Preview, preview_policy
from .windows import WINDOWS
from .variants import also_catches

HISTORY_SHOWN = 50


@dataclass(frozen=True)
class HistoryEntry:
    version: PolicyVersion
    changes: PolicyDiff | None  # None: the first version, nothing before it
    current: bool


def history(site: Site) -> list[HistoryEntry]:
    """The newest versions, each with what changed from the one before it."""
    rows = versions(site.id, limit=HISTORY_SHOWN + 1)
    entries = []
    for i, row in enumerate(rows[:HISTORY_SHOWN]):
        before = rows[i + 1].document if i + 1 < len(rows) else None
        changes = diff(before, row.document) if before is not None else None
        entries.append(HistoryEntry(row, changes, current=i == 0))
    return entries


def model_info() -> dict[str, Any]:
    """The configured model (whether this web process has loaded it yet is /readyz's business)."""
    scorer = runtime.scorer()
    return {"name": scorer.name, "languages": sorted(scorer.languages),
            "precision": scorer.settings.precision}


def preview_for(site: Site, proposed: Policy, window: str) -> Preview:
    version, current = current_policy(site)
    return preview_policy(site, proposed, window, current=current, current_version=version,
                          covered_languages=runtime.scorer().languages)


def word_entries(raw: str) -> list[tuple[str, tuple[tuple[str, str], ...]]]:
    """Each listed word with the spellings the matcher also catches."""
    words = [" ".join(line.split()) for line in raw.splitlines()]
    return [(word, also_catches(word)) for word in dict.fromkeys(w for w in words if w)]


def context(site: Site, user: User, *, window: str, form: PolicyForm | None = None,
            base_version: int | None = None, **extra: Any) -> dict[str, Any]:
    """Everything policy.html needs; `form` holds what the editor sent (else the current policy)."""
    version, current = current_policy(site)
    if form is None:
        form = read_form(values_of(current))
        base_version = version
    # Also after a refused save or preview: the edits stay marked while the errors are fixed (a
    # value that could not be read counts as changed, since it differs from what is saved).
    changed = diff(current.to_dict(), form.document).changed_paths()
    # Agreement, charts, rescoring and lexicon terms (templates/settings/_agreement.html and the rest).
    proposed = form.policy() if form.valid else current
    workspace = insights.page_context(site, user, current, proposed, window=window)
    return {
        **workspace,
        "site": site,
        "sites": access.editable_sites(user),
        "form": form,
        "values": form.values,
        "errors": form.errors,
        "changed": changed,
        "current_policy": current,
        "current_version": version,
        "base_version": base_version,
        "categories": CATEGORIES,
        "levels": LEVELS,
        "threshold_path": threshold_path,
        "field_label": field_label,
        "words": {key: word_entries(form.values[key]) for key in ("banned_words", "suspect_words")},
        "model": model_info(),
        "history": history(site),
        "windows": WINDOWS,
        "window": window,
        "preview": extra.pop("preview", None),
        "stale": extra.pop("stale", None),
        "notice": extra.pop("notice", None),
        **extra,
    }
