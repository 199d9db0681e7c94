"""Static material for the demo data set: PU Sremska Mitrovica (Srem district).

Coordinates are real (rounded to ~100 m); names, streets and phrases are
Serbian (Latin script). Nothing here is random: :mod:`server.seed.demo`
draws from these tables with a seeded RNG.
"""

from __future__ import annotations

from dataclasses import dataclass

TIMEZONE = "Europe/Belgrade"


@dataclass(frozen=True)
class Org:
    code: str
    kind: str
    name: str
    parent: str | None
    lat: float | None
    lon: float | None


# The directorate is the root of the demo tree (no ministry row: a ministry
# root would break the "path = /SM/…" prefix that scopes everything).
DIRECTORATE = Org("SM", "directorate", "PU Sremska Mitrovica", None, 44.9764, 19.6122)
STATIONS: tuple[Org, ...] = (
    Org("SM-SM", "station", "PS Sremska Mitrovica", "SM", 44.9764, 19.6122),
    Org("SM-RU", "station", "PS Ruma", "SM", 45.0081, 19.8222),
    Org("SM-IN", "station", "PS Inđija", "SM", 45.0480, 20.0817),
    Org("SM-SID", "border_centre", "Stanica granične policije Šid", "SM", 45.1283, 19.2264),
)


@dataclass(frozen=True)
class Place:
    name: str
    lat: float
    lon: float
    weight: float      # share of the area's incidents
    town: bool = False  # a town gets wider jitter and town streets
    crossing: bool = False


# Places per station area. The border centre covers the Šid municipality and
# the Batrovci (A3 motorway) and Šid (road/rail to Tovarnik) crossings.
PLACES: dict[str, tuple[Place, ...]] = {
    "SM-SM": (
        Place("Sremska Mitrovica", 44.9764, 19.6122, 10.0, town=True),
        Place("Laćarak", 45.0003, 19.5631, 2.0),
        Place("Martinci", 45.0139, 19.4611, 1.2),
        Place("Kuzmin", 45.0000, 19.4130, 1.0),
        Place("Mačvanska Mitrovica", 44.9606, 19.5947, 1.3),
        Place("Noćaj", 44.9172, 19.6011, 0.6),
        Place("Jarak", 44.9236, 19.7550, 0.8),
        Place("Hrtkovci", 44.8844, 19.7600, 0.8),
        Place("Ležimir", 45.1100, 19.5400, 0.5),
        Place("Grgurevci", 45.0800, 19.6500, 0.4),
        Place("Šašinci", 44.9600, 19.7300, 0.5),
    ),
    "SM-RU": (
        Place("Ruma", 45.0081, 19.8222, 8.0, town=True),
        Place("Irig", 45.1006, 19.8575, 1.5),
        Place("Vrdnik", 45.1200, 19.7900, 1.0),
        Place("Pećinci", 44.9089, 19.9647, 1.5),
        Place("Platičevo", 44.8256, 19.8017, 0.7),
        Place("Nikinci", 44.8500, 19.8300, 0.6),
        Place("Voganj", 45.0361, 19.7544, 0.5),
        Place("Putinci", 44.9944, 19.9708, 0.8),
        Place("Dobrinci", 44.9550, 19.9250, 0.5),
    ),
    "SM-IN": (
        Place("Inđija", 45.0480, 20.0817, 7.0, town=True),
        Place("Stara Pazova", 44.9850, 20.1608, 4.0, town=True),
        Place("Nova Pazova", 44.9450, 20.2200, 2.0),
        Place("Beška", 45.1306, 20.0681, 1.2),
        Place("Novi Karlovci", 45.0786, 20.1819, 0.7),
        Place("Krčedin", 45.1389, 20.1397, 0.6),
        Place("Maradik", 45.1111, 20.0019, 0.6),
        Place("Golubinci", 44.9900, 20.0700, 0.8),
        Place("Novi Slankamen", 45.1300, 20.2400, 0.6),
    ),
    "SM-SID": (
        Place("Šid", 45.1283, 19.2264, 5.0, town=True),
        Place("GP Batrovci", 45.0536, 19.1076, 3.0, crossing=True),
        Place("GP Šid", 45.1440, 19.1850, 1.5, crossing=True),
        Place("Batrovci", 45.0556, 19.1250, 1.5),
        Place("Adaševci", 45.0650, 19.2230, 1.5),
        Place("Morović", 45.0040, 19.2150, 1.0),
        Place("Višnjićevo", 44.9617, 19.2908, 0.8),
        Place("Gibarac", 45.1570, 19.1580, 1.2),
        Place("Berkasovo", 45.1206, 19.2486, 0.8),
        Place("Jamena", 44.8786, 19.0850, 0.7),
        Place("Kukujevci", 45.0740, 19.3470, 0.6),
        Place("Erdevik", 45.1200, 19.4100, 0.5),
    ),
}

