//! Each rule on small hand-made reports: a consistent report has no finding of that rule
//! (and no error at all); changing one number produces the finding at the changed line.

use nianbao_audit::audit;
use nianbao_core::{Finding, Severity};

const CONSISTENT: &str = include_str!("fixtures/consistent.txt");

/// The consistent report with one piece of text replaced.
fn mutate(from: &str, to: &str) -> String {
    assert!(CONSISTENT.contains(from), "fixture lacks {from}");
    CONSISTENT.replacen(from, to, 1)
}

/// The 1-based line of the first line containing `needle`.
fn line_of(text: &str, needle: &str) -> usize {
    text.lines()
        .position(|l| l.contains(needle))
        .map(|i| i + 1)
        .unwrap_or_else(|| panic!("no line has {needle}"))
}

fn lines(finding: &Finding) -> Vec<usize> {
    finding.locations.iter().filter_map(|l| l.line).collect()
}

/// The finding of `rule` that cites every line of `expected`.
fn find<'a>(findings: &'a [Finding], rule: &str, expected: &[usize]) -> &'a Finding {
    findings
        .iter()
        .find(|f| f.rule == rule && expected.iter().all(|l| lines(f).contains(l)))
        .unwrap_or_else(|| panic!("no {rule} finding at {expected:?} in {findings:#?}"))
}

fn assert_rule(from: &str, to: &str, rule: &str, severity: Severity, also: &[&str]) {
    let text = mutate(from, to);
    let findings = audit(&text);
    let mut expected = vec![line_of(&text, to.trim())];
    expected.extend(also.iter().map(|n| line_of(&text, n)));
    let finding = find(&findings, rule, &expected);
    assert_eq!(finding.severity, severity, "{finding:#?}");
    assert!(!finding.message.is_empty());
    assert!(
        finding
            .locations
            .iter()
            .all(|l| l.text.as_deref().is_some_and(|t| !t.is_empty()))
    );
}

#[test]
fn consistent_report_has_no_finding() {
    let findings = audit(CONSISTENT);
    assert!(findings.is_empty(), "{findings:#?}");
}

#[test]
fn total_against_parts() {
    assert_rule(
        "外聘120人",
        "外聘110人",
        "total-parts",
        Severity::Error,
        &[],
    );
}

#[test]
fn parts_exceeding_their_total() {
    assert_rule(
        "就业400人",
        "就业420人",
        "total-parts",
        Severity::Warning,
        &[],
    );
}

#[test]
fn table_total_row() {
    assert_rule(
        "计算机应用\t900\t1000",
        "计算机应用\t900\t1010",
        "table-total",
        Severity::Error,
        &["合计\t\t1700"],
    );
}

#[test]
fn shares_adding_to_more_than_a_whole() {
    assert_rule("其余20%", "其余25%", "share-sum", Severity::Error, &[]);
}

#[test]
fn share_recomputed_from_its_operands() {
    assert_rule(
        "高级30人，占比20%",
        "高级30人，占比25%",
        "share-recompute",
        Severity::Error,
        &[],
    );
}

#[test]
fn fraction_in_words() {
    assert_rule("四分之一", "三分之一", "fraction", Severity::Error, &[]);
}

#[test]
fn prose_against_table() {
    assert_rule(
        "初级60人，占比40%；中级60人",
        "初级60人，占比40%；中级65人",
        "prose-table",
        Severity::Error,
        &["2025年度\t320"],
    );
}

#[test]
fn same_fact_twice_in_prose() {
    assert_rule(
        "学校在籍学生约5000人",
        "学校在校生5200人",
        "same-fact",
        Severity::Warning,
        &["在校学生5000人"],
    );
}

#[test]
fn change_on_last_year() {
    assert_rule(
        "较上年增加100人",
        "较上年增加120人",
        "year-over-year",
        Severity::Error,
        &["合计\t\t1700"],
    );
}

#[test]
fn rate_against_its_counts() {
    assert_rule(
        "2025\t1600\t1200\t75%",
        "2025\t1600\t1200\t80%",
        "rate-counts",
        Severity::Error,
        &[],
    );
}

