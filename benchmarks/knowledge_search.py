"""Knowledge-base search: quality of BM25 alone, dense alone and the fusion, and speed at 10,000 articles.

Why: issue 16 asks for recall@5 and MRR of each retriever and of the fusion, on the demo's base and on
public question sets, search p95 on 10,000 articles (target ≤ 30 ms on one process), and the index build
time for 10,000 articles.

How:
- **demo**: the 19 Maison Lumière articles (both languages), the 28 questions in customers' own words of
  ``tests/knowledge/questions.py``;
- **BANKING77 as retrieval**: one article per intent (its name as title, ten training sentences as text),
  queried with 1,000 test sentences (seeded sample) — a public set of real customer questions;
- **scale**: 10,000 articles (BANKING77 training sentences, each an article), embedded once (cached under
  ``--cache``), then the index built (BM25 + vector matrix) and 200 queries timed — the query's own
  embedding and the retrieval measured apart, since the embedding dominates.

    .venv/bin/python benchmarks/knowledge_search.py [--data ../shared/data/selfcare] [--queries 1000]
"""

from __future__ import annotations

import argparse
import csv
import os
import platform
import random
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.knowledge.questions import QUESTIONS  # noqa: E402

from accueil.demo.generator import KNOWLEDGE_DIR  # noqa: E402
from accueil.knowledge.embedder import encode  # noqa: E402
from accueil.knowledge.files import read_folder  # noqa: E402
from accueil.knowledge.markdown import first_paragraph, to_text  # noqa: E402
from accueil.knowledge.search import Document, SearchIndex  # noqa: E402
from accueil.knowledge.service import embedding_text  # noqa: E402

MODES = ("lexical", "dense", "hybrid")
console = Console(stderr=True)


def embed_all(texts: list[str], label: str, cache: Path | None = None, batch: int = 64) -> np.ndarray:
    if cache is not None and cache.exists():
        stored = np.load(cache)
        if stored.shape[0] == len(texts):
            return stored
    rows = []
    with Progress(console=console) as progress:
        task = progress.add_task(f"embedding {label}", total=len(texts))
        for start in range(0, len(texts), batch):
            rows.append(encode(texts[start:start + batch]))
            progress.update(task, advance=min(batch, len(texts) - start))
    vectors = np.vstack(rows) if rows else np.zeros((0, 512), dtype=np.float32)
    if cache is not None:
        cache.parent.mkdir(parents=True, exist_ok=True)
        np.save(cache, vectors)
    return vectors


def evaluate(index: SearchIndex, queries: list[tuple[str, str, str]], query_vectors: np.ndarray) -> dict[str, tuple]:
    """recall@5 and MRR (over the top 10) per mode; queries are (language, text, expected article id)."""
    lookup = {" ".join(text[:500].split()): vector for (_l, text, _e), vector in zip(queries, query_vectors, strict=True)}
    results = {}
    for mode in MODES:
        found, reciprocal = 0, 0.0
        for language, text, expected in queries:
            hits = [h.document.article_id for h in index.search(text, language, limit=10, mode=mode,
                                                                embed=lambda q: lookup[q])]
            found += expected in hits[:5]
            reciprocal += 1.0 / (hits.index(expected) + 1) if expected in hits else 0.0
        results[mode] = (found / len(queries), reciprocal / len(queries))
    return results


def demo_base() -> tuple[SearchIndex, list[tuple[str, str, str]]]:
    articles, _categories, _problems = read_folder(KNOWLEDGE_DIR)
    pairs = [(a, lang) for a in articles for lang in ("fr", "en")]
    vectors = embed_all([embedding_text(a.titles[lang], a.bodies[lang]) for a, lang in pairs], "demo articles")
    index = SearchIndex.build(Document(a.code, lang, a.titles[lang], to_text(a.bodies[lang]),
                                       first_paragraph(a.bodies[lang]), "public", v)
                              for (a, lang), v in zip(pairs, vectors, strict=True))
    return index, [(lang, text, code) for lang, text, code in QUESTIONS]


