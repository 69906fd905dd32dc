"""SNS's error table agrees with botocore's SNS model: every domain error has an SNS code,
and codes the model knows carry the model's HTTP status."""

from __future__ import annotations

import inspect

import botocore.session
import pytest

from postroom import errors
from postroom.protocol.sns.errors import SNS_TABLE, sns_wire_error

SNS_MODEL = botocore.session.get_session().get_service_model("sns")
MODELLED = {s.metadata["error"]["code"]: s.metadata["error"]["httpStatusCode"]
            for s in SNS_MODEL.error_shapes if s.metadata.get("error")}
SNS_ERRORS = [c for _, c in inspect.getmembers(errors, inspect.isclass)
              if issubclass(c, errors.SnsError) and c is not errors.SnsError]


@pytest.mark.parametrize("cls", SNS_ERRORS, ids=lambda c: c.__name__)
def test_every_sns_error_has_an_entry(cls: type[errors.PostroomError]) -> None:
    assert cls in SNS_TABLE
    w = sns_wire_error(cls())
    assert w.message == (cls.__doc__ or "").strip()


@pytest.mark.parametrize("cls", list(SNS_TABLE), ids=lambda c: c.__name__)
def test_status_agrees_with_the_sns_model(cls: type[errors.PostroomError]) -> None:
    code, status = SNS_TABLE[cls]
    if code in MODELLED:
        assert status == MODELLED[code]


def test_unknown_exceptions_are_internal_errors_without_details() -> None:
    w = sns_wire_error(RuntimeError("secret detail"))
    assert (w.json_code, w.status) == ("InternalError", 500)
    assert "secret" not in w.message
