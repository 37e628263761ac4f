"""The seed's FAQ, question by question, asked to the real ``ecampus-monitor diagnose`` process.

Each test quotes one question of the seed's « Foire Aux Questions » and checks
the French answer the CLI gives from a store filled through the real apply
path (``tests.monitor.test_api_diagnose.store``). Questions the data cannot
answer are not walked: « Pourquoi le bloc "Participants" ne s'affiche plus ? »
(a Moodle 2020 layout change) and « Je parviens à m'authentifier au CAS, mais
celui-ci me dit qu'il ne connaît pas ma destination finale » (a bookmarked
CAS address); « Je ne suis pas affecté dans le bon groupe » is the
wrong-group detector's.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from detectors.facts import (
    Account,
    AdeFiche,
    CollectionLink,
    Elp,
    Group,
    Ip,
    MoodleCourse,
    MoodleEnrolInstance,
    MoodleEnrolment,
)
from monitor.kafka.events import epoch_ms
from monitor.kafka.mapping import Change, fact_to_row
from monitor.simulation.moodle_source import MoodleSource
from monitor.store.apply import apply_changes
from monitor.store.db import make_engine, upgrade
from tests.monitor.test_api_diagnose import LAST_NIGHT, LAST_WEEK, elp, moodle_course, store
from tests.monitor.web_support import NOW

pytestmark = pytest.mark.integration

CLI = [sys.executable, "-m", "monitor"]
AT = "2026-12-02T10:00"  # Paris time, the morning after LAST_NIGHT's successor-free night
LONG_AGO = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
ARCHIVED_ON = datetime(2025, 12, 20, 9, 0, tzinfo=UTC)
DELETED_ON = datetime(2025, 12, 19, 9, 0, tzinfo=UTC)
CREATED_ON = datetime(2025, 6, 1, 9, 0, tzinfo=UTC)
GEO_COURSE_DELETED = datetime(2026, 11, 30, 3, 0, tzinfo=UTC)


def _accounts() -> list[Account]:
    return [
        Account("hdupont1", "student", cod_etu="21609846", last_name="Dupont",
                first_name="Héloïse", email="heloise.dupont@etu.unicaen.fr", as_of=LAST_WEEK),
        Account("hdupont2", "student", cod_etu="21700002", last_name="DUPONT",
                first_name="Heloise", as_of=LAST_WEEK),
        Account("mleroy", "staff", staff_id="T042", last_name="Le Roy", first_name="Michèle",
                email="michele.leroy@unicaen.fr", as_of=LAST_WEEK),
        Account("pmartin", "vacataire", staff_id="V77", last_name="Martin", first_name="Paul",
                cod_cmp="12 UFR HSS", as_of=LAST_WEEK),
    ]  # fmt: skip


def _old_elp() -> Elp:
    return Elp("HIST-OLD", "Histoire moderne", "12 UFR HSS", year=2025, as_of=CREATED_ON)


def _university() -> list[object]:
    return [
        *_accounts(),
        # Not created: no group, no teaching load; one student registered.
        Elp("UE-NOLOAD", "Projet tutoré", "12 UFR HSS", has_teaching_load=False, year=2026,
            as_of=LAST_WEEK),
        Ip("21700002", "UE-NOLOAD", None, False, 2026, as_of=LAST_WEEK),
        # Archived: the code changed (same label and composante under a new code).
        _old_elp(),
        Elp("HIST-NEW", "Histoire moderne", "12 UFR HSS", year=2026, as_of=DELETED_ON),
        MoodleCourse(8, "HIST-OLD", "HIST-OLD", "Histoire moderne", category=999,
                     as_of=ARCHIVED_ON),
        # Archived long ago, then deleted by Moodle two nights ago.
        Elp("GEO-OLD", "Géographie", "12 UFR HSS", year=2024, as_of=CREATED_ON),
        MoodleCourse(12, "GEO-OLD", "GEO-OLD", "Géographie", category=999, as_of=ARCHIVED_ON),
        # Visible, but its end date passed while its year still runs: off the dashboard.
        Elp("SOC-END", "Sociologie", "12 UFR HSS", year=2026, as_of=LAST_WEEK),
        MoodleCourse(6, "SOC-END", "SOC-END", "Sociologie", visible=True,
                     enddate=datetime(2026, 11, 15, tzinfo=UTC), as_of=LAST_WEEK),
        # Hidden before its period (S2 starts on 15 January).
        Elp("LIT-S2", "Littérature", "12 UFR HSS", period="S2", year=2026, as_of=LAST_WEEK),
        *moodle_course(4, "LIT-S2"),
        # Real groups, one student not down to the group, a teacher only associated in ADE,
        # a forgotten cohort sync and a manual enrolment without end date.
        elp("DRT-GRP", label="Droit civil"),
        Group("DRT-TD1", "TD 1", "DRT-COL", as_of=LAST_WEEK),
        CollectionLink("DRT-COL", "DRT-GRP", as_of=LAST_WEEK),
        Ip("21609846", "DRT-GRP", None, False, 2026, as_of=LAST_WEEK),
        AdeFiche("F-DRT", "DRT-GRP", ("T042",), as_of=LAST_WEEK),
        *moodle_course(2, "DRT-GRP"),
        MoodleEnrolInstance(23, 2, "cohort", "student", cohort_id=7, created=LONG_AGO,
                            as_of=LONG_AGO),
        MoodleEnrolInstance(24, 2, "manual", "student", created=LONG_AGO, as_of=LONG_AGO),
        MoodleEnrolment(901, 23, "hdupont1", timestart=LONG_AGO, as_of=LONG_AGO),
        MoodleEnrolment(902, 24, "hdupont1", timestart=LONG_AGO, as_of=LONG_AGO),
        LAST_NIGHT,
    ]  # fmt: skip


@pytest.fixture(scope="module")
def store_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    path: Path = tmp_path_factory.mktemp("faq") / "state.sqlite"
    url = f"sqlite:///{path}"
    engine = make_engine(url)
    upgrade(engine)
    store(engine, *_university())
    geo = Elp("GEO-OLD", "Géographie", "12 UFR HSS", year=2024, as_of=CREATED_ON)
    changes = [
        Change("elp", "HIST-OLD", fact_to_row(_old_elp()), epoch_ms(DELETED_ON) + 1, deleted=True),
        Change("elp", "GEO-OLD", fact_to_row(geo), epoch_ms(DELETED_ON) + 1, deleted=True),
    ]
    course = MoodleCourse(12, "GEO-OLD", "GEO-OLD", "Géographie", category=999)
    changes += [  # Moodle deletes the archived course: its mdl_course row goes
        Change(e.entity, str(e.row.id), fact_to_row(e.row), epoch_ms(GEO_COURSE_DELETED),
               deleted=e.op == "d")  # type: ignore[arg-type]
        for e in MoodleSource().edits(course, "d")
        if e.entity == "mdl_course"
    ]  # fmt: skip
    with engine.begin() as conn:  # HIST-OLD and GEO-OLD leave REFER, GEO-OLD's course goes
        apply_changes(conn, changes, NOW)
    engine.dispose()
    return url


def _ask(url: str, *args: str, code: int = 0) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ECAMPUS_MONITOR_")}
    env["ECAMPUS_MONITOR_STORE__URL"] = url
    result = subprocess.run(
        [*CLI, "diagnose", "--at", AT, *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == code, result.stdout + result.stderr
    return " ".join(result.stdout.split())  # one line: French wraps nowhere


def test_mon_nom_et_ou_mon_prenom_est_errone_sur_ecampus(store_url: str) -> None:
    """« Mon nom et/ou mon prénom est erroné sur Ecampus » — found by email address."""
    answer = _ask(store_url, "--person", "Heloise.Dupont@ETU.unicaen.fr")
    assert "Personne trouvée par adresse : Héloïse DUPONT (étudiant ; n° étudiant 21609846" in (
        answer
    )
    assert "viennent du compte numérique : une erreur s'y corrige auprès du service " in answer
    assert "administratif de la composante, visible dans Ecampus le lendemain" in answer


def test_homonyms_are_listed_to_choose_from(store_url: str) -> None:
    """Seed: « presque 30 000 étudiants …, dont beaucoup d'homonymes »."""
    answer = _ask(store_url, "--person", "heloise dupont", code=3)
    assert "Plusieurs personnes correspondent à « heloise dupont » (2) :" in answer
    assert "n° étudiant 21609846" in answer and "n° étudiant 21700002" in answer
    assert "Précisez laquelle" in answer
    assert "Aucun résultat" in _ask(store_url, "--person", "Durand", code=1)