TOWN_STREETS: dict[str, tuple[str, ...]] = {
    "Sremska Mitrovica": ("Kralja Petra I", "Svetog Dimitrija", "Fruškogorska", "Vuka Karadžića",
                          "Bulevar Konstantina Velikog", "Stari šor", "Pivarska", "Zmaj Jovina",
                          "Kuzminska", "Promenada", "Karađorđeva", "Arsenija Čarnojevića",
                          "Kralja Milutina", "Trg Svetog Stefana", "Mačvanska"),
    "Ruma": ("Glavna", "Orlovićeva", "Železnička", "Veljka Dugoševića", "Vladimira Nazora",
             "Partizanska", "Kralja Petra I", "Vojvode Putnika", "Branka Radičevića",
             "Trg Slobode", "Stevana Sremca"),
    "Inđija": ("Vojvode Stepe", "Cara Dušana", "Novosadska", "Železnička", "Kralja Petra I",
               "Vojvode Putnika", "Ustanička", "Trg oslobođenja", "Mihajla Pupina"),
    "Stara Pazova": ("Svetosavska", "Kralja Petra I", "Ćirila i Metodija", "Karađorđeva",
                     "Vladimira Hurbana", "Železnička", "Stevana Markovića"),
    "Šid": ("Cara Dušana", "Svetog Save", "Karađorđeva", "Kralja Petra I", "Vojvođanska",
            "Železnička", "Save Šumanovića", "Ilindenska", "Bulevar Oslobođenja"),
}
VILLAGE_STREETS: tuple[str, ...] = ("Glavna", "Školska", "Partizanska", "Vojvođanska",
                                    "Nikole Tesle", "Svetog Save", "Maršala Tita", "Sremska",
                                    "Njegoševa", "Crkvena", "Dunavska", "Savska")
ROADS: dict[str, tuple[str, ...]] = {
    "SM-SM": ("Autoput A3 (E-70), km 85", "Državni put IB-21, Laćarak – Sremska Mitrovica",
              "Državni put IIA-120, Sremska Mitrovica – Šabac", "Kuzminski put"),
    "SM-RU": ("Autoput A3 (E-70), petlja Ruma", "Državni put IB-21, Ruma – Irig",
              "Državni put IIA-126, Ruma – Pećinci", "Fruškogorski koridor, deonica Ruma"),
    "SM-IN": ("Autoput A1 (E-75), petlja Inđija", "Autoput A1 (E-75), km 26, smer Novi Sad",
              "Državni put IIA-100, Inđija – Stara Pazova", "Put Beška – Krčedin"),
    "SM-SID": ("Autoput A3 (E-70), naplatna stanica Batrovci", "Autoput A3 (E-70), odmorište Adaševci",
               "Državni put IB-19, Šid – Sremska Mitrovica", "Put Šid – Berkasovo"),
}

# --- incident types -----------------------------------------------------------

