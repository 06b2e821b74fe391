"""Writes ``region_org.yaml``: the whole of Västra Götaland in the registry's shape, for a full-scale picture.

    python -m hypercare.org.generate_region > hypercare/org/region_org.yaml

Real names where DOMAIN.md gives them (the administrations and hospitals, the 49 municipalities by area, the
first wave's units, which keep the ids of ``default_org.yaml``), systematic names otherwise ("Avdelning 312
Kardiologi", "Hemtjänst Lerum 3"). The numbers of municipal units follow each municipality's approximate
population; the private providers are a sample of the LOV and LOU contracts. The municipalities' and private
providers' organisation numbers (their HSA prefixes) are systematic placeholders with a valid check digit,
not their real numbers: a region replaces them with the real ones in its own file. Waves after 18 February
2025 and their dates are assumptions (the order and dates are not public): configuration, not facts.

The output is deterministic; a test checks that the shipped file is this script's output.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from dataclasses import dataclass, field

VGR = "SE2321000131"
AREAS = (
    ("sodra", "Södra (Sjuhärad)"),
    ("norra", "Norra (Fyrbodal)"),
    ("ostra", "Östra (Skaraborg)"),
    ("vastra", "Västra (Göteborgsregionen)"),
)
# (id, name, status, planned go-live, actual go-live); None: not set.
WAVES = (
    ("sodra", "Våg 1 – södra området", "exited", "2024-11-12T05:30:00+01:00", "2024-11-12T05:30:00+01:00"),
    (
        "sodra-kommuner",
        "Våg 2 – kommunerna i södra",
        "exited",
        "2025-02-18T06:00:00+01:00",
        "2025-02-18T06:00:00+01:00",
    ),
    ("privata-2025", "Privata vårdgivare 2025", "exited", "2025-10-07T06:00:00+02:00", "2025-10-07T06:00:00+02:00"),
    ("norra", "Våg 3 – norra området", "live", "2026-11-17T05:30:00+01:00", "2026-11-17T05:30:00+01:00"),
    ("privata-2026", "Privata vårdgivare 2026", "paused", "2026-11-24T06:00:00+01:00", None),
    ("ostra", "Våg 4 – östra området", "readiness", "2027-03-09T05:30:00+01:00", None),
    ("vastra", "Våg 5 – västra området", "planned", "2027-10-12T05:30:00+02:00", None),
    ("privata-2027", "Privata vårdgivare 2027", "planned", None, None),
)
# The 49 municipalities by area (DOMAIN.md), with approximate populations in thousands: only to size how many
# home-care groups and nursing homes each gets.
MUNICIPALITIES: dict[str, tuple[tuple[str, int], ...]] = {
    "sodra": (
        ("Bollebygd", 10),
        ("Borås", 115),
        ("Herrljunga", 10),
        ("Mark", 35),
        ("Svenljunga", 11),
        ("Tranemo", 12),
        ("Ulricehamn", 25),
        ("Vårgårda", 12),
    ),
    "norra": (
        ("Bengtsfors", 9),
        ("Dals-Ed", 5),
        ("Färgelanda", 7),
        ("Lilla Edet", 14),
        ("Lysekil", 14),
        ("Mellerud", 9),
        ("Munkedal", 11),
        ("Orust", 15),
        ("Sotenäs", 9),
        ("Strömstad", 13),
        ("Tanum", 13),
        ("Trollhättan", 59),
        ("Uddevalla", 57),
        ("Vänersborg", 40),
        ("Åmål", 12),
    ),
    "ostra": (
        ("Essunga", 6),
        ("Falköping", 34),
        ("Grästorp", 6),
        ("Gullspång", 5),
        ("Götene", 13),
        ("Hjo", 9),
        ("Karlsborg", 7),
        ("Lidköping", 40),
        ("Mariestad", 25),
        ("Skara", 19),
        ("Skövde", 57),
        ("Tibro", 11),
        ("Tidaholm", 13),
        ("Töreboda", 9),
        ("Vara", 16),
    ),
    "vastra": (
        ("Ale", 32),
        ("Alingsås", 43),
        ("Göteborg", 600),
        ("Härryda", 39),
        ("Kungälv", 48),
        ("Lerum", 44),
        ("Mölndal", 70),
        ("Partille", 41),
        ("Stenungsund", 28),
        ("Tjörn", 16),
        ("Öckerö", 13),
    ),
}
AREA_WAVE = {"sodra": "sodra", "norra": "norra", "ostra": "ostra", "vastra": "vastra"}
MUNICIPAL_WAVE = {"sodra": "sodra-kommuner", "norra": "norra", "ostra": "ostra", "vastra": "vastra"}

SPECIALTIES = (
    "Kirurgi",
    "Ortopedi",
    "Medicin",
    "Geriatrik",
    "Infektion",
    "Kardiologi",
    "Neurologi",
    "Onkologi",
    "Urologi",
    "Lungmedicin",
    "Njurmedicin",
    "Hematologi",
    "Gastroenterologi",
    "Endokrinologi",
    "Strokeenhet",
    "Rehabilitering",
    "Psykiatri",
    "Barn och ungdom",
    "Kärlkirurgi",
    "Handkirurgi",
)
CLINICS = ("Medicin", "Kirurgi", "Ortopedi", "Öron-näsa-hals", "Ögon", "Kvinno", "Hud", "Barn", "Reumatologi")


@dataclass
class Node:
    id: str
    name: str
    units: list[tuple[str, str, str]] = field(default_factory=list)  # (id, name, kind)
    area: str | None = None
    wave: str | None = None


@dataclass
class Organisation:
    id: str
    name: str
    area: str | None
    sites: list[Node]
    type: str = "region"
    contract_form: str | None = None
    hsa_prefix: str | None = None


def luhn_completed(digits: str) -> str:
    """``digits`` (nine) and their Luhn check digit: the form of a Swedish organisation number."""
    total = 0
    for index, char in enumerate(digits):
        product = int(char) * (2 if index % 2 == 0 else 1)
        total += product // 10 + product % 10
    return digits + str((10 - total % 10) % 10)


# --- the region's own administrations -------------------------------------------------------------------------


def hospital(code: str, town: str, *, wards: int, first_ward: int, ed: str | None, extras: tuple[str, ...]) -> Node:
    """A hospital site with numbered wards (specialties in turn), named units and outpatient clinics."""
    site = Node(f"{VGR}-S{code}", town)
    if ed is not None:
        site.units.append((f"{VGR}-E{code}AKM", ed, "ed"))
    named = {
        "IVA": ("Intensivvårdsavdelning (IVA)", "icu"),
        "AVA": ("Akutvårdsavdelning (AVA)", "ward"),
        "HIA": ("Hjärtintensivavdelning (HIA)", "icu"),
        "BB": ("BB", "ward"),
        "NEO": ("Neonatalavdelning", "icu"),
        "RTG": ("Röntgen", "radiology"),
        "OPE": ("Operation", "other"),
        "DAG": ("Dagkirurgi", "other"),
        "DIA": ("Dialys", "outpatient"),
    }
    for key in extras:
        name, kind = named[key]
        site.units.append((f"{VGR}-E{code}{key}", f"{name} {town}", kind))
    for index in range(wards):
        number = first_ward + 10 * index
        site.units.append(
            (f"{VGR}-E{code}{number}", f"Avdelning {number} {SPECIALTIES[index % len(SPECIALTIES)]}", "ward")
        )
    for index, clinic in enumerate(CLINICS[: max(2, wards // 4)]):
        site.units.append((f"{VGR}-E{code}M{index + 1:02d}", f"{clinic}mottagning {town}", "outpatient"))
    return site


def sas() -> Organisation:
    """Södra Älvsborgs Sjukhus: the first wave's units with their ids from ``default_org.yaml``, then more wards."""
    boras = Node(f"{VGR}-SSASBOR", "Borås")
    boras.units += [
        (f"{VGR}-ESASBORAKM", "Akutmottagning Borås", "ed"),
        (f"{VGR}-ESASBORAVA", "Akutvårdsavdelning (AVA) Borås", "ward"),
        (f"{VGR}-ESASBORIVA", "Intensivvårdsavdelning (IVA) Borås", "icu"),
        (f"{VGR}-ESASBORHIA", "Hjärtintensivavdelning (HIA) Borås", "icu"),
        (f"{VGR}-ESASBORBB", "BB Borås", "ward"),
        (f"{VGR}-ESASBOR210", "Avdelning 210 Kirurgi", "ward"),
        (f"{VGR}-ESASBOR220", "Avdelning 220 Ortopedi", "ward"),
        (f"{VGR}-ESASBOR230", "Avdelning 230 Medicin", "ward"),
        (f"{VGR}-ESASBOR240", "Avdelning 240 Medicin", "ward"),
        (f"{VGR}-ESASBOR250", "Avdelning 250 Geriatrik", "ward"),
        (f"{VGR}-ESASBOR260", "Avdelning 260 Infektion", "ward"),
        (f"{VGR}-ESASBOR270", "Avdelning 270 Barn och ungdom", "ward"),
        (f"{VGR}-ESASBORRTG", "Röntgen Borås", "radiology"),
        (f"{VGR}-ESASBORLAB", "Klinisk kemi Borås", "lab"),
        (f"{VGR}-ESASBOROPE", "Operation Borås", "other"),
        (f"{VGR}-ESASBORMOT", "Medicinmottagning Borås", "outpatient"),
    ]
    for index in range(14):
        number = 280 + 10 * index
        boras.units.append((f"{VGR}-ESASBOR{number}", f"Avdelning {number} {SPECIALTIES[index + 5]}"[:80], "ward"))
    for index, clinic in enumerate(CLINICS[1:]):
        boras.units.append((f"{VGR}-ESASBORM{index + 2:02d}", f"{clinic}mottagning Borås", "outpatient"))
    skene = Node(f"{VGR}-SSASSKE", "Skene")
    skene.units += [
        (f"{VGR}-ESASSKEAKM", "Akutmottagning Skene", "ed"),
        (f"{VGR}-ESASSKE010", "Avdelning 10 Skene", "ward"),
        (f"{VGR}-ESASSKE011", "Avdelning 11 Skene", "ward"),
        (f"{VGR}-ESASSKEMOT", "Mottagningar Skene", "outpatient"),
        (f"{VGR}-ESASSKE012", "Avdelning 12 Skene", "ward"),
        (f"{VGR}-ESASSKERTG", "Röntgen Skene", "radiology"),
        (f"{VGR}-ESASSKEDAG", "Dagkirurgi Skene", "other"),
    ]
    return Organisation(f"{VGR}-FSAS", "Södra Älvsborgs Sjukhus", "sodra", [boras, skene])


