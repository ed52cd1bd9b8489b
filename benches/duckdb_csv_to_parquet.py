#!/usr/bin/env python3
"""Mesure de pair (issue #3) : DuckDB lit un dépôt CSV et l'écrit en Parquet (SNAPPY).

Usage :
    python3 benches/duckdb_csv_to_parquet.py DEPOT.csv SORTIE.parquet \
        [--sep ','] [--encoding utf-8|windows-1252] [--dateformat '%Y-%m-%d']

Toutes les colonnes sont lues en VARCHAR (all_varchar), avec en-tête, le séparateur donné,
les guillemets '"' (doublés pour s'échapper) et les retours à la ligne permis entre guillemets
(DuckDB les accepte d'office dans un champ entre guillemets). Les fichiers .gz sont
décompressés par DuckDB. `threads` vaut le nombre de cœurs disponibles.

Imprime une ligne JSON sur la sortie standard :
    {"rows": N, "seconds": S, "peak_rss_mib": M, ...}
où `seconds` couvre la lecture et l'écriture (et le transcodage éventuel, voir plus bas), et
`peak_rss_mib` vient de VmHWM dans /proc/self/status (propre à ce programme).

Encodage : le lecteur CSV de DuckDB ne connaît d'office que utf-8, utf-16 et latin-1.
Windows-1252 demande l'extension `encodings`, que DuckDB télécharge depuis son propre
serveur (INSTALL encodings). Si elle n'est pas installée et ne peut pas l'être (machine sans
accès à ce serveur), le script le dit (champ "note" et message sur la sortie d'erreur) et
transcode le fichier en UTF-8 dans un fichier temporaire avec Python avant de le donner à
DuckDB ; la durée de ce transcodage est comprise dans "seconds" et donnée à part dans
"transcode_seconds". latin-1 n'est pas un repli possible : DuckDB refuse les octets
0x80-0x9F (Œ, œ, €, ’…) que Windows-1252 utilise.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time

import duckdb

from duckdb_commun import cores, pic_memoire_mib, sql_string

ENCODINGS = {"utf-8": "utf-8", "windows-1252": "windows-1252"}


def encodings_extension(con) -> str | None:
    """Loads DuckDB's `encodings` extension; returns why not, or None when it is loaded."""
    try:
        con.execute("LOAD encodings")
        return None
    except duckdb.Error:
        pass
    try:
        con.execute("INSTALL encodings")
        con.execute("LOAD encodings")
        return None
    except duckdb.Error as e:
        return str(e).splitlines()[0]


def transcode_to_utf8(path: str, encoding: str, tmpdir: str) -> str:
    """Streams `path` (optionally .gz) to a UTF-8 file; returns its path."""
    import gzip
    import shutil

    opener = gzip.open if path.endswith(".gz") else open
    out = os.path.join(tmpdir, "depot-utf8.csv")
    with opener(path, "rt", encoding=encoding, newline="") as src, open(
        out, "w", encoding="utf-8", newline=""
    ) as dst:
        shutil.copyfileobj(src, dst, 1 << 20)
    return out


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("csv", help="dépôt CSV (éventuellement .gz)")
    p.add_argument("parquet", help="fichier Parquet à écrire")
    p.add_argument(
        "--sep", default=",", help="séparateur (défaut : ',' ; '\\t' ou 'tab' pour la tabulation)"
    )
    p.add_argument("--encoding", default="utf-8", choices=sorted(ENCODINGS))
    p.add_argument(
        "--dateformat",
        default=None,
        help="format des dates (strftime), passé à read_csv ; sans effet sur le résultat "
        "puisque toutes les colonnes restent en VARCHAR",
    )
    args = p.parse_args()

    if args.sep in ("\\t", "tab"):
        args.sep = "\t"

    threads = cores()
    con = duckdb.connect()
    con.execute(f"SET threads = {threads}")

    note = None
    source = args.csv
    encoding = ENCODINGS[args.encoding]
    transcode = False
    if encoding != "utf-8":
        why = encodings_extension(con)  # hors chronomètre : peut tenter un téléchargement
        if why is not None:
            transcode = True
            note = (
                f"DuckDB {duckdb.__version__} ne lit pas {args.encoding} sans l'extension "
                f"'encodings', indisponible ici ({why}) ; fichier transcodé en UTF-8 par "
                "Python avant lecture (durée comprise dans seconds)"
            )
            print("note : " + note, file=sys.stderr)

    options = [
        "all_varchar = true",
        "header = true",
        f"delim = {sql_string(args.sep)}",
        "quote = '\"'",
        "escape = '\"'",
    ]
    if args.dateformat:
        options.append(f"dateformat = {sql_string(args.dateformat)}")

    with tempfile.TemporaryDirectory(prefix="copil-bench-") as tmpdir:
        start = time.perf_counter()
        transcode_seconds = None
        if transcode:
            source = transcode_to_utf8(args.csv, "cp1252", tmpdir)
            transcode_seconds = time.perf_counter() - start
            options.append("encoding = 'utf-8'")
        else:
            options.append(f"encoding = {sql_string(encoding)}")
        query = (
            f"COPY (SELECT * FROM read_csv({sql_string(source)}, {', '.join(options)})) "
            f"TO {sql_string(args.parquet)} (FORMAT parquet, COMPRESSION snappy)"
        )
        rows = con.execute(query).fetchone()[0]
        seconds = time.perf_counter() - start

    result = {
        "rows": rows,
        "seconds": round(seconds, 3),
        "peak_rss_mib": round(pic_memoire_mib(), 1),
        "threads": threads,
        "encoding": args.encoding,
        "duckdb": duckdb.__version__,
    }
    if transcode_seconds is not None:
        result["transcode_seconds"] = round(transcode_seconds, 3)
    if note:
        result["note"] = note
    print(json.dumps(result, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
