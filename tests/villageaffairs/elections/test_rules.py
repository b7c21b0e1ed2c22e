"""Each by-election rule at its boundary, and its message citing the article."""

from __future__ import annotations

import datetime as dt

from villageaffairs.elections import rules


def test_turnout_exactly_half_fails_half_plus_one_passes() -> None:
    assert [f.rule for f in rules.turnout_valid(500, 1000)] == ["turnout_valid"]
    assert rules.turnout_valid(501, 1000) == []
    assert [f.rule for f in rules.turnout_valid(50, 101)] == ["turnout_valid"]
    assert rules.turnout_valid(51, 101) == []
    message = rules.turnout_valid(500, 1000)[0].message("zh-CN")
    assert "过半数" in message and "第15条" in message


def test_winner_needs_more_than_half_of_ballots_cast() -> None:
    assert not rules.elected_first_round(300, 600)
    assert rules.elected_first_round(301, 600)
    assert "第15条" in rules.not_elected("张三", 300, 600, 1).message("zh-CN")


def test_further_round_needs_a_third_of_ballots_cast() -> None:
    assert not rules.elected_further_round(199, 600)
    assert rules.elected_further_round(200, 600)
    assert not rules.elected_further_round(200, 601)


def test_more_candidates_than_seats() -> None:
    assert [f.rule for f in rules.more_candidates_than_seats("member", 1, 1)] == [
        "more_candidates_than_seats"
    ]
    assert rules.more_candidates_than_seats("member", 2, 1) == []
    assert "差额" in rules.more_candidates_than_seats("member", 2, 2)[0].message("zh-CN")


def test_voter_list_twenty_days_before() -> None:
    day = dt.date(2020, 5, 21)
    assert rules.voter_list_published_in_time(dt.date(2020, 5, 1), day) == []
    failures = rules.voter_list_published_in_time(dt.date(2020, 5, 2), day)
    assert [f.rule for f in failures] == ["voter_list_published_in_time"]
    assert "20" in failures[0].message("zh-CN") and "第14条" in failures[0].message("zh-CN")
    assert rules.voter_list_published_in_time(None, day)


def test_a_flag_bars_and_pending_blocks_the_joint_review() -> None:
    assert rules.candidate_not_flagged("李四", ["clear", "clear"]) == []
    barred = rules.candidate_not_flagged("李四", ["clear", "flagged"])
    assert [f.rule for f in barred] == ["candidate_not_flagged"]
    assert "联审" in barred[0].message("zh-CN")
    required = ["public_security", "court"]
    assert (
        rules.vetting_complete("李四", {"public_security": "clear", "court": "clear"}, required)
        == []
    )
    assert rules.vetting_complete("李四", {"public_security": "clear"}, required)
    assert rules.vetting_complete(
        "李四", {"public_security": "clear", "court": "pending"}, required
    )
    assert rules.method_allowed("villagers_meeting") == []
    assert rules.method_allowed("appointment")