#[test]
fn per_student_figures_and_ratio() {
    assert_rule(
        "生均占地面积40m²",
        "生均占地面积45m²",
        "per-student",
        Severity::Error,
        &[],
    );
    assert_rule(
        "生师比20。",
        "生师比21。",
        "per-student",
        Severity::Error,
        &[],
    );
}

#[test]
fn graduates_outcomes() {
    assert_rule(
        "其中升学1200人，就业400人",
        "其中升学1200人，就业500人",
        "outcomes-exceed",
        Severity::Warning,
        &["2025\t1600\t1200"],
    );
}

#[test]
fn part_exceeding_whole() {
    assert_rule(
        "2025\t1600\t1200\t75%",
        "2025\t1100\t1200\t75%",
        "part-exceeds-whole",
        Severity::Error,
        &[],
    );
}

#[test]
fn lists_against_captions() {
    assert_rule(
        "图 1: 实训中心\t2",
        "图 1: 实训大楼\t2",
        "list-caption",
        Severity::Warning,
        &["图1：实训中心"],
    );
    let text = mutate("图 2: 运动会\t3\n", "");
    find(
        &audit(&text),
        "list-caption",
        &[line_of(&text, "图2：运动会")],
    );
    assert_rule(
        "图2：运动会",
        "图3：运动会",
        "caption-numbering",
        Severity::Warning,
        &[],
    );
}

#[test]
fn contents_against_headings() {
    assert_rule(
        "1.2 师资队伍\t2",
        "1.2 教师队伍\t2",
        "contents-heading",
        Severity::Warning,
        &["1.2 师资队伍"],
    );
    assert_rule(
        "\n2.1 招生与在校生\n",
        "\n2.2 招生与在校生\n",
        "heading-numbering",
        Severity::Warning,
        &[],
    );
}

#[test]
fn catalogue_editions() {
    assert_rule(
        "信息技术类\t计算机应用",
        "电子与信息大类\t计算机应用",
        "catalogue-edition",
        Severity::Warning,
        &["财经商贸类\t会计事务"],
    );
    assert_rule(
        "本地生源",
        "财经商贸类、加工制造类学生较多。本地生源",
        "category-table",
        Severity::Warning,
        &[],
    );
}

#[test]
fn category_shares_against_the_table() {
    let consistent = mutate(
        "较上年增加100人。",
        "较上年增加100人，财经商贸类、信息技术类学生占招生总数的100%。",
    );
    assert!(audit(&consistent).is_empty());
    assert_rule(
        "较上年增加100人。",
        "较上年增加100人，财经商贸类、信息技术类学生占招生总数的90%。",
        "category-share",
        Severity::Warning,
        &["合计\t\t1700"],
    );
}

#[test]
fn approximations_that_hold_are_not_findings() {
    for (from, to) in [
        ("学校在籍学生约5000人", "学校在籍学生4990余人"),
        ("学校在籍学生约5000人", "学校在籍学生超4900人"),
        ("学校在籍学生约5000人", "学校在籍学生5000人以上"),
    ] {
        let findings = audit(&mutate(from, to));
        assert!(findings.is_empty(), "{to}: {findings:#?}");
    }
    let findings = audit(&mutate("学校在籍学生约5000人", "学校在籍学生5200余人"));
    assert!(
        findings.iter().all(|f| f.severity != Severity::Error),
        "{findings:#?}"
    );
}

#[test]
fn sentences_broken_across_lines_cite_every_line() {
    let text = mutate(
        "其中在编教职工200人，外聘120人。",
        "其中在编教职工200人，外\n\n\n聘110人。",
    );
    let findings = audit(&text);
    let first = line_of(&text, "教职工共320人");
    let second = line_of(&text, "聘110人");
    find(&findings, "total-parts", &[first, second]);
}

/// A report laid out as Word and web pages give it: contents, figure, case and table lists
/// whose page numbers are not filled in (each entry repeats a heading or caption of the
/// body), a scorecard of named totals, data notes in quotation marks.
const UNPAGED: &str = include_str!("fixtures/unpaged-lists.txt");

