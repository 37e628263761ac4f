"""French-looking words for the synthetic university: composantes, course labels, people.

Invented data only: addresses use the reserved ``.example`` domain (RFC 2606),
so nothing the simulator makes can ever reach a real mailbox.
"""

from __future__ import annotations

import unicodedata
from typing import Literal

Preposition = Literal["à", "de", "de, no article", "en"]

DOMAIN = "univ-sim.example"
STUDENT_DOMAIN = f"etu.{DOMAIN}"
PERSONAL_DOMAINS = ("courriel-perso.example", "messagerie.example", "boite-mail.example")

# (code, name, slug of the scolarité address, code letter, disciplines)
COMPOSANTES: tuple[tuple[str, str, str, str, tuple[str, ...]], ...] = (
    ("12", "UFR HSS", "hss", "H", ("sociologie", "histoire", "géographie", "psychologie")),
    ("05", "UFR Droit", "droit", "D", ("droit civil", "droit public", "droit pénal")),
    ("07", "UFR Sciences", "sciences", "S", ("mathématiques", "physique", "chimie", "biologie")),
    ("09", "UFR LVE", "lve", "L", ("anglais", "espagnol", "allemand", "linguistique")),
    ("14", "UFR Humanités", "humanites", "U", ("lettres modernes", "philosophie", "arts")),
    ("03", "IAE", "iae", "G", ("gestion", "comptabilité", "marketing", "finance")),
    ("21", "UFR STAPS", "staps", "P", ("physiologie", "sports collectifs", "didactique")),
    ("25", "UFR Santé", "sante", "M", ("anatomie", "pharmacologie", "santé publique")),
    ("31", "IUT Grand Ouest", "iut", "I", ("informatique", "réseaux", "électronique")),
    ("33", "UFR SEGGAT", "seggat", "E", ("économie", "statistique", "aménagement")),
    ("40", "ESIX", "esix", "X", ("génie des procédés", "mécatronique", "agroalimentaire")),
    ("44", "INSPE", "inspe", "N", ("sciences de l'éducation", "didactique des sciences")),
    ("50", "UFR Psychologie", "psycho", "Y", ("psychologie cognitive", "neurosciences")),
    ("52", "IUT Cherbourg", "iutcherbourg", "C", ("logistique", "génie civil")),
    ("55", "UFR Langues", "langues", "A", ("langues étrangères appliquées", "traduction")),
    ("60", "Maison de la recherche", "mrsh", "R", ("épistémologie", "archéologie")),
    ("62", "IUT Alençon", "iutalencon", "O", ("techniques de commercialisation", "qualité")),
    ("70", "École de management", "management", "B", ("stratégie", "ressources humaines")),
    ("75", "Institut de géographie", "igeo", "Q", ("cartographie", "géomatique")),
    ("80", "Centre de formation continue", "fc", "F", ("bureautique", "communication")),
)

# How a course label names its discipline: "Introduction à" + "la sociologie", "au droit
# civil", "à l'histoire", "aux mathématiques"; "Séminaire d'histoire"; "Stage en chimie".
PREFIXES: tuple[tuple[str, Preposition], ...] = (
    ("Introduction", "à"),
    ("Fondamentaux", "de"),
    ("Méthodologie", "de"),
    ("Séminaire", "de, no article"),
    ("Atelier", "de, no article"),
    ("Théories", "de"),
    ("Histoire", "de"),
    ("Pratique", "de"),
    ("Enjeux", "de"),
    ("Initiation", "à"),
    ("Approfondissement", "en"),
    ("Projet tutoré", "en"),
)
# "{}" takes the discipline's agreement: "comparé", "comparée", "comparés", "comparées".
SUFFIXES = (
    "",
    "",
    " 1",
    " 2",
    " appliqué{}",
    " approfondi{}",
    " : enjeux contemporains",
    " et société",
    " : méthodes",
    " comparé{}",
)
# Each discipline's gender and number: f(eminine) or m(asculine), p(lural).
DISCIPLINES: dict[str, str] = {
    "sociologie": "f", "histoire": "f", "géographie": "f", "psychologie": "f",
    "droit civil": "m", "droit public": "m", "droit pénal": "m",
    "mathématiques": "fp", "physique": "f", "chimie": "f", "biologie": "f",
    "anglais": "m", "espagnol": "m", "allemand": "m", "linguistique": "f",
    "lettres modernes": "fp", "philosophie": "f", "arts": "mp",
    "gestion": "f", "comptabilité": "f", "marketing": "m", "finance": "f",
    "physiologie": "f", "sports collectifs": "mp", "didactique": "f",
    "anatomie": "f", "pharmacologie": "f", "santé publique": "f",
    "informatique": "f", "réseaux": "mp", "électronique": "f",
    "économie": "f", "statistique": "f", "aménagement": "m",
    "génie des procédés": "m", "mécatronique": "f", "agroalimentaire": "m",
    "sciences de l'éducation": "fp", "didactique des sciences": "f",
    "psychologie cognitive": "f", "neurosciences": "fp",
    "logistique": "f", "génie civil": "m",
    "langues étrangères appliquées": "fp", "traduction": "f",
    "épistémologie": "f", "archéologie": "f",
    "techniques de commercialisation": "fp", "qualité": "f",
    "stratégie": "f", "ressources humaines": "fp",
    "cartographie": "f", "géomatique": "f",
    "bureautique": "f", "communication": "f",
}  # fmt: skip
_ARTICLES = {  # (preposition, article) -> how they combine
    ("à", "le"): "au ", ("à", "la"): "à la ", ("à", "l'"): "à l'", ("à", "les"): "aux ",
    ("de", "le"): "du ", ("de", "la"): "de la ", ("de", "l'"): "de l'", ("de", "les"): "des ",
}  # fmt: skip
_ENDINGS = {"m": "", "f": "e", "mp": "s", "fp": "es"}


