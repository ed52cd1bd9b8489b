#!/usr/bin/env python3
"""Mesure de pair (issue #4) : DuckDB calcule les 16 indicateurs avec les MÊMES fichiers SQL.

Usage :
    python3 benches/duckdb_indicateurs.py ENTREPOT [--sortie FICHIER.json]
        [--materialisation arrow|table] [--verifier]

ENTREPOT est le dossier de l'entrepôt (la clé `warehouse`, par exemple
copil-data/warehouse), local.

Déroulé, comme `copil calculer` (queries/src/compute.rs) :

1. Hors chronomètre : la liste des fichiers Parquet en vigueur de `evenements` et `depots`
   est lue dans le journal Delta par le paquet `deltalake` (`DeltaTable(...).file_uris()`).
   Le script n'appelle jamais `to_pyarrow_table()`, qui provoque l'arrêt à la sortie décrit
   dans docs/entrepot.md ; aucun système de fichiers pyarrow n'est donc nécessaire.
2. Chronométré : les vues DuckDB `evenements` et `depots` sur
   `read_parquet([...], hive_partitioning = true, hive_types_autocast = false)` (la colonne
   `territoire` de `evenements` vient des dossiers `territoire=<id>/`), puis les instructions
   de queries/sql/vues.sql (séparées par une ligne ne contenant que ';', lignes de
   commentaire '--' retirées, comme le fait create_views en Rust).
3. Chronométré : chaque fichier queries/catalogue/<id>.sql, dans l'ordre de la liste FILES
   de queries/src/catalogue.rs (lue dans ce fichier), texte entier passé tel quel (l'en-tête
   '-- clé: valeur' est un commentaire SQL, comme côté DataFusion). Chaque résultat est
   matérialisé : `--materialisation arrow` (défaut) le lit en entier en table Arrow
   (`con.sql(...).to_arrow_table()`, le pendant du `collect()` de DataFusion), puis le
   libère ; `--materialisation table` fait un `CREATE TEMP TABLE ... AS`.

`threads` vaut le nombre de cœurs disponibles ; `memory_limit` garde la valeur par défaut de
DuckDB. `total_seconds` couvre les étapes 2 et 3 (démarrage de Python, import de DuckDB et
lecture du journal Delta exclus). `peak_rss_mib` est le maximum de mémoire résidente du
processus (VmHWM de /proc/self/status, propre à ce programme), interpréteur
compris, relevé avant l'éventuelle vérification.

Réécritures du SQL : AUCUNE. DuckDB 2.0.1 accepte vues.sql et les 16 fichiers du catalogue
tels quels ; la liste REWRITES ci-dessous (motif regex, remplacement, appliqués à l'identique
à chaque fichier) est vide et le champ "rewrites" de la sortie le montre. Différences de types
observées, sans effet sur les valeurs : `range(DATE, DATE, INTERVAL)` rend des TIMESTAMP (à
minuit) dans DuckDB, si bien que `mois` est un TIMESTAMP pour les indicateurs fondés sur la
vue `grille` (la grille territoires × mois des stocks, issue 16 : beneficiaires_dd,
taux_orientation_stock, part_france_travail, couverture_cer) ou sur `range` directement
(prevalence_freins) ; et
`sum()` d'entiers rend un HUGEINT (128 bits). Les comparaisons DATE/TIMESTAMP se font par
conversion implicite, les dates restant à minuit.

Sortie : une ligne JSON sur la sortie standard (et dans --sortie si donné) :
    {"total_seconds": S, "peak_rss_mib": M,
     "indicators": {"<id>": {"seconds": s, "rows": n}, ...}, "rewrites": [...]}
Le détail (vues, versions, fils) va sur la sortie d'erreur.

--verifier (hors chronomètre, après la mesure) ajoute un champ "verification" :
  - `entrants` : le numérateur par (territoire, mois) comparé à un décompte direct écrit
    indépendamment des vues (premier droit_ouvert par personne ; mois mûr si
    last_day(mois) <= max(date_extraction) des dépôts intégrés du territoire) ;
  - si l'entrepôt contient la table `indicateurs` publiée par Copil : pour chaque indicateur
    (sauf delai_orientation, publié agrégé), les cases de niveau territoire non secrètes
    (numerateur, denominateur, personnes) comparées aux lignes calculées par DuckDB, et le
    nombre de lignes de niveau territoire publiées à celui des lignes calculées.

Limites : entrepôt local seulement (les URI file:// sont converties en chemins ; s3:// et
autres demanderaient l'extension httpfs de DuckDB). Les identifiants de territoire sont lus
tels qu'écrits dans les noms de dossiers (ceux du registre n'ont pas de caractère échappé).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from pathlib import Path
from urllib.parse import unquote, urlparse

import duckdb
from deltalake import DeltaTable

from duckdb_commun import cores, pic_memoire_mib, sql_string

RACINE = Path(__file__).resolve().parent.parent
VUES = RACINE / "queries" / "sql" / "vues.sql"
CATALOGUE = RACINE / "queries" / "catalogue"
CATALOGUE_RS = RACINE / "queries" / "src" / "catalogue.rs"

# Réécritures de portabilité : (raison, motif regex, remplacement), appliquées dans cet ordre,
# à l'identique, à vues.sql et à chaque fichier du catalogue. Aucune n'est nécessaire avec
# DuckDB 2.0.1.
REWRITES: list[tuple[str, str, str]] = []


def ordre_catalogue() -> list[str]:
    """Les identifiants, dans l'ordre de `const FILES` de queries/src/catalogue.rs."""
    source = CATALOGUE_RS.read_text(encoding="utf-8")
    debut = source.index("const FILES")
    fin = source.index("];", debut)
    ids = re.findall(r'include_str!\("\.\./catalogue/([A-Za-z0-9_]+)\.sql"\)', source[debut:fin])
    if not ids:
        raise SystemExit(f"aucun fichier trouvé dans FILES de {CATALOGUE_RS}")
    return ids