/// A report as pdftotext gives it: lines broken at the text width, page numbers between
/// blank lines, list entries with dot leaders (some without their page number), chart labels
/// and table cells one per line.
const PDF_TEXT: &str = include_str!("fixtures/pdf-text.txt");

/// `text` with one piece replaced, and the finding of `rule` it must produce at the lines
/// holding `at`.
fn assert_mutation(text: &str, from: &str, to: &str, rule: &str, severity: Severity, at: &[&str]) {
    assert!(text.contains(from), "fixture lacks {from}");
    let changed = text.replacen(from, to, 1);
    let findings = audit(&changed);
    let expected: Vec<usize> = at.iter().map(|n| line_of(&changed, n)).collect();
    let finding = find(&findings, rule, &expected);
    assert_eq!(finding.severity, severity, "{finding:#?}");
}

#[test]
fn lists_without_page_numbers_are_lists() {
    let findings = audit(UNPAGED);
    assert!(findings.is_empty(), "{findings:#?}");
    assert_mutation(
        UNPAGED,
        "图 1：实训中心",
        "图 1：实训大楼",
        "list-caption",
        Severity::Warning,
        &["图 1：实训大楼", "图 1：实训中心"],
    );
    assert_mutation(
        UNPAGED,
        "1.2 师资队伍\n2. 学生发展",
        "2. 学生发展",
        "contents-heading",
        Severity::Warning,
        &["1.2 师资队伍"],
    );
    assert_mutation(
        UNPAGED,
        "专业课教师占专任教师的60.0%",
        "专业课教师占专任教师的62.0%",
        "share-recompute",
        Severity::Error,
        &["专业课教师占专任教师的62.0%"],
    );
    assert_mutation(
        UNPAGED,
        "外地生源占20.0%",
        "外地生源占25.0%",
        "share-sum",
        Severity::Error,
        &["外地生源占25.0%"],
    );
    assert_mutation(
        UNPAGED,
        "生均20m²",
        "生均25m²",
        "per-student",
        Severity::Error,
        &["生均25m²"],
    );
}

#[test]
fn pdf_text_is_read_across_page_breaks_without_gluing_pieces() {
    let findings = audit(PDF_TEXT);
    assert!(findings.is_empty(), "{findings:#?}");
    // The share on page 2 is recomputed from the total on page 1.
    assert_mutation(
        PDF_TEXT,
        "占专任教师的 60.0%",
        "占专任教师的 62.0%",
        "share-recompute",
        Severity::Error,
        &["占专任教师的 62.0%", "专任教师 250 人，"],
    );
    assert_mutation(
        PDF_TEXT,
        "生均 20.00 平方米",
        "生均 25.00 平方米",
        "per-student",
        Severity::Error,
        &["生均 25.00 平方米"],
    );
}

#[test]
fn changes_recomputed_from_the_figures_of_their_sentence() {
    let text = "2024年全日制在校生 3,600 人，较上年的 3,450 人增长 5.3%。\n\
                财政拨款5962万元，比2023年的5480万元多428万元。\n\
                双证书获取率达 96.8%，较上年提高 1.3 个百分点（上年为 95.5%）。\n\
                在校生由 1,000 人增至 1,100 人，增幅 10.0%。\n";
    let findings: Vec<_> = audit(text)
        .into_iter()
        .filter(|f| f.rule == "change-recompute")
        .collect();
    let on = |line: usize| {
        findings
            .iter()
            .any(|f| f.locations.iter().any(|l| l.line == Some(line)))
    };
    assert!(on(1) && on(2), "{findings:#?}");
    assert!(!on(3) && !on(4), "{findings:#?}");
    assert!(findings.iter().all(|f| f.severity == Severity::Error));
    assert!(findings[0].message.contains("4.3%"), "{findings:#?}");
}