def hospitals() -> list[Organisation]:
    return [
        Organisation(
            f"{VGR}-FSU",
            "Sahlgrenska Universitetssjukhuset",
            "vastra",
            [
                hospital(
                    "SUSAH",
                    "Sahlgrenska",
                    wards=48,
                    first_ward=110,
                    ed="Akutmottagning Sahlgrenska",
                    extras=("IVA", "AVA", "HIA", "RTG", "OPE", "DIA", "NEO"),
                ),
                hospital(
                    "SUOST",
                    "Östra sjukhuset",
                    wards=32,
                    first_ward=210,
                    ed="Akutmottagning Östra",
                    extras=("IVA", "AVA", "BB", "NEO", "RTG", "OPE"),
                ),
                hospital(
                    "SUMOL",
                    "Mölndal",
                    wards=20,
                    first_ward=310,
                    ed="Akutmottagning Mölndal",
                    extras=("AVA", "RTG", "OPE", "DAG"),
                ),
                hospital(
                    "SUDSB",
                    "Drottning Silvias barnsjukhus",
                    wards=16,
                    first_ward=410,
                    ed="Barnakuten Drottning Silvias barnsjukhus",
                    extras=("IVA", "NEO", "RTG", "OPE"),
                ),
            ],
        ),
        Organisation(
            f"{VGR}-FNU",
            "NU-sjukvården",
            "norra",
            [
                hospital(
                    "NUNAL",
                    "NÄL Trollhättan",
                    wards=34,
                    first_ward=110,
                    ed="Akutmottagning NÄL",
                    extras=("IVA", "AVA", "HIA", "BB", "NEO", "RTG", "OPE"),
                ),
                hospital(
                    "NUUDD", "Uddevalla", wards=26, first_ward=510, ed=None, extras=("IVA", "RTG", "OPE", "DAG", "DIA")
                ),
            ],
        ),
        Organisation(
            f"{VGR}-FSKAS",
            "Skaraborgs Sjukhus",
            "ostra",
            [
                hospital(
                    "SKASSKO",
                    "Skövde",
                    wards=34,
                    first_ward=110,
                    ed="Akutmottagning Skövde",
                    extras=("IVA", "AVA", "HIA", "BB", "NEO", "RTG", "OPE"),
                ),
                hospital("SKASLID", "Lidköping", wards=14, first_ward=410, ed=None, extras=("RTG", "DAG", "DIA")),
                hospital("SKASFAL", "Falköping", wards=10, first_ward=610, ed=None, extras=("RTG", "OPE")),
                hospital("SKASMAR", "Mariestad", wards=8, first_ward=810, ed=None, extras=("RTG",)),
            ],
        ),
        sas(),
        Organisation(
            f"{VGR}-FSIV",
            "Sjukhusen i väster",
            "vastra",
            [
                hospital(
                    "SIVALI",
                    "Alingsås lasarett",
                    wards=14,
                    first_ward=110,
                    ed="Akutmottagning Alingsås",
                    extras=("IVA", "AVA", "RTG", "OPE"),
                ),
                hospital("SIVANG", "Angereds närsjukhus", wards=6, first_ward=310, ed=None, extras=("RTG", "DAG")),
                hospital(
                    "SIVKUN",
                    "Kungälvs sjukhus",
                    wards=14,
                    first_ward=510,
                    ed="Akutmottagning Kungälv",
                    extras=("IVA", "AVA", "RTG", "OPE"),
                ),
                hospital("SIVHOG", "Högsbo närsjukhus", wards=6, first_ward=710, ed=None, extras=("RTG", "DAG")),
            ],
        ),
    ]


