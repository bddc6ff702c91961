"""Record an LLM-engine cassette over labelled datasets, for replays in CI.

    python -m copilot.evals.record_cassette                       # the shipped cassette, scripted
    python -m copilot.evals.record_cassette --base-url https://api.openai.com/v1 --model gpt-4o-mini

Without ``--base-url`` there is no real model: the script starts the local fake
OpenAI-compatible server (``tests/fakes/openai_server.py``, so it runs from a
checkout) and, for every dataset item, scripts a schema-valid answer derived
from the offline rules engine's own analysis of the same conversation. The
cassette then holds plausible structured outputs, recorded through the real
openai SDK, the real request keys and the real LLM engine code; its scores say
nothing about any real model. With ``--base-url`` (and ``OPENAI_API_KEY``) the
same script records a real model's answers instead.

The first line of the cassette is a metadata entry (``"key": "_meta"``) saying
how it was recorded; the engine never asks for that key, so replays ignore it.
The eval runner does the recording (``copilot.evals.runner.run_dataset``), so the
requests are exactly the ones ``lead-copilot eval --engine 'llm:...'`` replays.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from copilot.engines.llm import LLMEngine
from copilot.engines.rules import RulesEngine
from copilot.evals.datasets_io import Dataset, load_dataset, resolve_dataset_paths
from copilot.evals.runner import DatasetResult, run_dataset
from copilot.facade import Copilot
from copilot.models import Analysis, Conversation, FieldValue
from copilot.profile import BusinessProfile, load_profile
from copilot.taxonomy import TemplateKey

CASSETTES = Path(__file__).resolve().parent / "cassettes"
#: The shipped cassette and what it covers (the CI replay reads the same).
DEFAULT_OUT = CASSETTES / "analyze-v1-test-intents-handoff.jsonl"
DEFAULT_DATASETS = ("test/intents", "test/handoff")
DEFAULT_SAMPLE = 20
SAMPLES = CASSETTES
DEFAULT_MODEL = "gpt-4o-mini"
META_KEY = "_meta"
SCRIPTED_NOTE = (
    "Recorded against a scripted local stand-in (tests/fakes/openai_server.py answering "
    "with outputs derived from the rules engine), NOT a real model. Re-record with "
    "python -m copilot.evals.record_cassette --base-url URL --model NAME to capture a real model."
)


def _field(value: FieldValue | None) -> Any:
    if value is None:
        return None
    inner = value.value
    if hasattr(inner, "model_dump"):
        return inner.model_dump(mode="json")
    return getattr(inner, "value", inner)  # NextStep enum -> its value


def answer_from_analysis(analysis: Analysis) -> dict[str, Any]:
    """A schema-valid ``AnalyzeOutput`` dict saying what ``analysis`` says."""
    intent = analysis.intent
    fields = {
        name: _field(getattr(analysis.fields, name)) for name in type(analysis.fields).model_fields
    }
    if fields.get("budget") is not None:
        budget = fields["budget"]
        fields["budget"] = {k: budget.get(k) for k in ("amount", "currency", "text")}
    if fields.get("timeline") is not None:
        fields["timeline"] = {k: fields["timeline"][k] for k in ("text", "bucket")}
    template = analysis.reply.template if analysis.reply else TemplateKey.WELCOME
    return {
        "language": analysis.language.value,
        "intent": {
            "label": intent.label.value if intent else "other",
            "confidence": round(intent.confidence, 3) if intent else 0.3,
            "also": [alt.label for alt in intent.alternatives[:2]] if intent else [],
        },
        "origin": {"label": analysis.origin.label.value, "evidence": analysis.origin.evidence},
        "fields": fields,
        "handoff": {
            "needed": analysis.handoff.needed,
            "reason": analysis.handoff.reason.value if analysis.handoff.reason else None,
        },
        "injection_suspected": False,
        "reply": {
            "template": template.value,
            "slots": {"question": None, "answer": None, "need": None, "next_step": None},
            "free_text": None,
        },
    }


class ScriptedRecorder:
    """The LLM engine in record mode, with the fake server told what to answer
    before each request (the rules engine's reading of the same conversation)."""

    name = "llm"

    def __init__(self, llm: LLMEngine, server: Any) -> None:
        self.llm = llm
        self.server = server
        self.rules = RulesEngine()

    def understand(self, conversation: Conversation, profile: BusinessProfile, now: datetime):
        """Script the answer, then let the real LLM engine ask (and record) it."""
        from tests.fakes.openai_server import Reply

        analysis = Copilot(profile=profile, engine=self.rules).analyze(conversation, now=now)
        content = json.dumps(answer_from_analysis(analysis), ensure_ascii=False)
        self.server.script(Reply.ok(content, usage=(950, 0, 160)))
        return self.llm.understand(conversation, profile, now)


def sample_lines(lines: list[str], size: int) -> list[str]:
    """``size`` lines spread evenly over ``lines`` (all of them when there are fewer),
    so a small sample still mixes labels, languages and both handoff verdicts."""
    if size >= len(lines):
        return lines
    return [lines[i * len(lines) // size] for i in range(size)]


def write_samples(specs: list[str], size: int, folder: Path = SAMPLES) -> list[Dataset]:
    """Copy an even sample of each dataset named by ``specs`` to
    ``folder/<split>-sample/<kind>.jsonl`` (lines verbatim) and load the copies."""
    datasets = []
    for spec in specs:
        for path in resolve_dataset_paths(spec):
            lines = [line for line in path.read_text(encoding="utf-8").splitlines() if line]
            target = folder / f"{path.parent.name}-sample" / path.name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text("\n".join(sample_lines(lines, size)) + "\n", encoding="utf-8")
            datasets.append(load_dataset(target))
    if not datasets:
        raise SystemExit(f"no datasets found for {specs}")
    return datasets


def metadata(datasets: list[Dataset], model: str, scripted: bool, base_url: str | None) -> dict:
    """The cassette's first line: how, against what and over which items it was recorded."""
    return {
        "key": META_KEY,
        "recorded_against": "scripted local stand-in" if scripted else base_url,
        "note": SCRIPTED_NOTE if scripted else "Recorded against a real model endpoint.",
        "prompt": "analyze@v1",
        "model": model,
        "datasets": {d.name: len(d.entries) for d in datasets},
        "recorded_at": datetime.now(UTC).date().isoformat(),
        "script": "evals/record_cassette.py",
    }


def record(
    out: Path,
    datasets: list[Dataset],
    *,
    model: str = DEFAULT_MODEL,
    base_url: str | None = None,
    profile: BusinessProfile | None = None,
) -> list[DatasetResult]:
    """Record a fresh cassette at ``out`` over ``datasets``; returns the recorded runs."""
    profile = profile or load_profile()
    out.parent.mkdir(parents=True, exist_ok=True)
    scripted = base_url is None
    out.write_text(
        json.dumps(metadata(datasets, model, scripted, base_url), ensure_ascii=False) + "\n",
        encoding="utf-8",
    )
    common: dict[str, Any] = {
        "model": model,
        "cassette": out,
        "cassette_mode": "record",
        "cache": False,
    }
    if scripted:
        from tests.fakes.openai_server import FakeOpenAI

        with FakeOpenAI() as server:
            llm = LLMEngine(base_url=server.base_url, api_key="scripted", **common)
            engine: Any = ScriptedRecorder(llm, server)
            try:
                return [run_dataset(d, engine, profile, label="llm:analyze@v1") for d in datasets]
            finally:
                llm.close()
    llm = LLMEngine(base_url=base_url, **common)
    try:
        return [run_dataset(d, llm, profile, label="llm:analyze@v1") for d in datasets]
    finally:
        llm.close()


def main(argv: list[str] | None = None) -> int:
    """Command line: record, then print what was recorded and the scores."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--dataset", action="append", help="repeatable; default test/intents, test/handoff"
    )
    parser.add_argument("--sample", type=int, default=DEFAULT_SAMPLE, help="items per dataset")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--model", default=DEFAULT_MODEL)
    parser.add_argument("--base-url", help="a real OpenAI-compatible endpoint (else scripted)")
    args = parser.parse_args(argv)
    datasets = write_samples(args.dataset or list(DEFAULT_DATASETS), args.sample)
    results = record(args.out, datasets, model=args.model, base_url=args.base_url)
    lines = sum(1 for _ in args.out.open(encoding="utf-8")) - 1
    print(f"{args.out}: {lines} recorded answers", file=sys.stderr)
    for result in results:
        headline = ", ".join(f"{k} {v:.3f}" for k, v in result.headline.items())
        print(f"{result.dataset.name}: {headline} ({len(result.failures)} errors)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
