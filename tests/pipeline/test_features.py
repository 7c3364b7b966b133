"""Surface facts and evidence tags of statements."""
from contradict.pipeline.features import changed_figure, evidence_kinds, facts


def test_evidence_kinds():
    single = facts("Dmitri Peskov a spus că a avut loc o singură discuție, înainte de 2022.")
    regular = facts("Cei doi au păstrat legătura regulat începând cu anul 2022.")
    kinds = evidence_kinds(single, regular, "Dmitri Peskov", "The Wall Street Journal")
    assert {"date", "quantity", "different-sources"} <= set(kinds)
    assert "negation" in evidence_kinds(facts("The plant will not close."), facts("The plant will close."), None, None)
    assert "number" in evidence_kinds(facts("It cost 85 million."), facts("It cost 40 million."), None, None)
    assert evidence_kinds(facts("It cost 85 million."), facts("It cost 85 million."), "Peskov", "Dmitri Peskov") == []


def test_numbers_are_normalised():
    assert facts("1.200 de lei").numbers == facts("1200 de lei").numbers
    assert facts("2,1 miliarde").numbers == {"2.1"}


def test_changed_figure_is_one_figure_changed_in_the_same_words():

    base = "Compania Solaris va angaja 1200 de oameni la Iași până în 2019."
    assert changed_figure(facts(base), facts(base.replace("2019", "2017")))  # another year
    assert changed_figure(facts(base), facts(base.replace("1200", "120")))  # another number
    assert not changed_figure(facts(base), facts(base.replace("1200", "120").replace("2019", "2020")))  # series
    assert not changed_figure(facts(base), facts(base.replace("Iași", "Cluj").replace("1200", "120")))  # elsewhere
    assert not changed_figure(facts(base), facts("Compania Solaris a raportat la Iași un profit de 120 de "
                                                 "milioane de lei în 2019."))  # other words
    assert not changed_figure(facts(base), facts(base))


def test_words_keep_their_combining_marks():
    # Devanagari vowel signs are marks: a \w tokenizer cuts "सरकार" into single letters and finds no overlap
    a = facts("सरकार ने कहा कि योजना जारी रहेगी")
    b = facts("सरकार ने योजना रद्द कर दी")
    assert {"सरकार", "योजना"} <= a.words & b.words
    assert facts("योजना नहीं बदली").negations == 1 and facts("योजना बदली").negations == 0


def test_unspaced_scripts_overlap_by_character_pairs():
    a = facts("政府表示计划没有改变。")
    b = facts("政府宣布计划已经改变。")
    assert {"政府", "计划", "改变"} <= a.words & b.words
    assert not facts("今天天气很好。").words & facts("股市下跌了。").words
    assert "negation" in evidence_kinds(a, b, None, None)


def test_hyphenated_names_are_separate_words():
    assert {"musk", "putin"} <= facts("Convorbirile Musk-Putin au continuat.").words


def test_a_short_unspaced_run_never_leaves_a_clause_behind():
    assert facts("中x中国人民万岁").words == {"中国", "国人", "人民", "民万", "万岁"}


def test_negation_cues_not_words_that_contain_them():
    assert facts("公司未来将扩大生产。").negations == 0 and facts("公司没有扩大生产。").negations == 1
    assert facts("They didn’t sign.").negations == 1  # a typographic apostrophe
    assert facts("BU DOĞRU DEĞİL.").negations == 1  # lower-casing İ leaves a combining dot
