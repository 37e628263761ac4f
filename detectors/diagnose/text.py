"""Diagnosis in French: one point per rule applied, who can fix it and how, facts in words.

The "how" texts are short answers for a support ticket, taken from the seed's
sections (the alerts carry the long versions, written for their audience).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from detectors.causes import FIXERS, DeclaredCause, Fixer
from detectors.facts import EPOCH
from detectors.findings import Evidence
from detectors.model.context import ElpView
from detectors.model.courses import CourseAction
from detectors.model.describe import describe_fact
from detectors.shared.model_bridge import ModelPass

Who = Fixer

# Diagnosis' own points, beside the detectors' and the model's causes it also names.
OWN_CAUSES: tuple[DeclaredCause, ...] = (
    DeclaredCause("elp_became_porte", "Élément devenu porté", "scolarite"),
    DeclaredCause(
        "hidden_before_start", "Cours caché avant le début de sa période (normal)", "teachers"
    ),
    DeclaredCause("pending", "Modification récente, propagée cette nuit", "tonight"),
    DeclaredCause("not_expected", "Inscription que les données ne justifient plus", "cemu"),
    DeclaredCause(
        "teacher_not_planned_enrolled", "Enseignant inscrit sans planification valide", "scolarite"
    ),
    DeclaredCause("no_ip", "Pas d'inscription pédagogique à l'élément", "scolarite"),
    DeclaredCause("no_planning", "Enseignant non planifié dans ADE", "scolarite"),
    # What diagnosis finds as expected: shown on the page beside the rule, never as a code.
    DeclaredCause("person", "Personne trouvée", "nobody"),
    DeclaredCause("elp_current", "Élément actuel de l'offre de formation", "nobody"),
    DeclaredCause("elp_porte", "Élément porté : cours du porteur", "nobody"),
    DeclaredCause("course_create", "Cours créé par la synchronisation", "tonight"),
    DeclaredCause("course_unarchive", "Cours désarchivé par la synchronisation", "tonight"),
    DeclaredCause("course_archive", "Cours archivé par la synchronisation", "scolarite"),
    DeclaredCause("course_archived", "Cours archivé", "nobody"),
    DeclaredCause("course_deleted", "Cours supprimé d'Ecampus", "nobody"),
    DeclaredCause("enrolled", "Inscrits comme attendu", "nobody"),
    DeclaredCause("expected", "Inscription attendue", "nobody"),
    DeclaredCause("enrolled_how", "Mode d'inscription dans le cours", "nobody"),
    DeclaredCause("enrolment_methods", "Méthodes d'inscription du cours", "nobody"),
    DeclaredCause("moodle_not_compared", "Comparaison avec Ecampus impossible", "nobody"),
    DeclaredCause("overlap_only", "Tuilage avec l'année précédente", "nobody"),
    DeclaredCause("teacher_overlap", "Enseignants de l'année précédente (tuilage)", "nobody"),
)

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
    "foad_case_a": ("scolarite", _FOAD + "déclarer l'élément en « enseignement à distance » "
                    "(l'étudiant sera inscrit la nuit suivante). Ne pas créer de groupe « CEMU » "
                    "isolé à côté d'un pseudo-groupe ELP_ (il masquerait la planification ADE). "
                    "Ne corriger l'IA que si le télé-enseignement est une erreur."),
    "foad_case_e": ("scolarite", _FOAD + "déclarer l'élément en « enseignement à distance »."),
    "foad_case_c": ("scolarite", _FOAD + "placer ces étudiants à distance dans un groupe "
                    "libellé « CEMU »."),
    "foad_case_d": ("scolarite", _FOAD + "groupe « CEMU » pour un étudiant présentiel sur un "
                    "élément présentiel : le placer dans un groupe non « CEMU ». Ne pas passer "
                    "l'IA seule en télé-enseignement (situation e : perte de l'inscription)."),
    "foad_case_f": ("scolarite", _FOAD + "groupe « CEMU » pour une IA qui n'est pas en "
                    "télé-enseignement : changer de groupe, ou corriger l'IA si l'étudiant "
                    "est à distance (tous ses éléments doivent alors être à distance)."),
    "distant_in_pseudo_group": ("scolarite", "Les étudiants sont inscrits, seul le groupe manque "
                                "(le pseudo-groupe ELP_ n'est pas « CEMU »). Pas de groupe "
                                "« CEMU » isolé : il masquerait la planification ADE du pseudo-"
                                "groupe et désinscrirait les autres étudiants. Si des groupes "
                                "sont nécessaires, les créer pour tout l'élément, tous les "
                                "étudiants inscrits jusqu'au groupe, séances ADE replanifiées."),
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
    "ia_cancelled_replaced": ("cemu_dsi", "IA annulée puis remplacée en cours d'année : "
                              "hypothèse en cours d'analyse sur les tables intermédiaires. "
                              "Rien à corriger dans APOGÉE ; vérifier les tables avec la DSI et, "
                              "au besoin, inscrire l'étudiant manuellement pour une durée "
                              "limitée."),
    "ia_cancelled": ("scolarite", "L'IA est annulée : si c'est une erreur, la rétablir."),
    "year_inactive": ("nobody", "Inscription d'une année close ou pas encore ouverte (le "
                      "tuilage avec l'année précédente dure jusqu'au 30 septembre)."),
    "teacher_associated_not_planned": ("scolarite", "Planifier les séances dans ADE avec "
                                       "l'enseignant (ressource « Enseignant » des séances) : une simple "
                                       "association ne suffit pas. Attendu pour un cours "
                                       "intégralement à distance."),
    "fiche_not_linked": ("scolarite", "Rattacher la fiche ADE à l'élément APOGÉE : les fiches "
                         "créées uniquement dans ADE n'ont pas d'effet sur Ecampus."),
    "fiche_on_porte_elp": ("scolarite", "Planifier sur la fiche ADE de l'élément porteur."),
    "masked_by_new_group": ("scolarite", "Planifier dans ADE les séances du groupe créé dans "
                            "APOGÉE, qui masque la planification faite sur le pseudo-groupe ELP_, "
                            "et inscrire tous les étudiants jusqu'à un groupe réel."),
    "elp_became_porte": ("scolarite", "L'espace du porteur accueille désormais les étudiants : "
                         "vérifier qu'ils sont dans un groupe d'une collection associée au porteur "
                         "et à tous les portés ; les enseignants copient le contenu utile."),
    "idnumber_edited": ("cemu", "Rétablir le n° d'identification d'origine du cours : il ne doit "
                        "jamais être modifié manuellement (lien avec APOGÉE)."),
    "course_not_created": ("scolarite", "Définir les charges d'enseignement de l'élément dans "
                           "APOGÉE (le pseudo-groupe ELP_ et l'espace de cours seront créés la "
                           "nuit suivante), ou créer des groupes et inscrire les étudiants "
                           "jusqu'au groupe."),
    "hidden_before_start": ("teachers", "Rien d'anormal : l'équipe enseignante rend le cours "
                            "visible quand elle le décide, dans les paramètres du cours "
                            "(Visibilité du cours : Afficher)."),
    "code_changed": ("teachers", "Les enseignants copient le contenu de l'ancien espace (archivé) "
                     "vers le nouveau, puis le rendent visible ; si le changement de code n'est "
                     "pas voulu, la scolarité rétablit l'ancien code dans APOGÉE (désarchivage "
                     "la nuit suivante, jamais à la main)."),
    "missing_email": ("scolarite", "Compléter l'adresse électronique personnelle du compte "
                      "(créé par la composante) : l'accès à Ecampus sera normal dès le "
                      "lendemain."),
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
    "wrong_group": ("cemu", "APOGÉE place l'étudiant dans un autre groupe que celui où il est "
                    "dans Ecampus : examiner le rapport de lmsjonction (avertissements w9, « groupe "
                    "existe déjà ») et vérifier si le groupe a été changé à la main dans le cours ; "
                    "si c'est APOGÉE qui est faux, la scolarité corrige le groupe de l'inscription "
                    "pédagogique."),
    "group_membership_missing": ("cemu", "L'étudiant est inscrit au cours mais dans aucun des "
                                 "groupes de son inscription pédagogique : examiner le rapport de "
                                 "lmsjonction (avertissements w9) et vérifier si le groupe a été "
                                 "retiré à la main dans le cours."),
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
    cause_label: str = ""
    """The cause in French (the registry's catalogue), for the page: never the code."""

    def to_dict(self) -> dict[str, object]:
        return {
            "rule": self.rule,
            "cause": self.cause,
            "cause_label": self.cause_label,
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
    found = REMEDY.get(cause)
    if found is None:
        return ("", "")
    who, how = found
    return (fixer(who, cod_cmp), how)


def describe(fact: object) -> str:
    """One fact in French words: the model's describer, the same as the alerts'."""
    return describe_fact(fact)


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
    rule = f"[{point.rule}] " if point.rule else ""
    lines = [f"{number}. {rule}{point.statement} ({state})"]
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
