"""Diagnosis in French: one point per rule applied, who can fix it and how, facts in words.

The "how" texts are short answers for a support ticket, taken from the seed's
sections (the alerts carry the long versions, written for their audience).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
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
from detectors.findings import Evidence
from detectors.model.context import ElpView
from detectors.model.courses import CourseAction
from detectors.model_bridge import ModelPass

Who = str  # a key of FIXERS

FIXERS: Mapping[Who, str] = {
    "scolarite": "la scolarité de la composante",
    "cemu": "le CEMU",
    "teachers": "les enseignants du cours",
    "nobody": "personne : situation voulue",
    "tonight": "personne : la synchronisation de cette nuit s'en charge",
}

_FOAD = "Mettre en cohérence le statut « à distance » dans APOGÉE (IA, élément, groupe) : "

# cause -> (who fixes it, how). Model causes (detectors.model.causes) and diagnosis' own.
REMEDY: Mapping[str, tuple[Who, str]] = {
    "elp_obsolete": ("scolarite", "Si la suppression de l'élément n'est pas voulue, la corriger "
                     "dans APOGÉE (au besoin avec la DEVE, qui sollicitera la DSI) : le cours sera "
                     "désarchivé la nuit suivante. Aucun désarchivage manuel dans Ecampus."),
    "porteur_not_current": ("scolarite", "Vérifier la relation porteur/porté dans APOGÉE : le "
                            "porteur n'est pas un élément actuel."),
    "ip_without_group": ("scolarite", "Faire l'inscription pédagogique jusqu'au groupe dans "
                         "APOGÉE : l'élément a des groupes."),
    "no_pseudo_group": ("scolarite", "Définir les charges d'enseignement de l'élément (un "
                        "pseudo-groupe ELP_ sera alors créé), ou créer des groupes et inscrire "
                        "les étudiants jusqu'au groupe."),
    "foad_case_a": ("scolarite", _FOAD + "si l'IA est en télé-enseignement, l'élément doit être "
                    "en « enseignement à distance » et le groupe libellé « CEMU » ; sinon, "
                    "corriger l'IA."),
    "foad_case_e": ("scolarite", _FOAD + "déclarer l'élément en « enseignement à distance »."),
    "foad_case_c": ("scolarite", _FOAD + "placer ces étudiants à distance dans un groupe "
                    "libellé « CEMU »."),
    "foad_case_d": ("scolarite", _FOAD + "groupe « CEMU » pour une IA qui n'est pas en "
                    "télé-enseignement : changer de groupe, ou corriger l'IA."),
    "foad_case_f": ("scolarite", _FOAD + "groupe « CEMU » pour une IA qui n'est pas en "
                    "télé-enseignement : changer de groupe, ou corriger l'IA."),
    "distant_in_pseudo_group": ("scolarite", "Le pseudo-groupe ELP_ n'est pas « CEMU » : créer "
                                "un groupe CEMU pour les étudiants à distance et les y inscrire."),
    "porte_collection_not_shared": ("scolarite", "Inscrire les étudiants du porté dans un groupe, "
                                    "ranger ce groupe dans une collection de groupes, et associer "
                                    "cette collection au porteur et à tous les portés."),
    "elp_suspended": ("scolarite", "Rétablir l'élément dans APOGÉE si sa suspension n'est pas "
                      "voulue (les inscriptions reprendront la nuit suivante) ; sinon, prévenir "
                      "enseignants et étudiants."),
    "outgoing_exchange": ("nobody", "Étudiant en échange sortant (Erasmus…) : il suit des cours "
                          "équivalents à l'étranger. En cas de réel besoin, les enseignants "
                          "l'inscrivent manuellement, pour une durée limitée. Si le programme "
                          "d'échange (ou sa modalité annuelle) est une erreur, alerter le bureau "
                          "des inscriptions (SI-Scol)."),
    "ia_cancelled_replaced": ("scolarite", "IA annulée puis remplacée en cours d'année : "
                              "vérifier les inscriptions dans APOGÉE et signaler le cas au CEMU "
                              "(hypothèse en cours d'analyse sur les tables intermédiaires)."),
    "ia_cancelled": ("scolarite", "L'IA est annulée : si c'est une erreur, la rétablir."),
    "year_inactive": ("nobody", "Inscription d'une année close ou pas encore ouverte (le "
                      "tuilage avec l'année précédente dure jusqu'au 30 septembre)."),
    "teacher_associated_not_planned": ("scolarite", "Planifier les séances dans ADE avec "
                                       "l'enseignant (« CHOISIR n Enseignant(s) ») : une simple "
                                       "association ne suffit pas. Attendu pour un cours "
                                       "intégralement à distance."),
    "fiche_not_linked": ("scolarite", "Rattacher la fiche ADE à l'élément APOGÉE : les fiches "
                         "créées uniquement dans ADE n'ont pas d'effet sur Ecampus."),
    "fiche_on_porte_elp": ("scolarite", "Planifier sur la fiche ADE de l'élément porteur."),
    "masked_by_new_group": ("scolarite", "Planifier dans ADE les séances du groupe créé dans "
                            "APOGÉE, qui masque la planification faite sur le pseudo-groupe ELP_."),
    "elp_became_porte": ("scolarite", "L'espace du porteur accueille désormais les étudiants : "
                         "vérifier qu'ils sont dans un groupe d'une collection associée au porteur "
                         "et à tous les portés ; les enseignants copient le contenu utile."),
    "idnumber_edited": ("cemu", "Rétablir le n° d'identification d'origine du cours : il ne doit "
                        "jamais être modifié manuellement (lien avec APOGÉE)."),
    "pending": ("tonight", "Rien à faire : la modification date d'après le début de la dernière "
                "synchronisation et sera propagée cette nuit."),
    "missing_after_run": ("cemu", "Aucune situation connue ne l'explique : examiner le rapport "
                          "de lmsjonction (erreurs « Insc. BDD ») et le numéro d'identification "
                          "du cours."),
    "not_expected": ("cemu", "Inscription par base de données que les données d'APOGÉE ne "
                     "justifient plus : si le changement date d'aujourd'hui, la synchronisation "
                     "de cette nuit la retirera ; sinon, examiner le rapport de lmsjonction."),
    "teacher_not_planned_enrolled": ("scolarite", "Enseignant inscrit par base de données sans "
                                     "planification valide : rectifier la planification ADE "
                                     "(inscrits manuellement, les enseignants se désinscrivent "
                                     "eux-mêmes)."),
    "no_ip": ("scolarite", "Faire l'inscription pédagogique de l'étudiant à cet élément dans "
              "APOGÉE."),
    "no_planning": ("scolarite", "Planifier l'enseignant dans ADE sur une fiche liée à l'élément "
                    "APOGÉE (attendu sans planification pour un cours intégralement à distance)."),
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class Point:
    """One thing diagnosis found: a rule applied to the course or to a person.

    ``fault`` False means as expected (or deliberate); ``pending`` is R9: the
    difference will be settled by tonight's run.
    """

    rule: str
    cause: str
    statement: str
    fault: bool
    pending: bool = False
    fixer: str = ""
    how: str = ""
    people: tuple[str, ...] = ()
    evidence: tuple[Evidence, ...] = ()

    def to_dict(self) -> dict[str, object]:
        return {
            "rule": self.rule,
            "cause": self.cause,
            "statement": self.statement,
            "fault": self.fault,
            "pending_tonight": self.pending,
            "who_fixes": self.fixer,
            "how": self.how,
            "people": list(self.people),
            "facts": [
                {"rule": e.rule, "fact": e.fact, "as_of": e.as_of.isoformat() if e.as_of else None}
                for e in self.evidence
            ],
        }


def fixer(who: Who, cod_cmp: str | None = None) -> str:
    text = FIXERS[who]
    return f"{text} {cod_cmp}" if who == "scolarite" and cod_cmp else text


def remedy(cause: str, cod_cmp: str | None = None) -> tuple[str, str]:
    """Who fixes a cause (in words) and how; nothing for a cause diagnosis has no remedy for."""
    who, how = REMEDY.get(cause, ("", ""))
    return (fixer(who, cod_cmp) if who else "", how)


def _yes(flag: bool) -> str:
    return "oui" if flag else "non"


def describe(fact: object) -> str:
    """One fact in French words, for the evidence of a diagnosis."""
    if isinstance(fact, Ip):
        return (
            f"IP de {fact.cod_etu} sur {fact.cod_elp}, groupe {fact.group_id or 'aucun'}, "
            f"à distance : {_yes(fact.distant)}, année {fact.year or '-'}"
        )
    if isinstance(fact, Ia):
        extra = f", remplace {fact.replaces}" if fact.replaces else ""
        extra += f", échange {fact.exchange_programme}" if fact.exchange_programme else ""
        extra += ", télé-enseignement" if fact.tele_enseignement else ""
        state = "active" if fact.status == "active" else "annulée"
        return f"IA {fact.ia_id} de {fact.cod_etu} ({fact.year or '-'}) : {state}{extra}"
    if isinstance(fact, Elp):
        porte = f", porté par {fact.porteur}" if fact.porteur else ""
        state = "ouvert" if fact.status == "open" else "suspendu"
        period = "annuelle" if fact.period == "year" else fact.period
        return (
            f"élément {fact.cod_elp} « {fact.label} » ({fact.cod_cmp}) : {state}, période "
            f"{period}, enseignement à distance : {_yes(fact.a_distance)}, charges "
            f"d'enseignement : {_yes(fact.has_teaching_load)}{porte}"
        )
    if isinstance(fact, Group):
        label = f" « {fact.label} »" if fact.label else ""
        cemu = ", groupe CEMU" if fact.is_cemu else ""
        return f"groupe {fact.group_id}{label}, collection {fact.collection or 'aucune'}{cemu}"
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


def evidence_of(rule: str, facts: tuple[object, ...]) -> tuple[Evidence, ...]:
    return tuple(Evidence(rule, describe(f), getattr(f, "as_of", None)) for f in facts)


def when(moment: datetime | None, zone: ZoneInfo) -> str:
    """A local date and time; facts without a source timestamp (EPOCH) have none."""
    if moment is None or moment == EPOCH:
        return "date inconnue"
    return f"{moment.astimezone(zone):%d/%m/%Y %H:%M}"


def render_point(number: int, point: Point, zone: ZoneInfo) -> list[str]:
    """A numbered point of the French answer."""
    state = "à corriger" if point.fault else "conforme ou voulu"
    lines = [f"{number}. [{point.rule}] {point.statement} ({state})"]
    if point.pending:
        lines.append("   En attente : sera corrigé par la synchronisation de cette nuit (R9).")
    if point.people:
        shown = ", ".join(point.people[:20]) + (" …" if len(point.people) > 20 else "")
        lines.append(f"   Personnes concernées ({len(point.people)}) : {shown}")
    for line in point.evidence[:8]:
        lines.append(f"   - {line.fact} [{line.rule}, {when(line.as_of, zone)}]")
    if point.fixer:
        lines.append(f"   Qui peut corriger : {point.fixer}.")
    if point.how:
        lines.append(f"   Comment : {point.how}")
    return lines


def standing_point(view: ElpView) -> Point:
    """R1/R2/R5: where the ELP's students go."""
    elp, code = view.elp, view.cod_elp
    cmp = elp.cod_cmp if elp is not None else None
    label = f"{code} « {elp.label} » ({elp.cod_cmp})" if elp is not None else code
    if view.standing == "current":
        portes = ", ".join(p.cod_elp for p in view.portes)
        more = f" Il porte {portes} : leurs étudiants y sont inscrits (R5)." if portes else ""
        text = (
            f"L'élément {label} est actuel : son espace de cours a le n° d'identification {code}."
        )
        return Point("R1", "elp_current", text + more, fault=False)
    if view.standing == "porte":
        shared = ", ".join(sorted(view.shared_collections)) or "aucune"
        text = (
            f"L'élément {label} est porté par {view.course_idnumber} : pas d'espace de cours "
            f"propre, ses étudiants vont dans celui du porteur s'ils sont dans un groupe d'une "
            f"collection associée au porteur et à tous les portés (partagées : {shared})."
        )
        return Point("R5", "elp_porte", text, fault=False)
    if view.standing == "porteur_not_current":
        who, how = remedy("porteur_not_current", cmp)
        text = f"L'élément {label} est porté par {elp.porteur if elp else '?'}, absent de l'offre."
        return Point("R5", "porteur_not_current", text, True, fixer=who, how=how)
    who, how = remedy("elp_obsolete", cmp)
    gone = "supprimé de REFER" if elp is not None else "inconnu de REFER"
    text = f"L'élément {label} est {gone} : son espace de cours est (ou sera) archivé."
    return Point("R2", "elp_obsolete", text, True, fixer=who, how=how)