INCIDENT_TYPES: tuple[tuple[str, int, dict[str, str]], ...] = (
    ("traffic_accident", 2, {"en": "Traffic accident", "sr-Latn": "Saobraćajna nezgoda",
                             "sr-Cyrl": "Саобраћајна незгода", "sl": "Prometna nesreča"}),
    ("domestic_violence", 1, {"en": "Domestic violence", "sr-Latn": "Nasilje u porodici",
                              "sr-Cyrl": "Насиље у породици", "sl": "Nasilje v družini"}),
    ("assault", 1, {"en": "Assault", "sr-Latn": "Napad / tuča", "sr-Cyrl": "Напад / туча",
                    "sl": "Napad / pretep"}),
    ("burglary", 2, {"en": "Burglary", "sr-Latn": "Provalna krađa", "sr-Cyrl": "Провална крађа",
                     "sl": "Vlom"}),
    ("theft", 3, {"en": "Theft", "sr-Latn": "Krađa", "sr-Cyrl": "Крађа", "sl": "Tatvina"}),
    ("public_order", 2, {"en": "Public order disturbance", "sr-Latn": "Narušavanje javnog reda i mira",
                         "sr-Cyrl": "Нарушавање јавног реда и мира", "sl": "Kršitev javnega reda in miru"}),
    ("missing_person", 2, {"en": "Missing person", "sr-Latn": "Nestalo lice", "sr-Cyrl": "Нестало лице",
                           "sl": "Pogrešana oseba"}),
    ("illegal_border_crossing", 2, {"en": "Illegal border crossing", "sr-Latn": "Nedozvoljen prelazak granice",
                                    "sr-Cyrl": "Недозвољен прелазак границе",
                                    "sl": "Nedovoljen prehod meje"}),
    ("migrant_group", 2, {"en": "Migrant group sighted", "sr-Latn": "Grupa migranata",
                          "sr-Cyrl": "Група миграната", "sl": "Skupina migrantov"}),
    ("suspicious_person", 3, {"en": "Suspicious person or vehicle", "sr-Latn": "Sumnjivo lice ili vozilo",
                              "sr-Cyrl": "Сумњиво лице или возило", "sl": "Sumljiva oseba ali vozilo"}),
    ("noise", 4, {"en": "Noise complaint", "sr-Latn": "Buka", "sr-Cyrl": "Бука", "sl": "Hrup"}),
    ("animal_on_road", 3, {"en": "Animal on the road", "sr-Latn": "Životinja na kolovozu",
                           "sr-Cyrl": "Животиња на коловозу", "sl": "Žival na vozišču"}),
    ("drunk_driver", 2, {"en": "Suspected drunk driver", "sr-Latn": "Vozač pod dejstvom alkohola",
                         "sr-Cyrl": "Возач под дејством алкохола", "sl": "Vinjeni voznik"}),
    ("fire_assist", 1, {"en": "Fire (assist fire brigade)", "sr-Latn": "Požar (asistencija vatrogascima)",
                        "sr-Cyrl": "Пожар (асистенција ватрогасцима)", "sl": "Požar (pomoč gasilcem)"}),
)

# Relative frequency of each type per area kind.
TYPE_WEIGHTS: dict[str, dict[str, float]] = {
    "town": {"traffic_accident": 16, "domestic_violence": 11, "assault": 7, "burglary": 7, "theft": 11,
             "public_order": 14, "missing_person": 2, "suspicious_person": 8, "noise": 10,
             "animal_on_road": 2, "drunk_driver": 5, "fire_assist": 2},
    "village": {"traffic_accident": 12, "domestic_violence": 10, "assault": 4, "burglary": 9, "theft": 9,
                "public_order": 6, "missing_person": 3, "suspicious_person": 7, "noise": 4,
                "animal_on_road": 8, "drunk_driver": 5, "fire_assist": 3},
    "border": {"illegal_border_crossing": 22, "migrant_group": 20, "traffic_accident": 8,
               "suspicious_person": 10, "theft": 4, "public_order": 3, "domestic_violence": 3,
               "burglary": 4, "animal_on_road": 3, "drunk_driver": 3, "missing_person": 1},
}

# Minutes the unit spends on scene after taking action: (low, high).
HANDLING_MIN: dict[str, tuple[int, int]] = {
    "traffic_accident": (35, 120), "domestic_violence": (30, 100), "assault": (30, 90),
    "burglary": (40, 110), "theft": (20, 70), "public_order": (15, 60), "missing_person": (45, 120),
    "illegal_border_crossing": (40, 120), "migrant_group": (45, 120), "suspicious_person": (10, 40),
    "noise": (10, 25), "animal_on_road": (10, 35), "drunk_driver": (25, 70), "fire_assist": (30, 100),
}

