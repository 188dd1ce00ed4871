"""Codec checks: the declared vectors decode as stated; fuzzing raises only the codec's error.

Vector files use the kit's format::

    {"codec": "acme", "source": "...", "vectors": [
        {"frame": "17,1234,intrusion,alarm,5", "message": {...}, "events": [{"kind": ...}]},
        {"frame": {"hex": "3137"}, "error": "a substring of the reason"}]}

``message`` and each event are subsets: the named fields must match, others may be anything.
"""

from __future__ import annotations

import contextlib
import json
import random
import traceback
from datetime import UTC, datetime
from typing import Any

from conformance.report import CheckResult, Status
from gateway.sdk.codec import CodecSpec, DecodeContext

FUZZ_EXAMPLES = 600
FIXED_NOW = datetime(2026, 1, 1, tzinfo=UTC)


def frame_bytes(frame: Any) -> bytes:
    if isinstance(frame, str):
        return frame.encode()
    if isinstance(frame, dict) and isinstance(frame.get("hex"), str):
        return bytes.fromhex(frame["hex"])
    raise ValueError(f"a frame is a string or {{'hex': ...}}, not {frame!r}")


def load_vectors(spec: CodecSpec) -> list[dict[str, Any]]:
    assert spec.vectors is not None
    doc = json.loads(spec.vectors.read_text(encoding="utf-8"))
    if not isinstance(doc, dict) or not isinstance(doc.get("vectors"), list):
        raise ValueError(f"{spec.vectors} is not in the kit's format ({{'vectors': [...]}})")
    return [v for v in doc["vectors"] if isinstance(v, dict)]


def check_codec(spec: CodecSpec, *, fuzz_examples: int = FUZZ_EXAMPLES) -> list[CheckResult]:
    prefix = f"codec.{spec.name}"
    results = [_check_vectors(spec, prefix)]
    results.append(_check_fuzz(spec, prefix, fuzz_examples))
    return results


def _check_vectors(spec: CodecSpec, prefix: str) -> CheckResult:
    name = f"{prefix}.vectors"
    if spec.vectors is None:
        return CheckResult(
            name, Status.NOT_APPLICABLE, "no vector file declared (CodecSpec.vectors)"
        )
    try:
        vectors = load_vectors(spec)
    except (OSError, ValueError) as exc:
        return CheckResult(name, Status.FAIL, f"cannot read vectors: {exc}")
    problems = []
    for i, vector in enumerate(vectors):
        problem = _vector_problem(spec, vector)
        if problem:
            problems.append(f"vector {i}: {problem}")
    detail = "; ".join(problems[:5]) + (
        f" (+{len(problems) - 5} more)" if len(problems) > 5 else ""
    )
    status = Status.FAIL if problems or not vectors else Status.PASS
    return CheckResult(
        name,
        status,
        detail or ("" if vectors else "the file has no vectors"),
        {"vectors": len(vectors)},
    )


def _vector_problem(spec: CodecSpec, vector: dict[str, Any]) -> str | None:
    try:
        frame = frame_bytes(vector.get("frame"))
    except ValueError as exc:
        return str(exc)
    ctx = DecodeContext(now=FIXED_NOW)
    try:
        decoded = spec.decode(frame, ctx)
    except spec.error as exc:
        wanted = vector.get("error")
        if wanted is None:
            return f"expected a decode, got {type(exc).__name__}: {exc}"
        if str(wanted) not in str(exc):
            return f"error {str(exc)!r} does not mention {wanted!r}"
        return None
    except Exception as exc:
        return f"raised {type(exc).__name__} (not {spec.error.__name__}): {exc}"
    if "error" in vector:
        return f"expected an error mentioning {vector['error']!r}, but it decoded"
    for key, value in (vector.get("message") or {}).items():
        if decoded.message.get(key) != value:
            return f"message.{key} is {decoded.message.get(key)!r}, expected {value!r}"
    expected_events = vector.get("events")
    if expected_events is not None:
        if len(expected_events) != len(decoded.events):
            return f"{len(decoded.events)} event(s), expected {len(expected_events)}"
        for n, (want, got) in enumerate(zip(expected_events, decoded.events, strict=True)):
            dumped = got.model_dump(mode="json")
            for key, value in want.items():
                if dumped.get(key) != value:
                    return f"events[{n}].{key} is {dumped.get(key)!r}, expected {value!r}"
    return None


def _mutations(frames: list[bytes], rng: random.Random) -> bytes:
    """A valid frame, damaged the way lines are: cut short, a byte changed, bytes added."""
    frame = bytearray(rng.choice(frames))
    for _ in range(rng.randint(1, 3)):
        op = rng.randrange(5)
        if op == 0 and frame:
            del frame[rng.randrange(len(frame)) :]
        elif op == 1 and frame:
            frame[rng.randrange(len(frame))] = rng.randrange(256)
        elif op == 2:
            frame.insert(rng.randrange(len(frame) + 1), rng.randrange(256))
        elif op == 3 and frame:
            del frame[rng.randrange(len(frame))]
        else:
            frame += frame[: rng.randrange(len(frame) + 1)]
    return bytes(frame)


def _check_fuzz(spec: CodecSpec, prefix: str, examples: int) -> CheckResult:
    """Random and mutated frames through hypothesis; anything but ``spec.error`` fails."""
    name = f"{prefix}.fuzz"
    try:
        from hypothesis import HealthCheck, given, settings
        from hypothesis import strategies as st
    except ImportError:
        return CheckResult(
            name,
            Status.FAIL,
            "hypothesis is needed: pip install 'anfang-gateway[kit]' (in a checkout of the "
            "gateway: pip install -e '.[kit]'; a plugin made by 'anfang plugins new' brings "
            "it with its [test] extra)",
        )
    seeds: list[bytes] = []
    if spec.vectors is not None:
        try:
            seeds = [frame_bytes(v["frame"]) for v in load_vectors(spec) if "frame" in v]
        except (OSError, ValueError, KeyError):
            seeds = []
    seeds = seeds or [b"0" * 16]
    ctx = DecodeContext(now=FIXED_NOW)
    frames = st.one_of(
        st.binary(max_size=256),
        st.randoms(use_true_random=False).map(lambda rng: _mutations(seeds, rng)),
    )
    escaped: list[str] = []

    @settings(
        max_examples=examples,
        database=None,
        deadline=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    @given(frames)
    def decode_anything(frame: bytes) -> None:
        try:
            spec.decode(frame, ctx)
        except spec.error:
            pass
        except Exception as exc:
            where = traceback.extract_tb(exc.__traceback__)[-1]
            escaped.append(
                f"{type(exc).__name__} on {frame!r:.80} at {where.filename.rsplit('/', 1)[-1]}"
                f":{where.lineno}: {exc}"
            )
            raise

    with contextlib.suppress(Exception):  # hypothesis re-raises the failure; escaped holds it
        decode_anything()
    if escaped:
        return CheckResult(name, Status.FAIL, escaped[-1][:500], {"examples": examples})
    return CheckResult(name, Status.PASS, "", {"examples": examples})