def banking(data: Path, queries: int, cache: Path) -> tuple[SearchIndex, list[tuple[str, str, str]], list[str]]:
    train = list(csv.DictReader((data / "banking77" / "train.csv").open(encoding="utf-8")))
    test = list(csv.DictReader((data / "banking77" / "test.csv").open(encoding="utf-8")))
    rng = random.Random(7)
    by_intent: dict[str, list[str]] = {}
    for row in train:
        by_intent.setdefault(row["category"], []).append(row["text"])
    titles = {intent: intent.replace("_", " ").capitalize() for intent in by_intent}
    bodies = {intent: " ".join(rng.sample(texts, min(10, len(texts)))) for intent, texts in by_intent.items()}
    vectors = embed_all([f"{titles[i]}. {bodies[i]}" for i in by_intent], "BANKING77 articles",
                        cache / "banking-articles.npy")
    index = SearchIndex.build(Document(i, "en", titles[i], bodies[i], bodies[i][:200], "public", v)
                              for i, v in zip(by_intent, vectors, strict=True))
    sample = rng.sample(test, min(queries, len(test)))
    return index, [("en", row["text"], row["category"]) for row in sample], [row["text"] for row in train]


def scale(sentences: list[str], cache: Path, count: int = 10_000, probes: int = 200) -> dict[str, float]:
    texts = (sentences * (count // len(sentences) + 1))[:count]
    texts = [f"{text} ({n})" if n >= len(sentences) else text for n, text in enumerate(texts)]
    started = time.perf_counter()
    vectors = embed_all(texts, f"{count} articles", cache / f"scale-{count}.npy")
    embed_seconds = time.perf_counter() - started
    documents = [Document(str(n), "en", text, text, text, "public", v) for n, (text, v)
                 in enumerate(zip(texts, vectors, strict=True))]
    started = time.perf_counter()
    index = SearchIndex.build(documents)
    build_seconds = time.perf_counter() - started
    rng = random.Random(3)
    queries = [rng.choice(sentences) for _ in range(probes)]
    encode(queries[:5])  # warm
    embed_times, retrieve_hybrid, retrieve_lexical = [], [], []
    for query in queries:
        t0 = time.perf_counter()
        vector = encode([query])[0]
        t1 = time.perf_counter()
        index.search(query, "en", embed=lambda _q, v=vector: v, mode="hybrid")
        t2 = time.perf_counter()
        index.search(query, "en", mode="lexical")
        t3 = time.perf_counter()
        embed_times.append(t1 - t0)
        retrieve_hybrid.append(t2 - t1)
        retrieve_lexical.append(t3 - t2)

    def p(values: list[float], q: float) -> float:
        return statistics.quantiles(values, n=100)[int(q) - 1] * 1000

    return {"articles": count, "embed_all_s": embed_seconds, "index_build_s": build_seconds,
            "query_embed_p50_ms": p(embed_times, 50), "query_embed_p95_ms": p(embed_times, 95),
            "retrieve_hybrid_p95_ms": p(retrieve_hybrid, 95), "retrieve_lexical_p95_ms": p(retrieve_lexical, 95),
            "search_hybrid_p95_ms": p([a + b for a, b in zip(embed_times, retrieve_hybrid, strict=True)], 95)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path(os.environ.get("ACCUEIL_SHARED_DATA", "../shared/data"))
                        / "selfcare")
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--articles", type=int, default=10_000)
    parser.add_argument("--cache", type=Path, default=Path("/tmp/accueil-bench-knowledge"))
    args = parser.parse_args()
    print(f"# knowledge search — {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.machine()}, "
          f"{os.cpu_count()} CPUs, load {os.getloadavg()[0]:.2f}")
    table = Table(title="recall@5 / MRR@10")
    table.add_column("set")
    for mode in MODES:
        table.add_column(mode)
    index, questions = demo_base()
    demo = evaluate(index, questions, embed_all([q for _l, q, _e in questions], "demo questions"))
    table.add_row(f"demo ({len(questions)} questions)", *(f"{r:.1%} / {m:.3f}" for r, m in demo.values()))
    bank_index, bank_queries, sentences = banking(args.data, args.queries, args.cache)
    bank = evaluate(bank_index, bank_queries, embed_all([q for _l, q, _e in bank_queries], "BANKING77 queries",
                                                        args.cache / f"banking-queries-{args.queries}.npy"))
    table.add_row(f"BANKING77 as retrieval ({len(bank_queries)} queries, 77 articles)",
                  *(f"{r:.1%} / {m:.3f}" for r, m in bank.values()))
    Console().print(table)
    figures = scale(sentences, args.cache, count=args.articles)
    for name, value in figures.items():
        print(f"{name}: {value:.1f}" if isinstance(value, float) else f"{name}: {value}")


if __name__ == "__main__":
    main()
