"""A field that breaks a bound is told what the bound is, in Indonesian as in English."""
from pydantic import BaseModel, Field, ValidationError

from ekinerja_common.web import validation_error


class Form(BaseModel):
    volume: int = Field(ge=1, le=1_000_000)
    description: str = Field(min_length=1, max_length=5)
    entries: list[int] = Field(max_length=2)


def messages(raw: dict) -> dict[str, tuple[str, str]]:
    try:
        Form.model_validate(raw)
    except ValidationError as exc:
        return {k: (t.id, t.en) for k, t in validation_error(exc).fields.items()}
    raise AssertionError("expected errors")


def test_every_bound_is_named_in_both_languages():
    got = messages({"volume": 2_000_000, "description": "abcdefg", "entries": [1, 2, 3]})
    assert got["volume"][0] == "Terlalu besar (paling banyak 1.000.000)" and "1000000" in got["volume"][1]
    assert got["description"][0] == "Terlalu panjang (paling banyak 5 karakter)"
    assert got["entries"][0] == "Terlalu banyak (paling banyak 2 butir)"
    assert messages({"volume": 0, "description": "x", "entries": []})["volume"][0] == "Terlalu kecil (paling sedikit 1)"
