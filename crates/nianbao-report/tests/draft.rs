//! Whatever a school's data holds, the report tells the truth about its own state: it
//! never prints the old filler sentence claiming work nobody reported, every required part
//! without text shows a visible gap, a draft is marked 草稿 in every format, and a report is
//! built (with gaps) rather than refused when a bound fact has no value.

use nianbao_core::Definitions;
use nianbao_report::model::{Block, GapKind, walk};
use nianbao_report::{Content, EMPTY_PART, Status};
use proptest::prelude::*;

/// The sentences the generic template used to print for any section without text.
const FILLER: [&str; 2] = ["开展了相应工作", "暂无单独采集的统计数据"];

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn any_dataset_gives_a_truthful_draft(data in nianbao_core::arbitrary::dataset(&Definitions::builtin().unwrap())) {
        let definitions = Definitions::builtin().unwrap();
        let year = data.school.report_year;
        prop_assume!(data.years().contains(&year));
        let generated = nianbao_report::generate(
            &definitions, &data, year, &[], &Content::generic(), Status::Draft,
        ).expect("a report is built for any data, with gaps where data is missing");
        let document = &generated.document;
        let html = nianbao_report::html::render(document);
        for filler in FILLER {
            prop_assert!(!html.contains(filler), "filler sentence printed: {}", filler);
        }
        prop_assert!(html.contains("class=\"draft-mark\""));
        let mut boxes = 0;
        walk(&document.blocks, &mut |block| {
            if let Block::Gap(_) = block {
                boxes += 1;
            }
        });
        prop_assert_eq!(boxes, document.gaps.len(), "every recorded gap is printed");
        // With no school text at all, every section the school writes itself is a gap.
        let empty = document.gaps.iter().filter(|g| g.kind == GapKind::Empty).count();
        prop_assert!(empty > 20, "{} empty parts", empty);
        prop_assert!(html.contains(EMPTY_PART));
        let docx = nianbao_report::docx::render(document).expect("docx");
        prop_assert!(docx.len() > 1000);
    }
}
