"""Documents of 100-250 words: which estimator beyond ``auto``'s 100 segments, for RESULTS
section 17.

    OPENBLAS_NUM_THREADS=1 python benchmarks/bench_long_documents.py references   # slow once
    OPENBLAS_NUM_THREADS=1 python benchmarks/bench_long_documents.py compare [--methods ...]
    OPENBLAS_NUM_THREADS=1 python benchmarks/bench_long_documents.py halves     # 68-97 segments
    OPENBLAS_NUM_THREADS=1 python benchmarks/bench_long_documents.py halves --models minilm \
        --methods gpshap,lasso,kernelshap --per-segment 13,14,16,22
    python benchmarks/bench_long_documents.py checks --models vader   # pooling's dummy checks
    OPENBLAS_NUM_THREADS=1 python benchmarks/bench_long_documents.py middle     # 16-61 segments
    OPENBLAS_NUM_THREADS=1 python benchmarks/bench_long_documents.py coverage --models minilm

Section 16 measured one real text beyond 100 segments (section 2's paragraphs as one text of
150 words); this adds documents of other kinds and lengths.  Exact Shapley values are out of
reach, so each document's reference is the mean of two KernelSHAP runs (``REFERENCE_CALLS``)
(their distance is printed: it bounds how far a method can be told apart from the truth).
Every answer is kept in ``benchmarks/out/documents-<model>.sqlite`` (MiniLM's references take
about 5 min per document the first time; VADER's seconds).  ``compare`` prints the mean
relative L2 over 3 seeds of each method at 1.2-12 calls per segment (`auto`: in brackets
what it ran with seed 0).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

import blackbox_explain as bbx

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))
sys.path.insert(0, str(HERE))

from bench_lasso import recorded_scorer  # noqa: E402
from bench_select import mean_paragraph_error, rel_l2  # noqa: E402
from references import reference_run  # noqa: E402

#: calls of each of the two KernelSHAP runs behind a reference (VADER is cheap)
REFERENCE_CALLS = {"vader": 65536, "minilm": 16384}

DOCUMENTS = {
    "support email": (
        "Hello, I am writing about order 4471, which arrived on Tuesday. The package itself was "
        "fine and the delivery driver was friendly, but the blender inside does not work. When I "
        "plug it in, the light turns on for a second and then nothing happens. I tried another "
        "socket and checked the fuse, and the problem is the same. I have used this brand for "
        "years and never had an issue before, so I was surprised. The manual says the warranty "
        "covers two years, and I still have the receipt. Could you please send a replacement or "
        "tell me where to return it? I would prefer a replacement, since I need it for my "
        "daughter's birthday next week. Thank you for your help, and I hope this can be solved "
        "quickly."
    ),
    "film review": (
        "The first hour of this film is a quiet delight. The director lets scenes breathe, the "
        "two leads share an easy and believable warmth, and the small town is photographed with "
        "real affection. Then the plot arrives, and everything that worked starts to fall apart. "
        "A kidnapping subplot appears from nowhere, the villain is a cartoon, and the dialogue "
        "turns into speeches. The music, gentle and lovely at the start, becomes loud and "
        "insistent, as if it were trying to convince us that something matters. I kept waiting "
        "for the film to return to the characters I had come to like. It never quite does, "
        "although the final scene on the beach is beautiful. Worth seeing for its opening, but "
        "prepare to be disappointed."
    ),
    "news report": (
        "The city council voted on Monday to close the old library on Elm Street and move its "
        "collection to the new community centre by the river. Supporters of the plan say the "
        "centre is larger, easier to reach by bus and open longer in the evenings, and that the "
        "old building needs repairs the city cannot afford. Opponents argue that the library has "
        "served the neighbourhood for ninety years and that many older residents cannot travel "
        "across town. About two hundred people attended the meeting, and several speakers were "
        "angry. The mayor promised a free shuttle service and said that the historic reading "
        "room would be kept as a museum. The move is expected to take place next spring, "
        "although a group of residents has said it will challenge the decision in court. Local "
        "shop owners on Elm Street fear that fewer visitors will mean less business, while "
        "parents welcomed the new children's section and the larger study rooms. The council "
        "will publish a detailed schedule next month."
    ),
}

METHODS = {
    "auto": ("auto", {}),
    "lasso": ("lasso", {}),
    "lasso quadrature 2": ("lasso", {"quadrature": 2}),
    "lasso quadrature 3": ("lasso", {"quadrature": 3}),
    "permutation": ("permutation", {}),
    "gpshap": ("gpshap", {}),
    "kernelshap": ("kernelshap", {}),
    "gpshap model": ("gpshap", {"inert": "model"}),
    "gpshap balanced": ("gpshap", {"design": "balanced"}),
    "gpshap no additive": ("gpshap", {"additive": False}),
}
PER_SEGMENT = (1.2, 1.5, 2.0, 2.5, 3.0, 4.0, 6.0, 8.0, 12.0)


def reference_runs(recorded, text: str, calls: int) -> list[bbx.Explanation]:
    """The two KernelSHAP runs of ``calls`` calls behind a reference."""
    return [reference_run(recorded, text, calls, seed=s) for s in (999, 998)]


def reference(recorded, text: str, output: int, calls: int) -> tuple[np.ndarray, float]:
    """The mean of two KernelSHAP runs of ``calls`` calls, and their relative distance."""
    runs = [run.values[:, output] for run in reference_runs(recorded, text, calls)]
    return (runs[0] + runs[1]) / 2, rel_l2(runs[0], runs[1])


def coverage(
    models: list[str], methods: tuple[str, ...], per_segment: tuple[float, ...], seeds: int = 2
) -> None:
    """The share of the references' values within +-1.96 times a method's standard error and
    the reference's (the two runs' combined) together, ``seeds`` seeds per document; values
    without a standard error are left out and counted (RESULTS sections 30 and 31)."""
    print("| model | method | calls per segment | coverage | no std | rel. L2 | ran |")
    print("|---|---|---:|---:|---:|---:|---|")
    for name in models:
        recorded, output = recorded_scorer(name, f"documents-{name}.sqlite")
        cases = []
        for text in DOCUMENTS.values():
            runs = reference_runs(recorded, text, REFERENCE_CALLS[name])
            truth = (runs[0].values[:, output] + runs[1].values[:, output]) / 2
            truth_std = np.hypot(runs[0].std[:, output], runs[1].std[:, output]) / 2
            cases.append((text, truth, truth_std))
        for label in methods:
            method, options = METHODS[label]
            for p in per_segment:
                inside, missing, errors, ran = [], 0, [], set()
                for text, truth, truth_std in cases:
                    for seed in range(seeds):
                        exp = bbx.explain(
                            recorded, text, method, round(p * len(truth)), seed=seed,
                            progress=False, **options,
                        )  # fmt: skip
                        values = exp.values[:, output]
                        std = np.full(len(truth), np.inf if exp.std is None else np.nan)
                        if exp.std is not None:
                            std = exp.std[:, output]
                        finite = np.isfinite(std)
                        missing += int((~finite).sum())
                        band = 1.96 * np.hypot(std, truth_std) + 1e-12
                        inside.extend((np.abs(values - truth) <= band)[finite])
                        errors.append(rel_l2(values, truth))
                        ran.add(exp.meta.get("chosen_method", method))
                print(
                    f"| {name} | {label} | {p} | {np.mean(inside):.3f} | {missing} | "
                    f"{np.mean(errors):.3f} | {', '.join(sorted(ran))} |",
                    flush=True,
                )


def references(models: list[str]) -> None:
    for name in models:
        recorded, output = recorded_scorer(name, f"documents-{name}.sqlite")
        for title, text in DOCUMENTS.items():
            values, spread = reference(recorded, text, output, REFERENCE_CALLS[name])
            print(f"{name} | {title} | {len(values)} segments | two runs differ by {spread:.3f}")


def compare(models: list[str], methods: tuple[str, ...], per_segment: tuple[float, ...]) -> None:
    """``methods`` on the documents, 3 seeds, against their references."""
    method_table(models, DOCUMENTS, methods, per_segment, REFERENCE_CALLS, seeds=3)


def parts_of(text: str, parts: int) -> list[str]:
    """``text`` cut into ``parts`` runs of whole sentences, as even in count as they come."""
    import re

    sentences = re.split(r"(?<=[.?!])\s+", text)
    n = len(sentences)
    return [" ".join(sentences[i * n // parts : (i + 1) * n // parts]) for i in range(parts)]


def halves_of_documents() -> dict[str, str]:
    """Each document cut into its first and second half of sentences (68-97 segments)."""
    texts = {}
    for title, text in DOCUMENTS.items():
        first, second = parts_of(text, 2)
        texts[f"{title} 1"] = first
        texts[f"{title} 2"] = second
    return texts


def middle_texts() -> dict[str, str]:
    """Texts of 16-61 segments: section 2's paragraphs cut in two (16-35) and each document's
    first and last quarter of sentences (27-61)."""
    import bench_long_texts

    texts = {}
    for i, paragraph in enumerate(bench_long_texts.PARAGRAPHS):
        for j, part in enumerate(parts_of(paragraph, 2)):
            texts[f"paragraph {i}, half {j + 1}"] = part
    for title, text in DOCUMENTS.items():
        quarters = parts_of(text, 4)
        texts[f"{title}, quarter 1"] = quarters[0]
        texts[f"{title}, quarter 4"] = quarters[3]
    return texts


def method_table(
    models: list[str],
    texts: dict[str, str],
    methods: tuple[str, ...],
    per_segment: tuple[float, ...],
    reference_calls: dict[str, int],
    seeds: int,
) -> None:
    """Mean relative L2 over ``seeds`` seeds of each of ``methods`` (labels of ``METHODS``) on
    each of ``texts``, against references of two KernelSHAP runs of ``reference_calls`` calls;
    `auto`'s cells name what it ran with seed 0."""
    print("| model | text | segments | calls per segment | " + " | ".join(methods) + " |")
    print("|---|---|---:|---:|" + "---:|" * len(methods))
    blanks = " | " * (len(methods) - 1)
    for name in models:
        recorded, output = recorded_scorer(name, f"documents-{name}.sqlite")
        for title, text in texts.items():
            truth, spread = reference(recorded, text, output, reference_calls[name])
            n = len(truth)
            print(
                f"| {name} | {title} | {n} | reference: two runs differ by {spread:.3f} |{blanks}|"
            )
            for p in per_segment:
                cells = []
                for label in methods:
                    method, options = METHODS[label]
                    try:
                        error = mean_paragraph_error(
                            recorded, text, method, round(p * n), options, output, truth, seeds
                        )
                    except (bbx.BudgetTooSmallError, bbx.TooManySegmentsError):
                        cells.append("–")  # below the method's minimum budget
                        continue
                    cells.append(f"{error:.3f}")
                    if label == "auto":
                        ran = bbx.explain(
                            recorded, text, "auto", round(p * n), seed=0, progress=False
                        )
                        cells[-1] += f" ({ran.meta['chosen_method']})"
                print(f"| {name} | {title} | {n} | {p} | {' | '.join(cells)} |", flush=True)


