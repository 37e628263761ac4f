"""Default topic -> entity mappings, with the column names of our reference site.

Topic names follow Debezium (``<prefix>.<SCHEMA>.<TABLE>``). Column names of
REFER and ADE differ between sites: override any of these in the YAML
configuration (``sources.topics``). Moodle's tables are taken as they are
(``moodle_schema``); how their ids resolve is the ``moodle:`` settings
section. Oracle DATE columns arrive as epoch ms.
"""

from __future__ import annotations

from typing import Any

from monitor.store.moodle_schema import COLUMNS, FLAG_COLUMNS, MOODLE_PREFIX, topic_of

DEFAULT_TOPICS: dict[str, dict[str, Any]] = {
    "refer.REFER.T_ADE_ACTIVITES": {
        "entity": "elp",
        "columns": {
            "COD_ELP": "cod_elp",
            "LIB_ELP": "label",
            "COD_CMP": "cod_cmp",
            "A_DISTANCE": "a_distance",
            "ETA_ELP": "status",
            "COD_ELP_PORTEUR": "porteur",
            "TEM_CHARGES_ENS": "has_teaching_load",
            "PERIODE": "period",
            "ANNEE": "year",
        },
        "values": {
            "status": {"O": "open", "S": "suspended"},
            "period": {"S1": "S1", "S2": "S2", "AN": "year"},
        },
    },
    "refer.REFER.T_ADE_GROUPES": {
        "entity": "group",
        "columns": {"COD_GPE": "group_id", "LIB_GPE": "label", "COD_COL": "collection"},
    },
    "refer.REFER.T_ADE_COLLECTIONS_ELP": {
        "entity": "collection_link",
        "columns": {"COD_COL": "collection", "COD_ELP": "cod_elp"},
    },
    "refer.REFER.T_ADE_ACTIVITES_ETUDIANTS": {
        "entity": "ip",
        "columns": {
            "COD_ETU": "cod_etu",
            "COD_ELP": "cod_elp",
            "IDGROUPE": "group_id",
            "DISTANT": "distant",
            "ANNEE": "year",
        },
    },
    "refer.REFER.T_ADE_IA": {
        "entity": "ia",
        "columns": {
            "ID_IA": "ia_id",
            "COD_ETU": "cod_etu",
            "COD_ETP": "cod_etp",
            "ANNEE": "year",
            "TELE_ENS": "tele_enseignement",
            "ETA_IA": "status",
            "DAT_ANNUL": "cancelled_at",
            "ID_IA_REMPLACEE": "replaces",
            "COD_PROG_ECH": "exchange_programme",
            "SENS_ECH": "exchange_direction",
            "PERIODE_ECH": "exchange_period",
        },
        "values": {
            "status": {"A": "active", "E": "active", "C": "cancelled", "R": "cancelled"},
            "exchange_direction": {"A": "incoming", "D": "outgoing"},
            "exchange_period": {"S1": "S1", "S2": "S2", "AN": "year"},
        },
    },
    "refer.REFER.T_COMPTES": {
        "entity": "account",
        "columns": {
            "UID": "uid",
            "TYPE_COMPTE": "kind",
            "COD_ETU": "cod_etu",
            "ID_PERS": "staff_id",
            "NOM": "last_name",
            "PRENOM": "first_name",
            "MAIL": "email",
            "COD_CMP": "cod_cmp",
        },
        "values": {
            "kind": {"E": "student", "P": "staff", "I": "guest", "V": "vacataire"},
        },
    },
    "ade.ADE.FICHES": {
        "entity": "ade_fiche",
        "columns": {"ID_FICHE": "fiche_id", "COD_ELP": "cod_elp", "ENS_ASSOCIES": "teachers"},
    },
    "ade.ADE.SEANCES": {
        "entity": "ade_session",
        "columns": {
            "ID_SEANCE": "session_id",
            "ID_FICHE": "fiche_id",
            "DEBUT": "start",
            "GROUPES": "group_ids",
            "ENS_PLANIFIES": "teachers",
        },
    },
    # Moodle as Moodle is: its own tables and columns (monitor.store.moodle_schema), stored raw and
    # resolved into the canonical views when facts are loaded (monitor.store.moodle_views).
    **{
        topic_of(table): {
            "entity": f"{MOODLE_PREFIX}{table}",
            "columns": {column: column for column, _ in columns},
            "flag_columns": list(FLAG_COLUMNS.get(table, ())),
        }
        for table, columns in COLUMNS.items()
    },
}
