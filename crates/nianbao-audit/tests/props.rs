//! Arbitrary text never makes the reader or the audit panic, nor does an arbitrary web page.

use proptest::prelude::*;

/// The number of cases: `PROPTEST_CASES` when set (for long runs), else `default`.
fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn report_like() -> impl Strategy<Value = String> {
    let pieces = prop::sample::select(vec![
        "其中",
        "合计",
        "占比",
        "%",
        "％",
        "人",
        "余",
        "约",
        "超",
        "以上",
        "万元",
        "m²",
        "生均",
        "生师比",
        "同比上一年减少",
        "较上年增加",
        "九分之一",
        "占总数的",
        "其余",
        "年度",
        "2024年",
        "2025",
        "\t",
        "\n",
        "\n\n",
        "，",
        "。",
        "；",
        "：",
        "、",
        "图3：",
        "表 1：",
        "典型案例2：",
        "1.4",
        "1.",
        " ",
        "0",
        "7",
        "12",
        "3.5",
        "-",
        "—",
        "“",
        "”",
        "《",
        "》",
        "教职工总数",
        "在校生",
        "毕业生",
        "升学率",
        "双师",
        "初级",
        "类",
        "大类",
        "财经商贸类",
        "装备制造大类",
        "目录",
        "图目录",
        "\u{3000}",
        "１２",
        ",",
        "000",
        ".",
        "１",
        "两",
        "十",
    ]);
    prop::collection::vec(
        prop_oneof![
            pieces.prop_map(str::to_string),
            any::<char>().prop_map(|c| c.to_string()),
            "[\\PC]{0,4}"
        ],
        0..120,
    )
    .prop_map(|parts| parts.concat())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(512), ..ProptestConfig::default() })]

    #[test]
    fn audit_never_panics(text in report_like()) {
        let findings = nianbao_audit::audit(&text);
        let lines = text.split('\n').count().max(1) + text.matches('\r').count() + text.matches('\u{c}').count();
        for finding in &findings {
            for location in &finding.locations {
                let line = location.line.unwrap_or(0);
                prop_assert!(line >= 1 && line <= lines);
            }
        }
        let _ = nianbao_audit::render_human(&findings, &text);
        let _ = nianbao_audit::render_json(&findings);
    }
}

fn page_like() -> impl Strategy<Value = String> {
    let pieces = prop::sample::select(vec![
        "<table>",
        "</table>",
        "<tr>",
        "</tr>",
        "<td>",
        "</td>",
        "<th rowspan=\"3\">",
        "<td colspan=\"100000\">",
        "<td rowspan=\"0\">",
        "<caption>",
        "</caption>",
        "<thead>",
        "<tbody>",
        "<p>",
        "</p>",
        "<br>",
        "<li>",
        "<nav>",
        "<svg><text>",
        "</svg>",
        "<style>",
        "</style>",
        "<h2>",
        "</h2>",
        "&nbsp;",
        "&amp;",
        "&#x4E2D;",
        "合计",
        "目录",
        "图 1：",
        "1.4 ",
        "2025年度",
        "639人",
        "\t",
        "\n",
        " ",
    ]);
    prop::collection::vec(
        prop_oneof![pieces.prop_map(str::to_string), "[\\PC]{0,4}"],
        0..120,
    )
    .prop_map(|parts| parts.concat())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(256), ..ProptestConfig::default() })]

    #[test]
    fn web_pages_never_panic(page in page_like()) {
        // Random pages nest a few levels at most: always within the bound.
        let text = nianbao_audit::html::html_text(&page);
        prop_assert!(text.is_ok());
        let text = text.unwrap_or_default();
        prop_assert!(text.ends_with('\n'));
        let _ = nianbao_audit::audit(&text);
    }
}
