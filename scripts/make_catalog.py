"""Write the model catalog ``models/*.yaml`` from ../shared/data/llm_configs/llm_architectures.csv.

Run from the repository root: ``python scripts/make_catalog.py [--data ../shared/data]``.
``params`` is the nominal size the model is known by (e.g. 1.3e9 for GPT-3 XL), which is the number
the scheduling literature uses; the CSV's computed estimate is kept in ``source`` for reference.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import pandas as pd
import yaml

SUFFIX = {"M": 1e6, "B": 1e9}


def catalog_name(model: str, family: str, nominal: str) -> str:
    """A file-friendly name: ``gpt3-1.3b``, ``llama2-70b``, ``llama3.1-405b``, ``opt-30b``."""
    prefix = {
        "GPT-3": "gpt3",
        "OPT": "opt",
        "LLaMA-1": "llama",
        "Llama-2": "llama2",
        "Llama-3": "llama3",
        "Llama-3.1": "llama3.1",
        "Megatron-Turing": "mt-nlg",
    }[family]
    return f"{prefix}-{nominal.lower()}"


def nominal_params(nominal: str) -> float:
    match = re.fullmatch(r"([0-9.]+)([MB])", nominal)
    if match is None:
        raise ValueError(f"cannot read nominal size {nominal!r}")
    return float(match.group(1)) * SUFFIX[match.group(2)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--out", type=Path, default=Path("models"))
    args = parser.parse_args()
    table = pd.read_csv(args.data / "llm_configs" / "llm_architectures.csv")
    args.out.mkdir(parents=True, exist_ok=True)
    for row in table.itertuples(index=False):
        name = catalog_name(str(row.model), str(row.family), str(row.params_nominal))
        profile = {
            "name": name,
            "params": nominal_params(str(row.params_nominal)),
            "layers": int(row.n_layers),
            "hidden": int(row.d_model),
            "heads": int(row.n_heads),
            "vocab": int(row.vocab_size),
            "seq_len": int(row.max_seq_len),
            "source": (
                f"{row.model}: shared/data/llm_configs/llm_architectures.csv "
                f"(params = nominal {row.params_nominal}; computed {row.params_computed_B}B). "
                f"Origin: {row.source}"
            ),
        }
        text = yaml.safe_dump(profile, sort_keys=False, width=100)
        (args.out / f"{name}.yaml").write_text(text)


if __name__ == "__main__":
    main()