def middle(
    models: list[str],
    per_segment: tuple[float, ...],
    methods: tuple[str, ...] = ("gpshap", "lasso"),
) -> None:
    """``methods`` (by default GP-SHAP, whose leave-one-out and balanced designs `auto` runs up
    to 64 segments from n + 2 calls, against the LASSO) on texts of 16-61 segments, 3 seeds;
    references of two KernelSHAP runs of half ``REFERENCE_CALLS`` each."""
    half = {name: calls // 2 for name, calls in REFERENCE_CALLS.items()}
    method_table(models, middle_texts(), methods, per_segment, half, seeds=3)


HALVES_PER_SEGMENT = (1.2, 2.0, 3.0, 4.0, 8.0, 12.0)


def halves(
    models: list[str],
    methods: tuple[str, ...] = ("auto", "lasso"),
    per_segment: tuple[float, ...] = HALVES_PER_SEGMENT,
) -> None:
    """``methods`` (by default `auto` against the LASSO) on the documents' halves, 2 seeds;
    references of two KernelSHAP runs of half ``REFERENCE_CALLS`` each."""
    half = {name: calls // 2 for name, calls in REFERENCE_CALLS.items()}
    method_table(models, halves_of_documents(), methods, per_segment, half, seeds=2)


def checks(models: list[str]) -> None:
    """How often each kind of GP-SHAP's pooling checks finds the inert segments are not
    dummies: of 32 random pairs, a part of them against the rest, and all against none."""
    import bench_long_texts

    from blackbox_explain.estimators.answers import inert_players
    from blackbox_explain.estimators.base import extremes
    from blackbox_explain.estimators.designs import singleton_pairs
    from blackbox_explain.game import CoalitionGame
    from blackbox_explain.segmentation import segment

    texts = {**DOCUMENTS, "section 2's three paragraphs": " ".join(bench_long_texts.PARAGRAPHS)}
    texts.update(halves_of_documents())
    texts.update({f"paragraph {i}": p for i, p in enumerate(bench_long_texts.PARAGRAPHS)})
    print("| model | text | segments | inert | part against rest | all against none |")
    print("|---|---|---:|---:|---:|---:|")
    for name in models:
        recorded, output = recorded_scorer(name, f"documents-{name}.sqlite")
        for title, text in texts.items():
            segmentation = segment(text)
            n = len(segmentation)
            game = CoalitionGame(recorded, segmentation)
            masks = np.vstack([extremes(n), singleton_pairs(n)])
            inert = inert_players(masks, game(masks))
            rng = np.random.default_rng(0)
            split = whole = 0
            for _ in range(32):
                active = (rng.random(n) < 0.5) & ~inert
                part = (rng.random(n) < 0.5) & inert
                rows = np.vstack([active | part, active | (inert & ~part), active | inert, active])
                v = game(rows)[:, output]
                split += abs(v[0] - v[1]) > 1e-12
                whole += abs(v[2] - v[3]) > 1e-12
            print(f"| {name} | {title} | {n} | {int(inert.sum())} | {split}/32 | {whole}/32 |")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "what", choices=["references", "compare", "halves", "checks", "middle", "coverage"]
    )
    parser.add_argument("--models", default="vader,minilm")
    parser.add_argument(
        "--methods",
        help="comma-separated (default: all for compare, auto,lasso for halves, gpshap,lasso "
        "for middle)",
    )
    parser.add_argument("--per-segment", help="calls per segment, comma-separated")
    parser.add_argument("--seeds", type=int, default=2, help="coverage: seeds per document (2)")
    args = parser.parse_args(argv)
    models = args.models.split(",")
    per_segment = (
        None if args.per_segment is None else tuple(float(p) for p in args.per_segment.split(","))
    )
    if args.what == "references":
        references(models)
    elif args.what == "halves":
        methods = tuple((args.methods or "auto,lasso").split(","))
        halves(models, methods, per_segment or HALVES_PER_SEGMENT)
    elif args.what == "checks":
        checks(models)
    elif args.what == "coverage":
        methods = tuple((args.methods or "auto").split(","))
        coverage(models, methods, per_segment or (2.0, 4.0, 8.0, 12.0, 16.0), args.seeds)
    elif args.what == "middle":
        methods = tuple((args.methods or "gpshap,lasso").split(","))
        middle(models, per_segment or PER_SEGMENT, methods)
    else:
        methods = tuple((args.methods or ",".join(METHODS)).split(","))
        compare(models, methods, per_segment or PER_SEGMENT)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