def _ascii(name: str) -> str:
    table = str.maketrans({"å": "a", "ä": "a", "ö": "o", "Å": "A", "Ä": "A", "Ö": "O", "-": "", " ": ""})
    return name.translate(table).upper()


AREA_CODE = {"sodra": "SJU", "norra": "FYR", "ostra": "SKA", "vastra": "GBG"}
AREA_SITE = {"sodra": "Sjuhärad", "norra": "Fyrbodal", "ostra": "Skaraborg", "vastra": "Göteborgsområdet"}
NARHALSAN_SODRA = (  # default_org.yaml's first-wave care centres, ids kept
    ("ENHBORCEN", "Närhälsan Borås Centrum vårdcentral"),
    ("ENHBORNOR", "Närhälsan Norrby vårdcentral"),
    ("ENHKINNA", "Närhälsan Kinna vårdcentral"),
    ("ENHSKENE", "Närhälsan Skene vårdcentral"),
    ("ENHULRICE", "Närhälsan Ulricehamn vårdcentral"),
    ("ENHSVENLJ", "Närhälsan Svenljunga vårdcentral"),
    ("ENHMARK", "Närhälsan Mark (Fritsla) vårdcentral"),
)


NARHALSAN_SODRA_COUNT = {"Borås": 2, "Mark": 3, "Ulricehamn": 1, "Svenljunga": 1}


