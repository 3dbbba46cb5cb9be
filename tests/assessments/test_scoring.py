"""The formula on its own: answers to 0–100, questions to dimensions to
totals, classes to the composite, ranks and flags."""

import pytest

from assessments import scoring
from assessments.scoring import DimensionSpec, Formula, QuestionSpec

LIKERT = QuestionSpec(id=1, code="a", dimension="d1", kind="likert", weight=1)
MEETINGS = QuestionSpec(
    id=2,
    code="b",
    dimension="d1",
    kind="count",
    weight=3,
    direction="lower",
    scale_max=6,
)
CHOICE = QuestionSpec(
    id=3,
    code="c",
    dimension="d2",
    kind="single",
    weight=1,
    option_scores=(100.0, 50.0, None),
)
SEVERAL = QuestionSpec(id=4, code="e", dimension="d2", kind="multiple", weight=0)
FORMULA = Formula(
    dimensions=(DimensionSpec("d1", 3), DimensionSpec("d2", 1)),
    questions=(LIKERT, MEETINGS, CHOICE, SEVERAL),
    class_weights={"community": 0.7, "street": 0.3},
    min_responses=3,
)


@pytest.mark.parametrize(
    ("question", "value", "score"),
    [
        (LIKERT, 1, 0),
        (LIKERT, 3, 50),
        (LIKERT, 5, 100),
        (QuestionSpec(9, "x", "d", "likert", 1, direction="lower"), 5, 0),
        (QuestionSpec(9, "x", "d", "yes_no", 1), 1, 100),
        (QuestionSpec(9, "x", "d", "yes_no", 1, direction="lower"), 1, 0),
        (MEETINGS, 0, 100),
        (MEETINGS, 3, 50),
        (MEETINGS, 6, 0),
        (MEETINGS, 40, 0),
        (QuestionSpec(9, "x", "d", "count", 1, scale_max=4), 2, 50),
        (CHOICE, 2, 50),
        (CHOICE, 3, None),
        (SEVERAL, 3, None),
    ],
)
def test_each_answer_becomes_zero_to_one_hundred(question, value, score):
    assert scoring.answer_score(question, value) == score


def test_question_scores_are_the_mean_of_answer_scores_not_of_the_mean_answer():
    # Two units attended 0 meetings, one attended 12: clipped at the scale,
    # that one scores 0, so the mean score is 66.7, not the score of 4.
    figures = scoring.question_figures(MEETINGS, {0: 2, 12: 1}, min_responses=3)
    assert figures.answered == 3
    assert figures.mean == 4
    assert figures.score == pytest.approx(200 / 3)
    assert figures.distribution == {0: 2, 12: 1}


def test_too_few_answers_give_no_figures_at_all():
    figures = scoring.question_figures(LIKERT, {5: 2}, min_responses=3)
    assert (figures.answered, figures.mean, figures.score, figures.distribution) == (
        2,
        None,
        None,
        {},
    )


def test_several_choices_are_counted_per_option():
    # Bits: option 1 and 3 (0b101) twice, option 2 (0b010) once.
    figures = scoring.question_figures(SEVERAL, {0b101: 2, 0b010: 1}, min_responses=3)
    assert figures.distribution == {1: 2, 2: 1, 3: 2}
    assert figures.score is None


def test_dimensions_weigh_questions_and_the_total_weighs_dimensions():
    counts = {1: {5: 4}, 2: {3: 4}, 3: {1: 2, 2: 2}}
    scores = scoring.class_scores(FORMULA, 4, counts)
    # d1: (100 × 1 + 50 × 3) / 4; d2: 75; total (62.5 × 3 + 75 × 1) / 4.
    assert scores.dimensions == {"d1": 62.5, "d2": 75.0}
    assert scores.total == pytest.approx(65.625)


def test_a_question_too_few_answered_takes_no_part_in_its_dimension():
    # Only two units answered the count question: d1 is the scale alone.
    counts = {1: {5: 4}, 2: {0: 2}, 3: {1: 4}}
    scores = scoring.class_scores(FORMULA, 4, counts)
    assert scores.questions[2].score is None
    assert scores.dimensions["d1"] == 100


def test_the_composite_weighs_the_classes_seven_to_three():
    result = scoring.department_scores(
        FORMULA,
        {"community": 10, "street": 3},
        {
            "community": {1: {5: 10}, 2: {0: 10}, 3: {1: 10}},
            "street": {1: {1: 3}, 2: {6: 3}, 3: {2: 3}},
        },
    )
    assert result.classes["community"].total == 100
    assert result.classes["street"].total == pytest.approx(12.5)
    assert result.total == pytest.approx(0.7 * 100 + 0.3 * 12.5)
    assert result.dimensions["d2"] == pytest.approx(0.7 * 100 + 0.3 * 50)


def test_a_class_with_too_few_answers_leaves_the_composite_to_the_others():
    result = scoring.department_scores(
        FORMULA,
        {"community": 10, "street": 2},
        {"community": {1: {5: 10}, 2: {0: 10}, 3: {1: 10}}, "street": {1: {1: 2}}},
    )
    assert result.classes["street"].total is None
    assert result.total == 100


def test_no_class_with_enough_answers_means_no_total():
    result = scoring.department_scores(FORMULA, {"community": 2}, {})
    assert result.total is None and result.dimensions == {}


def test_equal_totals_share_a_rank_and_the_unscored_are_unranked():
    ranks = scoring.competition_ranks({1: 90.0, 2: 85.0, 3: 85.001, 4: 70.0, 5: None})
    assert ranks == {1: 1, 2: 2, 3: 2, 4: 4}


def test_a_dimension_far_below_the_others_is_flagged():
    dimensions = {n: {"d1": 80.0 + n, "d2": 70.0} for n in range(6)}
    dimensions[9] = {"d1": 30.0, "d2": 70.0}
    assert scoring.low_dimension_outliers(dimensions) == {9: ["d1"]}
    # Too few departments to call anything an outlier.
    assert scoring.low_dimension_outliers({1: {"d1": 90.0}, 2: {"d1": 10.0}}) == {}


def test_options_are_read_with_their_scores():
    assert scoring.parse_options("当天|100\n一周内| 40\n\n其他") == [
        ("当天", 100.0),
        ("一周内", 40.0),
        ("其他", None),
    ]
    with pytest.raises(ValueError):
        scoring.parse_options("太多|120")
