"""Graph rules: duplicate ids, unknown needs, cycles, loop fallbacks."""

from __future__ import annotations

from unit.helpers import apply_fix, briefs, check, covered, only


def test_duplicate_node_id_is_reported_on_the_second_with_related_first() -> None:
    text = """
    version: 1
    nodes:
      - {id: a, type: transform, with: {value: 1}}
      - {id: a, type: transform, with: {value: 2}}
    """
    d = only(text, "duplicate-id")
    assert d.message == "node id `a` is used twice; node ids must be unique in the file"
    assert briefs(text) == [("duplicate-id", (3, 9, 3, 10))]
    [related] = d.related
    assert related.range.start.line == 2 and related.message == "first node `a` here"


def test_duplicate_ids_across_stages_and_duplicate_stage_ids() -> None:
    text = """
    version: 1
    stages:
      - id: s
        nodes: [{id: a, type: transform, with: {value: 1}}]
      - id: s
        nodes: [{id: a, type: transform, with: {value: 2}}]
    """
    found = [(d.code, d.message, d.range.start.line) for d in check(text).diagnostics]
    assert found == [
        ("duplicate-id", "stage id `s` is used twice; stage ids must be unique", 4),
        ("duplicate-id", "node id `a` is used twice; node ids must be unique in the file", 5),
    ]


def test_unknown_needs_suggests_and_fixes_the_item() -> None:
    text = """
    version: 1
    nodes:
      - {id: fetch, type: transform, with: {value: 1}}
      - id: report
        type: transform
        needs: [fetchh]
        with: {value: 2}
    """
    d = only(text, "unknown-needs")
    assert d.message == (
        "node `report` needs `fetchh`, but there is no node `fetchh`; did you mean `fetch`?"
    )
    assert covered(text, d) == "fetchh"
    assert "needs: [fetch]" in apply_fix(text, d)


def test_unknown_needs_as_a_single_string_without_suggestion() -> None:
    text = """
    version: 1
    nodes:
      - {id: a, type: transform, needs: zzz, with: {value: 1}}
      - {id: b, type: transform, with: {value: 1}}
    """
    d = only(text, "unknown-needs")
    assert covered(text, d) == "zzz" and d.fix is None
    assert d.message.endswith("; expected one of `b`")


def test_cycle_is_reported_once_with_the_path_and_the_other_edges_related() -> None:
    text = """
    version: 1
    nodes:
      - {id: build, type: transform, needs: [test], with: {value: 1}}
      - {id: test, type: transform, needs: [build], with: {value: 2}}
      - {id: other, type: transform, needs: [build], with: {value: 3}}
    """
    [d] = check(text).diagnostics
    assert covered(text, d) == "test"
    assert d.message == "cycle: build → test → build; remove one of these `needs`"
    assert [r.message for r in d.related] == ["`test` needs `build`"]
    assert (d.related[0].range.start.line, d.related[0].range.start.character) == (3, 40)


def test_self_need_is_a_cycle() -> None:
    text = "version: 1\nnodes: [{id: a, type: transform, needs: a, with: {value: 1}}]\n"
    d = only(text, "cycle")
    assert d.message == "cycle: a → a: node `a` needs itself; remove it from `needs`"


def test_long_cycles_and_two_separate_cycles() -> None:
    text = """
    version: 1
    nodes:
      - {id: a, type: transform, needs: [c], with: {value: 1}}
      - {id: b, type: transform, needs: [a], with: {value: 1}}
      - {id: c, type: transform, needs: [b], with: {value: 1}}
      - {id: x, type: transform, needs: [y], with: {value: 1}}
      - {id: y, type: transform, needs: [x], with: {value: 1}}
    """
    messages = [d.message for d in check(text).diagnostics]
    assert messages == [
        "cycle: a → c → b → a; remove one of these `needs`",
        "cycle: x → y → x; remove one of these `needs`",
    ]


def test_a_long_cycle_is_one_short_diagnostic() -> None:
    count = 5000
    lines = ["version: 1", "nodes:"]
    for i in range(count):
        lines.append(
            f"  - {{id: n{i}, type: transform, needs: [n{(i + 1) % count}], with: {{value: 1}}}}"
        )
    [d] = check("\n".join(lines) + "\n").diagnostics
    assert d.code == "cycle"
    assert d.message == (
        "cycle: n0 → n1 → n2 → n3 → … (4,993 more) … → n4997 → n4998 → n4999 → n0; "
        "remove one of these `needs`"
    )
    assert len(d.related) == 20


def test_needs_pointing_to_a_later_stage_is_a_cycle() -> None:
    text = """
    version: 1
    stages:
      - id: first
        nodes: [{id: a, type: transform, needs: [b], with: {value: 1}}]
      - id: second
        nodes: [{id: b, type: transform, with: {value: 2}}]
    """
    d = only(text, "cycle")
    assert d.message.startswith("cycle: a → b → a: `b` is in the later stage `second`")


def test_needs_pointing_forward_in_a_sequential_stage_is_a_cycle() -> None:
    text = """
    version: 1
    stages:
      - id: s
        nodes:
          - {id: a, type: transform, needs: [b], with: {value: 1}}
          - {id: b, type: transform, with: {value: 2}}
      - id: p
        mode: parallel
        nodes:
          - {id: c, type: transform, needs: [d], with: {value: 1}}
          - {id: d, type: transform, needs: [a], with: {value: 2}}
    """
    d = only(text, "cycle")
    assert "in a sequential stage each node needs the one before it" in d.message


def test_loop_fallback_must_name_a_later_stage() -> None:
    text = """
    version: 1
    stages:
      - id: early
        nodes: [{id: a, type: transform, with: {value: 1}}]
      - id: work
        loop: {max_iters: 2, until: "${{ true }}", fallback: early}
        nodes: [{id: b, type: transform, with: {value: 1}}]
      - id: work2
        loop: {max_iters: 2, fallback: reprot}
        nodes: [{id: c, type: transform, with: {value: 1}}]
      - id: report
        loop: {max_iters: 2, fallback: report}
        nodes: [{id: d, type: transform, with: {value: 1}}]
    """
    found = [(d.code, covered(text, d), d.message) for d in check(text).diagnostics]
    assert found == [
        (
            "loop-bounds",
            "early",
            "the loop fallback of stage `work` must be a later stage; `early` is not after it",
        ),
        (
            "loop-bounds",
            "reprot",
            "the loop fallback of stage `work2` names no later stage `reprot`; "
            "did you mean `report`?",
        ),
        (
            "loop-bounds",
            "report",
            "the loop fallback of stage `report` must be a later stage; `report` is not after it",
        ),
    ]


def test_valid_fallback_is_fine() -> None:
    text = """
    version: 1
    stages:
      - id: work
        loop: {max_iters: 2, fallback: report}
        nodes: [{id: b, type: transform, with: {value: 1}}]
      - nodes: [{id: c, type: transform, with: {value: 1}}]
      - id: report
        nodes: [{id: d, type: transform, with: {value: 1}}]
    """
    d = only(text, "schema")  # only the stage without an id
    assert d.message == "missing required key `id` in stage 2"
    assert covered(text, d) == "nodes: [{id: c, type: transform, with: {value: 1}}]"