def care_centres(population: int) -> int:
    """The region's own care centres in a municipality of ``population`` thousand (about one per 15,000)."""
    return max(1, round(population / 15))


def narhalsan() -> Organisation:
    """Närhälsan, the region's primary care: one site of care centres and one of rehab and midwives per area."""
    sites: list[Node] = []
    for area, _ in AREAS:
        code = AREA_CODE[area]
        centres = Node(f"{VGR}-SNH{code}" if area != "sodra" else f"{VGR}-SNHSJU", f"Närhälsan {AREA_SITE[area]}")
        rehab = Node(f"{VGR}-SNHREH{code}" if area != "sodra" else f"{VGR}-SNHREH", "")
        rehab.name = f"Närhälsan rehab och barnmorskemottagningar {AREA_SITE[area]}"
        if area == "sodra":
            rehab.name = "Närhälsan rehab och barnmorskemottagningar"
            centres.units += [(f"{VGR}-{suffix}", name, "primary_care") for suffix, name in NARHALSAN_SODRA]
            rehab.units += [
                (f"{VGR}-ENHREHBOR", "Närhälsan Rehab Borås", "outpatient"),
                (f"{VGR}-ENHBMMBOR", "Närhälsan Barnmorskemottagning Borås", "outpatient"),
            ]
        for municipality, population in MUNICIPALITIES[area]:
            short = _ascii(municipality)[:8]
            count = care_centres(population)
            for index in range(NARHALSAN_SODRA_COUNT.get(municipality, 0) if area == "sodra" else 0, count):
                number = f" {index + 1}" if count > 1 else ""
                centres.units.append(
                    (
                        f"{VGR}-ENH{short}{index + 1:02d}",
                        f"Närhälsan {municipality}{number} vårdcentral",
                        "primary_care",
                    )
                )
            if population >= 15 and not (area == "sodra" and municipality == "Borås"):
                rehab.units.append((f"{VGR}-ENHREH{short}", f"Närhälsan Rehab {municipality}", "outpatient"))
                rehab.units.append(
                    (f"{VGR}-ENHBMM{short}", f"Närhälsan Barnmorskemottagning {municipality}", "outpatient")
                )
        for node in (centres, rehab):
            node.area, node.wave = area, AREA_WAVE[area]
        sites += [centres, rehab]
    return Organisation(f"{VGR}-FNH", "Närhälsan", None, sites)