_ACTION_TEXT = {
    "create": "la synchronisation crée l'espace de cours {idnumber}, caché et vide",
    "unarchive": "la synchronisation désarchive le cours {course_id} : l'élément est de nouveau actuel",
    "archive": "la synchronisation archive le cours {course_id} ({idnumber}) : {why}",
}
_ARCHIVE_WHY = {
    "elp_deleted": ("élément supprimé de REFER", "elp_obsolete"),
    "elp_porte": ("élément devenu porté", "elp_became_porte"),
    "idnumber_unknown": (
        "n° d'identification inconnu d'APOGÉE, modifié à la main ? (R8)",
        "idnumber_edited",
    ),
}


def action_point(model: ModelPass, action: CourseAction) -> Point:
    """R1/R2: what the next run does to the course space (R9: tonight when the change is recent)."""
    pending = model.pending(action.as_of)
    why, cause = _ARCHIVE_WHY.get(action.reason, ("", ""))
    text = _ACTION_TEXT[action.action].format(
        idnumber=action.idnumber, course_id=action.course_id, why=why
    )
    text = ("Cette nuit, " if pending else "À la prochaine synchronisation, ") + text + "."
    if action.action != "archive":
        return Point(action.rule, f"course_{action.action}", text, False, pending)
    elp = model.facts.elps.get(action.idnumber) or model.facts.deleted_elps.get(action.idnumber)
    who, how = remedy(cause, elp.cod_cmp if elp else None)
    # What tonight's run does: the fault, if any, is the ELP's standing point.
    return Point("R2", "course_archive", text, False, pending, who, how)
