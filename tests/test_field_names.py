"""The qualification field names live in ``copilot.taxonomy``; every model, table
and list that names them agrees with that one list."""

from __future__ import annotations

from typing import get_args

import pytest

from copilot.evals.items import FieldsGold
from copilot.evals.metrics import SCORED_FIELDS
from copilot.inbox.corrections import FieldCorrections
from copilot.llm.interpret import PLAIN_FIELDS, WORDED_FIELDS
from copilot.llm.schema import FieldKey, FieldsOut
from copilot.models import QualificationFields
from copilot.profile import BusinessProfile, Qualification
from copilot.questions import question_for
from copilot.taxonomy import (
    DATASET_FIELD_NAMES,
    FIELD_NAMES,
    KEY_FIELDS,
    QUALIFYING_FIELDS,
    Language,
)
from copilot.web import i18n


def test_the_models_hold_exactly_the_field_names():
    assert set(QualificationFields.model_fields) == set(FIELD_NAMES)
    assert set(FieldsOut.model_fields) == set(FIELD_NAMES)
    # The model's schema keeps its own order (it is part of the recorded requests).
    assert set(get_args(FieldKey)) == set(FIELD_NAMES)
    assert len(get_args(FieldKey)) == len(FIELD_NAMES)


def test_dataset_names_are_the_field_names_with_the_timeline_bucket():
    assert set(QualificationFields().flat()) == set(DATASET_FIELD_NAMES)
    assert set(FieldCorrections.model_fields) == set(DATASET_FIELD_NAMES)
    assert set(FieldsGold.model_fields) == set(DATASET_FIELD_NAMES)
    assert SCORED_FIELDS == DATASET_FIELD_NAMES


def test_every_field_has_a_label_and_a_question():
    labels = i18n.enum_tables()["field"]
    assert set(labels) == set(FIELD_NAMES)
    for name in FIELD_NAMES:
        for language in (Language.ES, Language.PT, Language.EN):
            assert question_for(name, language), (name, language)


def test_the_llm_reads_every_field_once():
    assert set(PLAIN_FIELDS) | WORDED_FIELDS | {"next_step"} == set(FIELD_NAMES)
    assert not set(PLAIN_FIELDS) & WORDED_FIELDS


def test_profile_defaults_come_from_the_taxonomy(profile: BusinessProfile):
    defaults = Qualification()
    assert defaults.ask_for == list(KEY_FIELDS)
    assert defaults.qualified_when == list(QUALIFYING_FIELDS)
    assert set(profile.qualification.ask_for) <= set(FIELD_NAMES)


@pytest.mark.parametrize("setting", ["ask_for", "qualified_when"])
def test_a_misspelt_field_in_a_profile_is_refused(setting):
    with pytest.raises(ValueError, match=r"unknown field 'budjet'; known: need, timeline"):
        Qualification(**{setting: ["need", "budjet"]})