def regionhalsan() -> Organisation:
    sites: list[Node] = []
    for area, _ in AREAS:
        code = AREA_CODE[area]
        town = {"sodra": "Borås", "norra": "Trollhättan", "ostra": "Skövde", "vastra": "Göteborg"}[area]
        site = Node(f"{VGR}-SRH{code}", f"Regionhälsan {AREA_SITE[area]}", area=area, wave=AREA_WAVE[area])
        if area == "sodra":
            site.units += [
                (f"{VGR}-ERHBUPBOR", "BUP-mottagning Borås", "outpatient"),
                (f"{VGR}-ERHUMBOR", "Ungdomsmottagning Borås", "outpatient"),
                (f"{VGR}-ERHTANDBOR", "Specialisttandvård Borås", "outpatient"),
            ]
        else:
            site.units += [
                (f"{VGR}-ERHBUP{code}", f"BUP-mottagning {town}", "outpatient"),
                (f"{VGR}-ERHUM{code}", f"Ungdomsmottagning {town}", "outpatient"),
                (f"{VGR}-ERHTAND{code}", f"Specialisttandvård {town}", "outpatient"),
            ]
        site.units += [
            (f"{VGR}-ERHHAB{code}", f"Habiliteringen {AREA_SITE[area]}", "outpatient"),
            (f"{VGR}-ERHHS{code}", f"Hörselverksamheten {AREA_SITE[area]}", "outpatient"),
            (f"{VGR}-ERHSYN{code}", f"Synverksamheten {AREA_SITE[area]}", "outpatient"),
        ]
        sites.append(site)
    return Organisation(f"{VGR}-FRH", "Regionhälsan", None, sites)


LAB_TOWNS = {
    "sodra": ("Skene",),
    "norra": ("Trollhättan", "Uddevalla"),
    "ostra": ("Skövde", "Lidköping", "Falköping"),
    "vastra": ("Sahlgrenska", "Östra", "Mölndal", "Alingsås", "Kungälv"),
}


def laboratory_medicine() -> Organisation:
    """Regional laboratory medicine (Borås's chemistry lab stays under SÄS, as in ``default_org.yaml``)."""
    sites: list[Node] = []
    for area, _ in AREAS:
        code = AREA_CODE[area]
        site = Node(f"{VGR}-SLAB{code}", f"Laboratoriemedicin {AREA_SITE[area]}", area=area, wave=AREA_WAVE[area])
        for town in LAB_TOWNS[area]:
            short = _ascii(town)[:6]
            site.units.append((f"{VGR}-ELABKK{short}", f"Klinisk kemi {town}", "lab"))
            site.units.append((f"{VGR}-ELABMB{short}", f"Klinisk mikrobiologi {town}", "lab"))
            site.units.append((f"{VGR}-ELABPA{short}", f"Klinisk patologi {town}", "lab"))
        sites.append(site)
    return Organisation(f"{VGR}-FLAB", "Laboratoriemedicin", None, sites)


def facilities() -> Organisation:
    sites: list[Node] = []
    for area, _ in AREAS:
        code = AREA_CODE[area]
        site = Node(f"{VGR}-SFSS{code}", f"Fastighet, stöd och service {AREA_SITE[area]}", area=area)
        site.wave = AREA_WAVE[area]
        for index, service in enumerate(("IT-support", "Patientnära service", "Transport", "Sterilcentral")):
            site.units.append((f"{VGR}-EFSS{code}{index + 1}", f"{service} {AREA_SITE[area]}", "support"))
        sites.append(site)
    return Organisation(f"{VGR}-FFSS", "Fastighet, stöd och service", None, sites)