#[test]
fn share_columns_against_their_counts_and_total() {
    let table = |share: &str, last: &str| {
        format!(
            "表1 各专业在校生\n专业\t人数\t占比\n甲\t300\t{share}\n乙\t500\t50.0%\n丙\t200\t{last}\n合计\t1000\t100.0%\n"
        )
    };
    let clean = audit(&table("30.0%", "20.0%"));
    assert!(clean.iter().all(|f| f.rule != "table-share"), "{clean:#?}");
    let wrong = audit(&table("33.0%", "20.0%"));
    let found: Vec<&Finding> = wrong.iter().filter(|f| f.rule == "table-share").collect();
    assert_eq!(found.len(), 1, "{wrong:#?}");
    assert_eq!(found[0].severity, Severity::Error);
    assert!(found[0].message.contains("300 / 合计 1000"), "{found:#?}");
    assert!(found[0].locations.iter().any(|l| l.line == Some(3)));
    // Rounded shares may add up to 100.1%; never to 101%.
    let rounded = "专业\t人数\t占比\n甲\t1\t33.3%\n乙\t1\t33.3%\n丙\t1\t33.3%\n";
    assert!(audit(rounded).iter().all(|f| f.rule != "table-share"));
}

#[test]
fn breakdowns_introduced_without_its_total_in_the_clause() {
    let cases = [
        // "由 … 组成": all the parts.
        (
            "学校现有教职员工198人，由在编教师171人和编外聘用人员29人组成。",
            1,
        ),
        // Within a population named before: "X中，…", levels of one dimension.
        (
            "专任教师 240 人。\n专任教师中研究生学历 36 人，本科学历 189 人，专科学历 6 人。",
            2,
        ),
        (
            "在 240 名专任教师中，高级职称 62 人、中级职称 114 人、初级职称 58 人、未定级 16 人。",
            1,
        ),
        // "从…看": the whole by one dimension, its total in the sentence before.
        (
            "2024 届毕业生 768 人。从去向看，升学 521 人，就业 229 人，其他 28 人。",
            1,
        ),
        // "其中，" as a clause of its own.
        (
            "毕业生共计912人。其中，升入高职院校的586人，直接就业的297人，其余28人暂未落实。",
            1,
        ),
    ];
    for (text, line) in cases {
        let findings = audit(text);
        assert!(
            findings.iter().any(|f| f.rule == "total-parts"
                && f.severity == Severity::Error
                && f.locations.iter().any(|l| l.line == Some(line))),
            "{text}: {findings:#?}"
        );
    }
    // A list of distinctions inside a total is not a partition of it.
    let partial = "开设专业 22 个，其中国家级示范专业 5 个、市级重点专业 2 个、市级骨干专业 3 个。";
    assert!(audit(partial).is_empty(), "{:#?}", audit(partial));
}

#[test]
fn rates_recomputed_from_the_counts_they_name() {
    // The count the rate names and its base in the sentence: an error.
    let text = "今年录取新生 3,980 人，新生报到 3,812 人，报到率为 98.5%。";
    let found: Vec<Finding> = audit(text)
        .into_iter()
        .filter(|f| f.rule == "rate-recompute")
        .collect();
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!(found[0].severity, Severity::Error);
    assert!(found[0].message.contains("95.8%"), "{found:#?}");
    // A sub-rate of a named population is taken of that population, not of all graduates.
    let text = "毕业生 1,105 人，直接就业 371 人。就业学生中对口就业 298 人，对口就业率 80.3%。";
    assert!(
        audit(text).iter().all(|f| f.severity != Severity::Error),
        "{:#?}",
        audit(text)
    );
    // Several possible bases and a rate stated away from its count: nothing is claimed.
    let text = "升学 2887 人，其中统招 2265 人，本科上线 413 人，全市本科上线率为 6.04%，我校本科上线率为 32.4%。";
    assert!(
        audit(text).iter().all(|f| f.rule != "rate-recompute"),
        "{:#?}",
        audit(text)
    );
}

