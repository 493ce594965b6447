from pathlib import Path

from tsdash.schema import CONTRACT, contract_markdown
from tsdash.validate import RULE_TEXT

DOC = (Path(__file__).resolve().parents[1] / "docs" / "DATA_CONTRACT.md").read_text(encoding="utf-8")


def test_contract_doc_is_generated_from_schema():
    assert contract_markdown() in DOC, "regenerate the tables of docs/DATA_CONTRACT.md from tsdash.schema"


def test_every_rule_is_documented():
    for rule in RULE_TEXT:
        assert f"`{rule}`" in DOC, rule


def test_required_columns():
    assert CONTRACT["cases"].required == ("case_id", "created_at", "queue")
    assert CONTRACT["agents"].required == ("agent_id", "name", "team")
    assert CONTRACT["qa_reviews"].required == ("review_id", "case_id", "agent_id", "reviewed_at", "score")