# --- municipalities and private providers ----------------------------------------------------------------------


def municipalities() -> list[Organisation]:
    """Each of the 49 municipalities: home care, nursing homes, municipal health care and rehab, short-term care."""
    organisations: list[Organisation] = []
    serial = 0
    for area, _ in AREAS:
        for municipality, population in MUNICIPALITIES[area]:
            serial += 1
            prefix = "SE" + luhn_completed(f"212000{serial:03d}")
            home_care = Node(f"{prefix}-SHT", f"Hemtjänst {municipality}")
            homes = Node(f"{prefix}-SSABO", f"Vård- och omsorgsboenden {municipality}")
            health = Node(f"{prefix}-SHSL", f"Kommunal hälso- och sjukvård {municipality}")
            for index in range(max(2, round(population / 7))):
                home_care.units.append(
                    (f"{prefix}-EHT{index + 1:03d}", f"Hemtjänst {municipality} {index + 1}", "home_care")
                )
            for index in range(max(2, round(population / 5))):
                homes.units.append(
                    (
                        f"{prefix}-ESABO{index + 1:03d}",
                        f"{municipality} vård- och omsorgsboende {index + 1}",
                        "nursing_home",
                    )
                )
            for index in range(1 + population // 60):
                health.units.append(
                    (
                        f"{prefix}-EHSJ{index + 1:02d}",
                        f"Hemsjukvård {municipality}{f' {index + 1}' if index else ''}",
                        "home_care",
                    )
                )
            health.units.append((f"{prefix}-EREHAB", f"Rehabteam {municipality}", "home_care"))
            health.units.append((f"{prefix}-EKORT", f"Korttidsboende {municipality}", "nursing_home"))
            sites = [home_care, homes, health]
            for site in sites:
                site.wave = MUNICIPAL_WAVE[area]
            name = "Göteborgs Stad" if municipality == "Göteborg" else f"{municipality} kommun"
            organisations.append(Organisation(f"{prefix}-F", name, area, sites, type="municipality", hsa_prefix=prefix))
    return organisations


# (contract form, provider kind, wave, [(area, town), ...]); a sample of the 107 LOV care centres, 31 LOV rehab
# providers and 21 LOU contracts.
PROVIDERS = (
    ("LOV", "vårdcentral", "privata-2025", (("sodra", "Borås"), ("sodra", "Ulricehamn"), ("sodra", "Mark"))),
    ("LOV", "vårdcentral", "privata-2025", (("sodra", "Borås"), ("sodra", "Tranemo"))),
    ("LOV", "rehab", "privata-2025", (("sodra", "Borås"), ("sodra", "Vårgårda"))),
    (
        "LOV",
        "vårdcentral",
        "privata-2026",
        tuple(("norra", t) for t in ("Trollhättan", "Uddevalla", "Vänersborg", "Lysekil", "Strömstad")),
    ),
    (
        "LOV",
        "vårdcentral",
        "privata-2026",
        tuple(("ostra", t) for t in ("Skövde", "Lidköping", "Mariestad", "Falköping", "Skara")),
    ),
    ("LOV", "rehab", "privata-2026", tuple(("norra", t) for t in ("Trollhättan", "Uddevalla", "Åmål"))),
    ("LOU", "närakut", "privata-2026", (("ostra", "Skövde"), ("norra", "Uddevalla"))),
    (
        "LOV",
        "vårdcentral",
        "privata-2027",
        tuple(
            ("vastra", f"Göteborg {d}")
            for d in ("Centrum", "Hisingen", "Angered", "Frölunda", "Majorna", "Örgryte", "Linnéstaden", "Backa")
        ),
    ),
    (
        "LOV",
        "vårdcentral",
        "privata-2027",
        tuple(("vastra", t) for t in ("Mölndal", "Partille", "Kungälv", "Lerum", "Alingsås", "Härryda", "Stenungsund")),
    ),
    (
        "LOV",
        "vårdcentral",
        "privata-2027",
        tuple(("vastra", f"Göteborg {d}") for d in ("Gamlestaden", "Kortedala", "Torslanda", "Askim", "Biskopsgården")),
    ),
    (
        "LOV",
        "rehab",
        "privata-2027",
        tuple(("vastra", t) for t in ("Göteborg Centrum", "Mölndal", "Kungälv", "Partille")),
    ),
    (
        "LOU",
        "specialistmottagning",
        "privata-2027",
        (("vastra", "Göteborg Centrum"), ("vastra", "Mölndal"), ("vastra", "Göteborg Hisingen")),
    ),
    ("LOU", "närakut", "privata-2027", (("vastra", "Göteborg Frölunda"), ("vastra", "Kungälv"))),
)
PROVIDER_KIND = {
    "vårdcentral": "primary_care",
    "rehab": "outpatient",
    "närakut": "outpatient",
    "specialistmottagning": "outpatient",
}


def private_providers() -> list[Organisation]:
    organisations: list[Organisation] = []
    for serial, (contract, kind, wave, places) in enumerate(PROVIDERS, start=1):
        prefix = "SE" + luhn_completed(f"556900{serial:03d}")
        provider = f"Vårdgivare {serial:02d} AB"
        by_area: dict[str, Node] = {}
        for index, (area, town) in enumerate(places, start=1):
            site = by_area.get(area)
            if site is None:
                site = by_area[area] = Node(
                    f"{prefix}-S{area.upper()}", f"{provider} {AREA_SITE[area]}", area=area, wave=wave
                )
            site.units.append(
                (f"{prefix}-E{index:03d}", f"{kind.capitalize()} {town} ({provider})", PROVIDER_KIND[kind])
            )
        organisations.append(
            Organisation(
                f"{prefix}-F",
                provider,
                None,
                list(by_area.values()),
                type="private",
                contract_form=contract,
                hsa_prefix=prefix,
            )
        )
    return organisations


# --- the YAML -------------------------------------------------------------------------------------------------


def organisations() -> list[Organisation]:
    region = [*hospitals(), narhalsan(), regionhalsan(), laboratory_medicine(), facilities()]
    for organisation in region:
        for site in organisation.sites:
            site.wave = site.wave or AREA_WAVE[site.area or organisation.area or ""]
    return [*region, *municipalities(), *private_providers()]


def _text(value: str) -> str:
    """A YAML scalar: plain when safe, else double-quoted."""
    if value and all(ch.isalnum() or ch in " -–()åäöÅÄÖéÉ.'" for ch in value) and not value[0].isdigit():
        return value
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def render() -> str:
    return "".join(_lines())


def _lines() -> Iterator[str]:
    yield "# The whole Västra Götaland region for Hypercare: generated by `python -m hypercare.org.generate_region`\n"
    yield "# (edit the script, not this file). HYPERCARE_ORG_FILE=<path to this file> selects it.\n"
    yield "# Municipal and private organisation numbers are systematic placeholders, not the real ones; waves after\n"
    yield "# 18 February 2025 and their dates are assumptions (the order and dates are not public).\n"
    yield f"region: {{id: {VGR}-R, name: Västra Götalandsregionen, hsa_prefix: {VGR}}}\n\n"
    yield "areas:\n"
    for area_id, name in AREAS:
        yield f"  - {{id: {area_id}, name: {_text(name)}}}\n"
    yield "\nwaves:\n"
    for wave_id, name, status, planned, actual in WAVES:
        yield f"  - id: {wave_id}\n    name: {_text(name)}\n    status: {status}\n"
        if planned is not None:
            yield f"    planned_go_live: {planned}\n"
        if actual is not None:
            yield f"    actual_go_live: {actual}\n"
    yield "\nadministrations:\n"
    for organisation in organisations():
        yield f"  - id: {organisation.id}\n    name: {_text(organisation.name)}\n"
        if organisation.type != "region":
            yield f"    type: {organisation.type}\n"
        if organisation.contract_form is not None:
            yield f"    contract_form: {organisation.contract_form}\n"
        if organisation.hsa_prefix is not None:
            yield f"    hsa_prefix: {organisation.hsa_prefix}\n"
        if organisation.area is not None:
            yield f"    area: {organisation.area}\n"
        yield "    sites:\n"
        for site in organisation.sites:
            yield f"      - id: {site.id}\n        name: {_text(site.name)}\n"
            if site.area is not None and site.area != organisation.area:
                yield f"        area: {site.area}\n"
            if site.wave is not None:
                yield f"        wave: {site.wave}\n"
            yield "        units:\n"
            for unit_id, name, kind in site.units:
                yield f"          - {{id: {unit_id}, name: {_text(name)}, kind: {kind}}}\n"
        yield "\n"


def main() -> None:
    sys.stdout.write(render())


if __name__ == "__main__":
    main()