DESCRIPTIONS: dict[str, tuple[str, ...]] = {
    "traffic_accident": (
        "Sudar dva putnička vozila, jedno lice lakše povređeno, Hitna pomoć obaveštena.",
        "Vozilo sletelo s kolovoza u kanal, vozač izašao sam, bez vidljivih povreda.",
        "Udes sa materijalnom štetom, učesnici se ne slažu oko krivice, traže uviđaj.",
        "Teretno vozilo i automobil, delimično blokirana kolovozna traka.",
        "Oboren biciklista na raskrsnici, pozivalac kaže da je svestan.",
        "Lančani sudar tri vozila, saobraćaj u zastoju.",
    ),
    "domestic_violence": (
        "Žena prijavljuje da je suprug fizički napada, čuju se deca u pozadini.",
        "Komšija prijavljuje vrisku i lomljavu iz susednog stana.",
        "Sin pod dejstvom alkohola preti roditeljima, ranije intervencije na adresi.",
        "Pozivateljka se krije u kupatilu, partner razbija stvari.",
    ),
    "assault": (
        "Tuča ispred kafića, više lica, jedno lice krvari.",
        "Napadnut mladić na autobuskoj stanici, napadači pobegli peške.",
        "Fizički obračun dva suseda oko međe, jedan ima motiku.",
        "Napad na radnika obezbeđenja u prodavnici.",
    ),
    "burglary": (
        "Vlasnik zatekao obijena vrata kuće, nedostaje nakit i novac.",
        "Provala u lokal tokom noći, razbijen izlog.",
        "Provaljena vikendica, odneti alati i bela tehnika.",
        "Prijava provale u pomoćni objekat, ukradena motorna testera.",
    ),
    "theft": (
        "Krađa novčanika u prodavnici, pozivalac opisuje osumnjičenog.",
        "Ukraden bicikl ispred zgrade, bio zaključan.",
        "Krađa goriva iz kamiona na parkingu.",
        "Radnik marketa zadržao lice zatečeno u krađi.",
        "Ukradene registarske tablice sa vozila.",
    ),
    "public_order": (
        "Grupa mladića galami i razbija flaše u parku.",
        "Svađa i vređanje u lokalu, gost odbija da napusti objekat.",
        "Lice pod dejstvom alkohola uznemirava prolaznike.",
        "Nered posle utakmice, navijači na ulici.",
    ),
    "missing_person": (
        "Stariji muškarac sa demencijom izašao iz kuće i nije se vratio.",
        "Maloletnica nije došla kući iz škole, telefon isključen.",
        "Porodica prijavljuje nestanak člana porodice od jutros.",
    ),
    "illegal_border_crossing": (
        "Termovizija uočila lica kako prelaze granicu van graničnog prelaza.",
        "Meštanin prijavljuje lica koja su prešla iz pravca Hrvatske preko njiva.",
        "Na graničnom prelazu pronađena lica skrivena u teretnom vozilu.",
        "Lica uočena kod graničnog kamena, kreću se ka selu.",
    ),
    "migrant_group": (
        "Grupa od oko 15 migranata uz prugu, kreću se ka Šidu.",
        "Migranti u napuštenom objektu na ivici sela, meštani uznemireni.",
        "Grupa migranata na odmorištu autoputa pokušava da uđe u kamione.",
        "Oko 20 lica u šumi kod sela, među njima deca.",
    ),
    "suspicious_person": (
        "Nepoznato vozilo kruži ulicom već sat vremena.",
        "Lice proverava kvake parkiranih automobila.",
        "Sumnjivo lice fotografiše kuće u ulici.",
        "Vozilo bez tablica parkirano kod škole.",
    ),
    "noise": (
        "Glasna muzika iz stana posle ponoći.",
        "Proslava u dvorištu, buka i pucnji petardi.",
        "Buka iz ugostiteljskog objekta van radnog vremena.",
    ),
    "animal_on_road": (
        "Krava na kolovozu, vozila jedva prolaze.",
        "Srna udarena na putu, leži na kolovozu.",
        "Čopor pasa lutalica na putu, napadaju bicikliste.",
        "Konji odlutali sa imanja na državni put.",
    ),
    "drunk_driver": (
        "Vozilo vijuga po putu, skoro udarilo u ogradu.",
        "Vozač izašao iz kafane očigledno pijan i seo za volan.",
        "Pozivalac prati vozilo koje se kreće u cik-cak.",
    ),
    "fire_assist": (
        "Požar na pomoćnom objektu, vatrogasci na putu, potrebno obezbeđenje.",
        "Gori strnjika pored puta, dim smanjuje vidljivost.",
        "Požar u stanu, stanari evakuisani, vatrogasci traže policiju.",
    ),
}