def test_je_n_arrive_pas_a_me_connecter_sur_ecampus(store_url: str) -> None:
    """« Je n'arrive pas à me connecter sur Ecampus » — vacataire account without email."""
    answer = _ask(store_url, "--person", "PAUL martin")
    assert "Compte invité ou vacataire sans adresse électronique" in answer
    assert "Qui peut corriger : la scolarité de la composante 12 UFR HSS." in answer
    assert "Compléter l'adresse électronique personnelle du compte" in answer


def test_pourquoi_mon_cours_a_ete_deplace_et_renomme_sur_ecampus(store_url: str) -> None:
    """« Pourquoi mon cours a été déplacé et renommé sur Ecampus ? » — archived, code changed."""
    answer = _ask(store_url, "--course", "HIST-OLD")
    assert "Le cours 8 (HIST-OLD) est archivé depuis le 20/12/2025" in answer
    assert "il sera supprimé le 20/12/2026 (date estimée)" in answer
    assert "nouveau code HIST-NEW. Copiez le contenu du cours archivé HIST-OLD dans HIST-NEW" in (
        answer
    )


def test_pourquoi_mon_cours_n_existe_pas_sur_ecampus(store_url: str) -> None:
    """« Pourquoi mon cours n'existe pas sur Ecampus ? » — no group, no teaching load."""
    answer = _ask(store_url, "--course", "UE-NOLOAD")
    assert "Le cours UE-NOLOAD n'existe pas et ne sera pas créé cette nuit" in answer
    assert "aucun groupe dans APOGÉE et aucune charge d'enseignement" in answer
    assert "Qui peut corriger : la scolarité de la composante 12 UFR HSS." in answer
    assert "Définir les charges d'enseignement de l'élément" in answer
    assert "aucun problème" not in answer
    deleted = _ask(store_url, "--course", "GEO-OLD")
    assert (
        "Le cours 12 (GEO-OLD) a été supprimé d'Ecampus le 30/11/2026, après son archivage."
        in deleted
    )