def instructions_vues(texte: str) -> list[str]:
    """Les instructions de vues.sql : séparées par une ligne ';', commentaires '--' retirés."""
    instructions, courante = [], []
    for ligne in texte.splitlines():
        if ligne.strip() == ";":
            instructions.append("\n".join(courante))
            courante = []
        elif not ligne.lstrip().startswith("--"):
            courante.append(ligne)
    instructions.append("\n".join(courante))
    return [i for i in instructions if i.strip()]


def reecrire(sql: str, appliquees: dict[str, int]) -> str:
    for raison, motif, remplacement in REWRITES:
        sql, n = re.subn(motif, remplacement, sql)
        if n:
            appliquees[raison] = appliquees.get(raison, 0) + n
    return sql


def fichiers(entrepot: str, table: str) -> tuple[int, list[str]]:
    """Version courante et fichiers Parquet en vigueur d'une table Delta (hors chronomètre)."""
    chemin = os.path.join(entrepot, table)
    try:
        dt = DeltaTable(chemin)
    except Exception as e:  # TableNotFoundError et autres erreurs du paquet deltalake
        raise SystemExit(f"table Delta illisible : {chemin} ({str(e).splitlines()[0]})") from None
    chemins = []
    for uri in dt.file_uris():
        if uri.startswith("file:"):
            uri = unquote(urlparse(uri).path)
        chemins.append(uri)
    if not chemins:
        raise SystemExit(f"la table {table} n'a aucun fichier de données")
    return dt.version(), chemins


def read_parquet(chemins: list[str]) -> str:
    liste = ", ".join(sql_string(c) for c in chemins)
    return f"read_parquet([{liste}], hive_partitioning = true, hive_types_autocast = false)"


