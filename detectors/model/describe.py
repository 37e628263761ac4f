"""The one French describer: facts in words, counts that agree, acronyms kept, French numbers.

Everything a person reads (evidence in emails, digests, the on-call page,
Alertmanager annotations, diagnosis) goes through here, so no English debug
text and no « étudiant(s) » reaches the scolarité. Pure: no I/O.
"""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

from detectors.facts import (
    EPOCH,
    AdeFiche,
    AdeSession,
    CollectionLink,
    Elp,
    Group,
    Ia,
    Ip,
    MoodleCourse,
)

PARIS = ZoneInfo("Europe/Paris")
_NARROW_NBSP = "\u202f"  # French thousands separator
# A word written in capitals (FOAD, IA, ELP, APOGÉE, ADE, REFER, CEMU…) stays so.
_ACRONYM = re.compile(r"^[A-ZÀ-Ý0-9_.\-]{2,}$")


def number(value: int) -> str:
    """``12 345`` with the narrow no-break space French typography uses."""
    return f"{value:,}".replace(",", _NARROW_NBSP)


def plural(count: int, singular: str, many: str | None = None) -> str:
    """``1 étudiant``, ``24 étudiants``, ``0 étudiant``: French agreement (0 and 1 are singular).

    ``many`` is the plural when it is not ``singular + s``; a phrase of several
    words agrees word by word when given as ``"inscription perdue"`` (each word gets an s).
    """
    if count <= 1:
        return f"{number(count)} {singular}"
    if many is None:
        many = " ".join(_plural_word(word) for word in singular.split(" "))
    return f"{number(count)} {many}"


# Words of a phrase that never take the plural's s.
_INVARIABLE = frozenset(
    {"non", "pas", "de", "du", "des", "à", "au", "en", "et", "ou", "sans", "par", "dans", "sur"}
)


def _plural_word(word: str) -> str:
    if word in _INVARIABLE or not word or word[-1] in "sxz" or not word[-1].isalpha():
        return word
    if word.endswith("al") and word not in ("final", "bal"):
        return word[:-2] + "aux"
    if word.endswith(("eau", "au", "eu")):
        return word + "x"
    return word + "s"


def agree(count: int, singular: str, many: str | None = None) -> str:
    """The word alone, agreeing with ``count``: ``agree(2, "est", "sont")`` is ``sont``."""
    if count <= 1:
        return singular
    return many if many is not None else " ".join(_plural_word(w) for w in singular.split(" "))


def in_sentence(text: str) -> str:
    """A title inside a sentence: first letter lowered unless the first word is an acronym."""
    first = text.split(" ", 1)[0].rstrip(",:;")
    if _ACRONYM.match(first):
        return text
    return text[:1].lower() + text[1:]


def capitalised(text: str) -> str:
    """A label as a heading: first letter raised, the rest (acronyms included) untouched."""
    return text[:1].upper() + text[1:]


def listing(items: list[str], shown: int = 5) -> str:
    """``a, b, c et 21 autres`` (the first ``shown``), for texts naming people or groups."""
    if len(items) <= shown:
        if len(items) <= 1:
            return "".join(items)
        return ", ".join(items[:-1]) + " et " + items[-1]
    rest = len(items) - shown
    return ", ".join(items[:shown]) + f" et {plural(rest, 'autre')}"


def date(moment: datetime | None, zone: ZoneInfo = PARIS, *, with_time: bool = True) -> str:
    """``04/12/2026 à 17:57`` in local time; facts without a source date have none."""
    if moment is None or moment == EPOCH:
        return "date inconnue"
    local = moment.astimezone(zone)
    return local.strftime("%d/%m/%Y à %H:%M" if with_time else "%d/%m/%Y")


def _yes(flag: bool) -> str:
    return "oui" if flag else "non"


_PERIOD = {"year": "annuelle"}


def describe_fact(fact: object) -> str:
    """One fact in French words, for the evidence of an alert or a diagnosis."""
    if isinstance(fact, Ip):
        return (
            f"inscription pédagogique de l'étudiant {fact.cod_etu} à {fact.cod_elp}, groupe "
            f"{fact.group_id or 'aucun'}, à distance : {_yes(fact.distant)}"
            + (f", année {fact.year}" if fact.year else "")
        )
    if isinstance(fact, Ia):
        extra = f", remplace l'IA {fact.replaces}" if fact.replaces else ""
        extra += (
            f", programme d'échange {fact.exchange_programme}" if fact.exchange_programme else ""
        )
        extra += ", télé-enseignement" if fact.tele_enseignement else ""
        state = "active" if fact.status == "active" else "annulée"
        return f"IA {fact.ia_id} de l'étudiant {fact.cod_etu} ({fact.year or '-'}) : {state}{extra}"
    if isinstance(fact, Elp):
        porte = f", porté par {fact.porteur}" if fact.porteur else ""
        state = "ouvert" if fact.status == "open" else "suspendu"
        period = _PERIOD.get(fact.period, fact.period)
        label = f" « {fact.label} »" if fact.label else ""
        return (
            f"élément {fact.cod_elp}{label} ({fact.cod_cmp}) : {state}, période {period}, "
            f"enseignement à distance : {_yes(fact.a_distance)}, charges d'enseignement : "
            f"{_yes(fact.has_teaching_load)}{porte}"
        )
    if isinstance(fact, Group):
        label = f" « {fact.label} »" if fact.label else ""
        cemu = ", groupe CEMU" if fact.is_cemu else ""
        pseudo = ", pseudo-groupe automatique" if fact.is_pseudo else ""
        return (
            f"groupe {fact.group_id}{label}, collection {fact.collection or 'aucune'}{cemu}{pseudo}"
        )
    if isinstance(fact, CollectionLink):
        return f"collection {fact.collection} associée à {fact.cod_elp}"
    if isinstance(fact, AdeFiche):
        return (
            f"fiche ADE {fact.fiche_id} sur {fact.cod_elp or 'aucun élément APOGÉE'}, "
            f"enseignants associés : {', '.join(fact.teachers) or 'aucun'}"
        )
    if isinstance(fact, AdeSession):
        return (
            f"séance ADE {fact.session_id} (fiche {fact.fiche_id}), groupes "
            f"{', '.join(fact.group_ids) or 'aucun'}, enseignants planifiés : "
            f"{', '.join(fact.teachers) or 'aucun'}"
        )
    if isinstance(fact, MoodleCourse):
        state = "visible" if fact.visible else "caché"
        return (
            f"cours Moodle {fact.course_id} « {fact.fullname} » (n° d'identification "
            f"{fact.idnumber or 'vide'}) : {state}{', archivé' if fact.archived else ''}"
        )
    return str(fact)


ROLE_FR = {"student": "étudiant", "teacher": "enseignant"}
NOT_THERE_ONE = "n'y est pas inscrit"
NOT_THERE = "n'y sont pas inscrits"