OUTCOMES: dict[str, tuple[str, ...]] = {
    "traffic_accident": ("report_filed", "report_filed", "fine_issued", "resolved"),
    "domestic_violence": ("arrest", "report_filed", "report_filed", "warning"),
    "assault": ("arrest", "report_filed", "report_filed", "no_offence"),
    "burglary": ("report_filed", "report_filed", "arrest"),
    "theft": ("report_filed", "arrest", "resolved", "no_offence"),
    "public_order": ("warning", "fine_issued", "arrest", "resolved"),
    "missing_person": ("person_found", "person_found", "referred"),
    "illegal_border_crossing": ("handed_over", "arrest", "no_offence", "handed_over"),
    "migrant_group": ("handed_over", "handed_over", "no_offence"),
    "suspicious_person": ("no_offence", "resolved", "warning", "false_alarm"),
    "noise": ("warning", "warning", "fine_issued", "resolved"),
    "animal_on_road": ("resolved", "resolved", "referred"),
    "drunk_driver": ("fine_issued", "arrest", "no_offence"),
    "fire_assist": ("resolved", "referred"),
}

DECLINE_REASONS: tuple[str, ...] = (
    "Kvar na vozilu", "Na drugoj intervenciji", "Predaleko, bliža je druga patrola",
    "Sprovodimo lice u stanicu",
)
CANCEL_OUTCOMES: tuple[str, ...] = ("cancelled_by_caller", "duplicate", "resolved_before_arrival")

DISPATCH_NOTES: tuple[str, ...] = (
    "Pozivalac ponovo zvao, situacija se pogoršava.",
    "Hitna pomoć obaveštena i upućena.",
    "Prethodne intervencije na istoj adresi.",
    "Pozivalac čeka ispred ulaza.",
    "Vatrogasno-spasilačka jedinica obaveštena.",
    "Drugi pozivalac potvrđuje prijavu.",
)
OFFICER_NOTES: tuple[str, ...] = (
    "Na licu mesta, situacija pod kontrolom.",
    "Identifikovana lica, uzimamo izjave.",
    "Potrebna još jedna patrola za obezbeđenje.",
    "Lice sprovedeno u stanicu.",
    "Saobraćaj preusmeren, čekamo šlep službu.",
    "Oštećeni upućen da podnese prijavu u stanici.",
    "Osumnjičeni se udaljio pre dolaska, potraga u toku.",
)
LATE_NOTES: tuple[str, ...] = (
    "Dopuna: registarske oznake vozila unete u izveštaj.",
    "Dopuna: oštećeni naknadno dostavio spisak stvari.",
    "Dopuna: lice identifikovano preko kamera.",
)

PLANNED_AREAS: dict[str, tuple[str, ...]] = {
    "SM-SM": ("Sremska Mitrovica – centar", "Laćarak – Martinci – Kuzmin", "Mačvanska Mitrovica – Noćaj",
              "Jarak – Hrtkovci"),
    "SM-RU": ("Ruma – grad", "Irig – Vrdnik", "Pećinci – Platičevo"),
    "SM-IN": ("Inđija – grad", "Stara Pazova – Nova Pazova", "Beška – Krčedin – Novi Karlovci"),
    "SM-SID": ("GP Batrovci – Adaševci", "GP Šid – Gibarac – Berkasovo", "Morović – Višnjićevo – Jamena"),
}

# --- people ---------------------------------------------------------------------

MALE_FIRST = ("Marko", "Nikola", "Stefan", "Miloš", "Aleksandar", "Nemanja", "Dragan", "Zoran",
              "Goran", "Milan", "Dejan", "Vladimir", "Srđan", "Bojan", "Ivan", "Petar", "Dušan",
              "Uroš", "Željko", "Saša", "Branislav", "Vuk", "Filip", "Lazar", "Đorđe", "Mladen",
              "Predrag", "Slobodan", "Miroslav", "Radovan")
FEMALE_FIRST = ("Jelena", "Milica", "Ana", "Marija", "Jovana", "Ivana", "Snežana", "Dragana",
                "Tamara", "Sanja", "Maja", "Bojana", "Katarina", "Nataša", "Gordana", "Ljiljana",
                "Tijana", "Vesna")