def verifier_entrants(con, lecture: dict[str, str], sql_entrants: str) -> dict:
    """Numérateur de `entrants` par (territoire, mois) contre un décompte direct."""
    con.execute(f"CREATE OR REPLACE TEMP TABLE verif_duckdb AS {sql_entrants}")
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE verif_direct AS
        WITH premiers AS (
            SELECT territoire, personne, min(date) AS premier
            FROM {lecture['evenements']}
            WHERE evenement = 'droit_ouvert'
            GROUP BY territoire, personne
        ),
        extraction AS (
            SELECT territoire, max(date_extraction) AS jusqua
            FROM {lecture['depots']}
            WHERE statut = 'integre'
            GROUP BY territoire
        )
        SELECT p.territoire,
               make_date(year(p.premier), month(p.premier), 1) AS mois,
               count(*) AS n
        FROM premiers p
        JOIN extraction x ON x.territoire = p.territoire
        WHERE last_day(p.premier) <= x.jusqua
        GROUP BY ALL
        """
    )
    cases, ecarts = con.execute(
        """
        SELECT count(*),
               count(*) FILTER (WHERE d.numerateur IS DISTINCT FROM v.n)
        FROM verif_duckdb d
        FULL JOIN verif_direct v ON v.territoire = d.territoire AND v.mois = d.mois
        """
    ).fetchall()[0]
    exemples = con.execute(
        """
        SELECT coalesce(d.territoire, v.territoire), CAST(coalesce(d.mois, v.mois) AS VARCHAR),
               d.numerateur, v.n
        FROM verif_duckdb d
        FULL JOIN verif_direct v ON v.territoire = d.territoire AND v.mois = d.mois
        WHERE d.numerateur IS DISTINCT FROM v.n
        ORDER BY 1, 2 LIMIT 5
        """
    ).fetchall()
    personnes = con.execute("SELECT sum(n) FROM verif_direct").fetchall()[0][0]
    return {
        "cases": cases,
        "ecarts": ecarts,
        "personnes": int(personnes or 0),
        "accord": ecarts == 0 and cases > 0,
        "exemples_ecarts": [list(map(lambda x: None if x is None else str(x), e)) for e in exemples],
    }


def verifier_publies(con, entrepot: str, ids: list[str], textes: dict[str, str]) -> dict | None:
    """Cases territoriales non secrètes de la table `indicateurs` contre DuckDB."""
    if not os.path.isdir(os.path.join(entrepot, "indicateurs", "_delta_log")):
        return None
    _, chemins = fichiers(entrepot, "indicateurs")
    con.execute(f"CREATE OR REPLACE TEMP VIEW publies AS SELECT * FROM {read_parquet(chemins)}")
    version = con.execute("SELECT max(version_evenements) FROM publies").fetchall()[0][0]
    par_indicateur = {}
    for ident in ids:
        if ident == "delai_orientation":
            continue
        con.execute(f"CREATE OR REPLACE TEMP TABLE verif_calcule AS {textes[ident]}")
        cases, ecarts = con.execute(
            f"""
            SELECT count(*),
                   count(*) FILTER (WHERE c.numerateur IS DISTINCT FROM p.numerateur
                                       OR c.denominateur IS DISTINCT FROM p.denominateur
                                       OR c.personnes IS DISTINCT FROM p.personnes)
            FROM publies p
            LEFT JOIN verif_calcule c
                   ON c.territoire = p.code AND CAST(c.mois AS DATE) = p.mois
                  AND c.ventilation = p.ventilation AND coalesce(c.modalite, '') = p.modalite
            WHERE p.indicateur = {sql_string(ident)} AND p.niveau = 'territoire' AND NOT p.secret
            """
        ).fetchall()[0]
        lignes_publiees = con.execute(
            "SELECT count(*) FROM publies WHERE indicateur = ? AND niveau = 'territoire'", [ident]
        ).fetchall()[0][0]
        lignes_calculees = con.execute("SELECT count(*) FROM verif_calcule").fetchall()[0][0]
        par_indicateur[ident] = {
            "cases": cases,
            "ecarts": ecarts,
            "lignes_publiees": lignes_publiees,
            "lignes_duckdb": lignes_calculees,
        }
    return {
        "version_evenements_publiee": version,
        "accord": all(
            v["ecarts"] == 0 and v["lignes_publiees"] == v["lignes_duckdb"]
            for v in par_indicateur.values()
        ),
        "indicateurs": par_indicateur,
    }


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("entrepot", help="dossier de l'entrepôt (ex. copil-data/warehouse)")
    p.add_argument("--sortie", help="écrit aussi la ligne JSON dans ce fichier")
    p.add_argument(
        "--materialisation",
        choices=["arrow", "table"],
        default="arrow",
        help="arrow (défaut) : résultat lu en entier en table Arrow ; table : CREATE TEMP TABLE AS",
    )
    p.add_argument(
        "--vues",
        choices=["vues", "tables"],
        default="vues",
        help="vues (défaut) : vues.sql tel quel, chaque requête recalcule les vues ; tables : "
        "la même stratégie que Copil, evenements et chaque vue calculés une fois en tables "
        "temporaires (CREATE TEMP TABLE … AS, même SELECT)",
    )
    p.add_argument(
        "--verifier",
        action="store_true",
        help="après la mesure, vérifie entrants (décompte direct) et les cases publiées",
    )
    args = p.parse_args()
    entrepot = args.entrepot

    # Hors chronomètre : les fichiers, le SQL, les réécritures.
    ids = ordre_catalogue()
    versions, lecture = {}, {}
    for table in ("evenements", "depots"):
        versions[table], chemins = fichiers(entrepot, table)
        lecture[table] = read_parquet(chemins)
    appliquees: dict[str, int] = {}
    vues = [reecrire(i, appliquees) for i in instructions_vues(VUES.read_text(encoding="utf-8"))]
    textes = {
        i: reecrire((CATALOGUE / f"{i}.sql").read_text(encoding="utf-8"), appliquees) for i in ids
    }
    rewrites = [
        {"raison": r, "motif": m, "remplacement": s, "occurrences": appliquees[r]}
        for r, m, s in REWRITES
        if r in appliquees
    ]

    threads = cores()
    con = duckdb.connect()
    con.execute(f"SET threads = {threads}")
    print(
        f"DuckDB {duckdb.__version__}, {threads} fil(s), memory_limit "
        f"{con.execute('SELECT current_setting(' + sql_string('memory_limit') + ')').fetchall()[0][0]} ; "
        f"versions evenements {versions['evenements']}, depots {versions['depots']} ; "
        f"matérialisation {args.materialisation}, vues en {args.vues}",
        file=sys.stderr,
    )
    print(
        "réécritures du SQL : "
        + ("aucune" if not rewrites else json.dumps(rewrites, ensure_ascii=False)),
        file=sys.stderr,
    )

    debut = time.perf_counter()
    for table in ("evenements", "depots"):
        genre = "TEMP TABLE" if args.vues == "tables" and table == "evenements" else "VIEW"
        con.execute(f"CREATE {genre} {table} AS SELECT * FROM {lecture[table]}")
    tables_s = time.perf_counter() - debut
    for instruction in vues:
        if args.vues == "tables":
            instruction = re.sub(
                r"CREATE OR REPLACE VIEW", "CREATE OR REPLACE TEMP TABLE", instruction, count=1
            )
        con.execute(instruction)
    vues_s = time.perf_counter() - debut - tables_s
    print(f"vues evenements/depots : {tables_s:.3f} s ; vues.sql : {vues_s:.3f} s", file=sys.stderr)

    indicateurs = {}
    for ident in ids:
        t0 = time.perf_counter()
        if args.materialisation == "arrow":
            resultat = con.sql(textes[ident]).to_arrow_table()
            secondes = time.perf_counter() - t0
            lignes = resultat.num_rows
            del resultat
        else:
            con.execute(f'CREATE OR REPLACE TEMP TABLE "resultat_{ident}" AS\n{textes[ident]}\n')
            secondes = time.perf_counter() - t0
            lignes = con.execute(f'SELECT count(*) FROM "resultat_{ident}"').fetchall()[0][0]
        indicateurs[ident] = {"seconds": round(secondes, 4), "rows": lignes}
        print(f"{ident:<24} {secondes:8.3f} s {lignes:>9} lignes", file=sys.stderr)
    total = time.perf_counter() - debut
    pic = pic_memoire_mib()

    resultat = {
        "total_seconds": round(total, 3),
        "peak_rss_mib": round(pic, 1),
        "indicators": indicateurs,
        "rewrites": rewrites,
        "vues": args.vues,
    }
    if args.verifier:
        verification = {"entrants": verifier_entrants(con, lecture, textes["entrants"])}
        publies = verifier_publies(con, entrepot, ids, textes)
        if publies is not None:
            verification["indicateurs_publies"] = publies
        resultat["verification"] = verification
        print(
            "vérification entrants : "
            + ("accord" if verification["entrants"]["accord"] else "DÉSACCORD")
            + f" ({verification['entrants']['cases']} cases, {verification['entrants']['ecarts']} écarts)",
            file=sys.stderr,
        )
        if publies is not None:
            print(
                "vérification indicateurs publiés : "
                + ("accord" if publies["accord"] else "DÉSACCORD")
                + f" ({sum(v['cases'] for v in publies['indicateurs'].values())} cases non secrètes)",
                file=sys.stderr,
            )

    ligne = json.dumps(resultat, ensure_ascii=False)
    print(ligne)
    if args.sortie:
        Path(args.sortie).write_text(ligne + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