def test_pourquoi_je_ne_vois_pas_mon_cours_sur_mon_tableau_de_bord(store_url: str) -> None:
    """« Pourquoi je ne vois pas mon cours sur mon tableau de bord ? » — « Les cours passés
    peuvent ainsi disparaître du tableau de bord : si un espace cours possède une date de fin
    active … et que cette date est échue »."""
    answer = _ask(store_url, "--course", "SOC-END")
    assert (
        "La date de fin du cours SOC-END « Sociologie » (15/11/2026) est échue avant la fin de la "
        "période annuelle (30/06/2027) : le cours disparaît du filtre « en cours » du tableau de "
        "bord des étudiants qui y seront inscrits." in answer
    )
    assert "Qui peut corriger : les enseignants du cours." in answer
    assert "(à corriger)" in answer


def test_pourquoi_les_etudiants_ne_voient_pas_mon_cours(store_url: str) -> None:
    """« Pourquoi les étudiants ne voient pas mon cours ? » — hidden before its start."""
    answer = _ask(store_url, "--course", "LIT-S2")
    assert "Le cours LIT-S2 est caché, ce qui est normal avant le début de sa période le " in (
        answer
    )
    assert "15/01/2027" in answer
    assert "aucun problème" not in answer
    assert "Verdict : rien à corriger : le cours est caché jusqu'au début de sa période" in answer
    assert "Qui peut corriger : les enseignants du cours." in answer


def test_pourquoi_les_etudiants_ne_sont_pas_inscrits_dans_mon_cours(store_url: str) -> None:
    """« Pourquoi les étudiants ne sont pas inscrits dans mon cours ? » — not down to the group."""
    answer = _ask(store_url, "--course", "DRT-GRP")
    assert "l'étudiant 21609846, inscrit pédagogiquement à DRT-GRP" in answer
    assert "Faire l'inscription pédagogique jusqu'au groupe dans APOGÉE" in answer


def test_puis_je_me_depanner_en_synchronisant_une_cohorte(store_url: str) -> None:
    """« Puis-je me dépanner en synchronisant une cohorte (basée sur les IA) dans le cours ? »"""
    answer = _ask(store_url, "--course", "DRT-GRP")
    assert "synchronisation de cohorte ancienne (1 personne concernée). (à corriger)" in answer
    assert "il faut penser à la retirer du cours" in answer


def test_puis_je_me_depanner_en_inscrivant_manuellement_des_etudiants(store_url: str) -> None:
    """« Puis-je me dépanner en inscrivant manuellement des étudiants ou en ajoutant une méthode
    d'auto-inscription ? » — a manual enrolment without end date is reported."""
    answer = _ask(store_url, "--course", "DRT-GRP")
    assert "inscriptions manuelles sans date de fin (1 personne concernée). (à corriger)" in answer
    assert "il est impératif de limiter ces inscriptions dans le temps" in answer


def test_comment_savoir_qui_est_inscrit_et_surtout_comment(store_url: str) -> None:
    """« Comment savoir qui est inscrit et surtout comment ? » — method and dates."""
    answer = _ask(store_url, "--student", "21609846")
    assert "Inscriptions de 21609846 dans Ecampus :" in answer
    assert (
        "cours DRT-GRP : étudiant, inscrit par synchronisation de cohorte (ajoutée à la main), "
        "depuis le 05/01/2026, sans date de fin" in answer
    )
    assert "cours DRT-GRP : étudiant, inscrit manuellement, depuis le 05/01/2026" in answer
    course = _ask(store_url, "--course", "DRT-GRP")
    assert (
        "Méthodes d'inscription du cours DRT-GRP : base de données : 0 inscription ; "
        "cohorte 7 : 1 inscription ; manuelle : 1 inscription." in course
    )
    as_json = json.loads(_ask(store_url, "--student", "21609846", "--json"))
    (how,) = [p for p in as_json["points"] if p["cause"] == "enrolled_how"]
    assert "cohorte" in how["statement"]


def test_je_suis_l_enseignant_d_un_cours_pourtant_je_n_y_suis_pas_inscrit(store_url: str) -> None:
    """« Je suis l'enseignant d'un cours, pourtant je n'y suis pas inscrit, pourquoi ? »"""
    answer = _ask(store_url, "--person", "michele LE ROY")
    assert "Personne trouvée par nom : Michèle LE ROY (personnel ; identifiant mleroy" in answer
    assert "l'enseignant T042 n'est pas inscrit comme enseignant dans le cours DRT-GRP" in answer
    assert "une simple association ne suffit pas" in answer
