#!/usr/bin/env python3
"""Mesure de pair (issue #7) : DuckDB lit TOUS les dépôts CSV d'un scénario et les écrit en Parquet.

Usage :
    python3 benches/duckdb_depots.py DEPOTS.json SORTIE/ [--resultat FICHIER.json]

DEPOTS.json est une liste d'objets {"chemin": ..., "separateur": ",", "encodage": "UTF-8"}
(écrite par le banc `cargo bench --bench scenario` à partir des manifestes du générateur).
Chaque dépôt est converti l'un après l'autre, comme le fait `duckdb_csv_to_parquet.py` pour un
seul fichier (toutes colonnes en VARCHAR, en-tête, guillemets, SNAPPY, autant de fils que de
cœurs) ; les fichiers Windows-1252 sont transcodés en UTF-8 par Python quand l'extension
`encodings` de DuckDB n'est pas installable (durée comprise, et donnée à part).

Imprime une ligne JSON : {"files", "rows", "seconds", "transcode_seconds", "peak_rss_mib"}.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import duckdb  # noqa: E402

from duckdb_commun import cores, pic_memoire_mib, sql_string  # noqa: E402
from duckdb_csv_to_parquet import encodings_extension, transcode_to_utf8  # noqa: E402


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("depots")
    p.add_argument("sortie")
    p.add_argument("--resultat")
    args = p.parse_args()
    with open(args.depots, encoding="utf-8") as f:
        depots = json.load(f)
    os.makedirs(args.sortie, exist_ok=True)
    con = duckdb.connect()
    con.execute(f"SET threads = {cores()}")
    native_1252 = encodings_extension(con) is None  # hors chronomètre
    rows = 0
    transcode = 0.0
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="copil-bench-") as tmpdir:
        for i, d in enumerate(depots):
            source = d["chemin"]
            options = [
                "all_varchar = true",
                "header = true",
                f"delim = {sql_string(d['separateur'])}",
                "quote = '\"'",
                "escape = '\"'",
            ]
            if d["encodage"].lower() != "utf-8" and not native_1252:
                t = time.perf_counter()
                source = transcode_to_utf8(source, "cp1252", tmpdir)
                transcode += time.perf_counter() - t
                options.append("encoding = 'utf-8'")
            elif d["encodage"].lower() != "utf-8":
                options.append("encoding = 'windows-1252'")
            out = os.path.join(args.sortie, f"{i:04}.parquet")
            query = (
                f"COPY (SELECT * FROM read_csv({sql_string(source)}, {', '.join(options)})) "
                f"TO {sql_string(out)} (FORMAT parquet, COMPRESSION snappy)"
            )
            rows += con.execute(query).fetchone()[0]
    seconds = time.perf_counter() - start
    result = {
        "files": len(depots),
        "rows": rows,
        "seconds": round(seconds, 3),
        "transcode_seconds": round(transcode, 3),
        "peak_rss_mib": round(pic_memoire_mib(), 1),
        "duckdb": duckdb.__version__,
    }
    text = json.dumps(result, ensure_ascii=False)
    print(text)
    if args.resultat:
        with open(args.resultat, "w", encoding="utf-8") as f:
            f.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