SURNAMES = ("Jovanović", "Petrović", "Nikolić", "Marković", "Đorđević", "Stojanović", "Ilić",
            "Stanković", "Pavlović", "Milošević", "Todorović", "Kovačević", "Popović", "Radovanović",
            "Živković", "Savić", "Lukić", "Obradović", "Mitrović", "Kostić", "Vasić", "Tomić",
            "Babić", "Bošnjak", "Kovač", "Pejić", "Grujić", "Nedeljković", "Šarac", "Vukmirović",
            "Čolić", "Đukić", "Milić", "Stojković", "Janković", "Ristić", "Zdravković", "Vujić",
            "Simić", "Kuzmanović", "Teofanović", "Maksimović", "Gajić", "Ćirić", "Sremac")

# (call sign, kind, station code)
UNITS: tuple[tuple[str, str, str], ...] = (
    ("SM-11", "car", "SM-SM"),
    ("SM-12", "car", "SM-SM"),
    ("SM-13", "foot", "SM-SM"),
    ("SM-14", "traffic", "SM-SM"),
    ("SM-15", "motorcycle", "SM-SM"),
    ("RU-21", "car", "SM-RU"),
    ("RU-22", "car", "SM-RU"),
    ("RU-23", "traffic", "SM-RU"),
    ("IN-31", "car", "SM-IN"),
    ("IN-32", "car", "SM-IN"),
    ("IN-33", "foot", "SM-IN"),
    ("GP-41", "border", "SM-SID"),
    ("GP-42", "border", "SM-SID"),
    ("GP-43", "border", "SM-SID"),
    ("GP-44", "border", "SM-SID"),
)

# Staffing. Every station has 10 officers in five fixed pairs (patrol partners).
# Four pairs crew the station's round-the-clock unit on an 8-day rotation
# (06, 06, 14, 14, 22, 22, off, off; the pairs two days apart), so each of the
# three daily shifts has exactly one crew. The fifth pair crews the station's
# other units by a weekly plan (ISO weekday -> (shift start, call sign)).
# 15 units x 3 shifts x 2 officers would need 90 officers a day; 40 officers
# give about 17 crews a day, which is what a station of this size fields.
OFFICERS_PER_STATION = 10
ROUND_THE_CLOCK: dict[str, str] = {"SM-SM": "SM-11", "SM-RU": "RU-21", "SM-IN": "IN-31", "SM-SID": "GP-41"}
ROTATION: tuple[str | None, ...] = ("06", "06", "14", "14", "22", "22", None, None)
DAY_CREW_PLAN: dict[str, dict[int, tuple[str, str]]] = {
    "SM-SM": {1: ("06", "SM-14"), 2: ("06", "SM-14"), 3: ("14", "SM-12"), 4: ("14", "SM-12"),
              5: ("14", "SM-13"), 6: ("14", "SM-15")},
    "SM-RU": {1: ("06", "RU-23"), 2: ("06", "RU-23"), 3: ("14", "RU-22"), 4: ("14", "RU-22"),
              5: ("14", "RU-22")},
    "SM-IN": {1: ("14", "IN-32"), 2: ("14", "IN-32"), 4: ("06", "IN-33"), 5: ("14", "IN-32"),
              6: ("14", "IN-32")},
    "SM-SID": {1: ("22", "GP-42"), 2: ("22", "GP-42"), 4: ("06", "GP-43"), 5: ("14", "GP-44"),
               6: ("14", "GP-44"), 7: ("22", "GP-42")},
}

# Share of the directorate's incidents per station area.
AREA_SHARE: dict[str, float] = {"SM-SM": 0.34, "SM-RU": 0.24, "SM-IN": 0.26, "SM-SID": 0.16}

# Relative call volume per local hour (0..23): quiet before dawn, peak in the evening.
HOUR_WEIGHTS: tuple[float, ...] = (
    1.2, 0.9, 0.7, 0.5, 0.4, 0.5, 0.8, 1.1, 1.3, 1.3, 1.3, 1.4,
    1.5, 1.5, 1.6, 1.7, 1.9, 2.1, 2.3, 2.4, 2.4, 2.2, 1.9, 1.5,
)