def _elided(word: str) -> bool:
    """Whether an article or "de" elides before ``word`` (a vowel, or a mute h)."""
    return unicodedata.normalize("NFD", word)[0].lower() in "aeiouyh"


def course_label(prefix: tuple[str, Preposition], discipline: str, suffix: str) -> str:
    """A course label in correct French: "Introduction au droit civil comparé"."""
    words, preposition = prefix
    gender = DISCIPLINES[discipline]
    ending = suffix.format(_ENDINGS[gender])
    if preposition == "en":
        return f"{words} en {discipline}{ending}"
    if preposition == "de, no article":
        de = "d'" if _elided(discipline) else "de "
        return f"{words} {de}{discipline}{ending}"
    if gender.endswith("p"):
        article = "les"
    else:
        article = "l'" if _elided(discipline) else ("la" if gender == "f" else "le")
    return f"{words} {_ARTICLES[(preposition, article)]}{discipline}{ending}"


NO_LOAD_LABELS = ("Mémoire de recherche en", "Stage en", "Projet personnel en")
LEVELS = (("L1", 1), ("L2", 2), ("L3", 3), ("M1", 4), ("M2", 5), ("DU", 6))
DISTANCE_SUFFIX = " (enseignement à distance)"

FIRST_NAMES = (
    "Camille",
    "Léa",
    "Manon",
    "Chloé",
    "Emma",
    "Inès",
    "Jade",
    "Louise",
    "Sarah",
    "Zoé",
    "Lucas",
    "Hugo",
    "Louis",
    "Nathan",
    "Théo",
    "Arthur",
    "Jules",
    "Raphaël",
    "Gabriel",
    "Tom",
    "Marie",
    "Anne",
    "Claire",
    "Julie",
    "Pauline",
    "Mathilde",
    "Océane",
    "Lucie",
    "Margaux",
    "Thomas",
    "Nicolas",
    "Julien",
    "Maxime",
    "Antoine",
    "Alexandre",
    "Quentin",
    "Romain",
    "Yasmine",
    "Amina",
    "Fatoumata",
    "Mehdi",
    "Karim",
    "Sofiane",
    "Nour",
    "Ilyes",
    "Rayan",
    "Élise",
    "Agathe",
    "Apolline",
    "Victor",
    "Baptiste",
    "Clément",
    "Adèle",
    "Gaspard",
    "Noé",
)
LAST_NAMES = (
    "Martin",
    "Bernard",
    "Dubois",
    "Thomas",
    "Robert",
    "Richard",
    "Petit",
    "Durand",
    "Leroy",
    "Moreau",
    "Simon",
    "Laurent",
    "Lefebvre",
    "Michel",
    "Garcia",
    "David",
    "Bertrand",
    "Roux",
    "Vincent",
    "Fournier",
    "Morel",
    "Girard",
    "André",
    "Lefèvre",
    "Mercier",
    "Dupont",
    "Lambert",
    "Bonnet",
    "François",
    "Martinez",
    "Legrand",
    "Garnier",
    "Faure",
    "Rousseau",
    "Blanc",
    "Guérin",
    "Muller",
    "Henry",
    "Roussel",
    "Nicolas",
    "Perrin",
    "Morin",
    "Mathieu",
    "Clément",
    "Gauthier",
    "Dumont",
    "Lopez",
    "Fontaine",
    "Chevalier",
    "Robin",
    "Lemoine",
    "Lecomte",
    "Marie",
    "Hamel",
    "Lebrun",
    "Lecoq",
    "Leclerc",
    "Jeanne",
    "Lemonnier",
    "Guillou",
    "Hébert",
)


def ascii_slug(text: str) -> str:
    """``Léa Dupont`` -> ``lea-dupont``: for logins and e-mail addresses."""
    flat = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "-".join(part for part in "".join(c if c.isalnum() else " " for c in flat).split())