#[test]
fn per_student_figures_of_any_amount() {
    let prose = "2024 年全日制在校生 3,600 人。\n学校总收入 9,860 万元，其中财政拨款 8,420 万元，其他收入 1,440 万元。\n生均财政拨款 2.43 万元。\n";
    let found: Vec<Finding> = audit(prose)
        .into_iter()
        .filter(|f| f.rule == "per-student")
        .collect();
    assert_eq!(found.len(), 1, "{found:#?}");
    assert!(found[0].message.contains("2.34"), "{found:#?}");
    assert!(
        audit(&prose.replace("2.43", "2.34"))
            .iter()
            .all(|f| f.rule != "per-student")
    );
    // From a table of incomes in 万元.
    let table = "2025年质量报告\n在校生 3,025 人。\n表1 收入构成\n收入项目\t金额（万元）\n财政经常性补助\t5,480\n事业收入\t420\n合计\t5,900\n\n生均财政经常性补助 1.88 万元。\n";
    let found: Vec<Finding> = audit(table)
        .into_iter()
        .filter(|f| f.rule == "per-student")
        .collect();
    assert_eq!(found.len(), 1, "{found:#?}");
    assert!(found[0].message.contains("1.81"), "{found:#?}");
}

#[test]
fn average_class_size_against_students_and_classes() {
    let report = |size: &str| {
        format!(
            "某职业学校2024年质量年度报告\n\n一、学校概况\n本校现有在校学生1,260人，教学班30个，平均班额{size}人。\n"
        )
    };
    let clean = audit(&report("42"));
    assert!(
        clean.iter().all(|f| f.rule != "class-size"),
        "1260 / 30 = 42: {clean:#?}"
    );
    let wrong = audit(&report("45"));
    let finding = find(&wrong, "class-size", &[4]);
    assert_eq!(finding.severity, Severity::Error);
    assert!(finding.message.contains("= 42"), "{}", finding.message);
    // Rounded as written: 1,260 / 29 = 43.4 is 43.
    let rounded = audit(&report("43").replace("教学班30个", "教学班29个"));
    assert!(
        rounded.iter().all(|f| f.rule != "class-size"),
        "{rounded:#?}"
    );
}

#[test]
fn a_figure_in_prose_against_the_table_row_it_names() {
    let report = |figure: &str| {
        format!(
            "某职业学校2024年质量年度报告\n\n一、招生与在校生\n表1 各专业大类在校生情况\n| 专业大类 | 一年级 | 二年级 | 合计 |\n|---|---|---|---|\n| 装备制造大类 | 420 | 398 | 818 |\n| 财经商贸大类 | 300 | 287 | 587 |\n| 合计 | 720 | 685 | 1,405 |\n\n装备制造大类在校生规模最大，达 {figure} 人，二年级 398 人。\n"
        )
    };
    let clean = audit(&report("818"));
    assert!(
        clean.iter().all(|f| f.rule != "prose-table-row"),
        "{clean:#?}"
    );
    let text = report("881");
    let findings = audit(&text);
    let finding = find(
        &findings,
        "prose-table-row",
        &[
            line_of(&text, "达 881 人"),
            line_of(&text, "| 装备制造大类"),
        ],
    );
    assert_eq!(finding.severity, Severity::Error);
    assert!(finding.message.contains("818"), "{}", finding.message);
    // The column the words name: 二年级 398 agrees.
    assert!(
        findings
            .iter()
            .filter(|f| f.rule == "prose-table-row")
            .count()
            == 1,
        "{findings:#?}"
    );
}

#[test]
fn a_dimension_named_after_the_total_in_one_sentence() {
    let report = |middle: &str| {
        format!(
            "某职业学校2024年质量年度报告\n\n一、师资\n专任教师165人，按职称划分，正高级2人，副高级49人，中级{middle}人，初级43人。\n"
        )
    };
    let clean = audit(&report("71"));
    assert!(
        clean.iter().all(|f| f.severity != Severity::Error),
        "{clean:#?}"
    );
    let wrong = audit(&report("77"));
    assert!(
        wrong
            .iter()
            .any(|f| f.severity == Severity::Error && f.message.contains("165")),
        "{wrong:#?}"
    );
}
